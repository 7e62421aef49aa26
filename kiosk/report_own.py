"""A cashier's own report, from the sale counter ("My report" in the header): their sales,
refunds, voids and tenders today, laid out like the manager's reports, printable and saved as
PDF. The store answers only for the signed-in cashier (``reports.own``; another's needs
``reports.view``)."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import T, _, shown
from kiosk.report_doc import build_doc
from kiosk.report_view import ReportView, report_actions
from kiosk.widgets import TOUCH_PX

__all__ = ["OwnReport", "open_own_report"]


class OwnReport(ttk.Toplevel):
    def __init__(self, app: Any) -> None:
        super().__init__(title=shown(_("My report")), transient=app)
        self.app = app
        w, h = app.winfo_width(), app.winfo_height()
        self.geometry(
            f"{max(600, w - 80)}x{max(400, h - 80)}+{app.winfo_rootx() + 40}+"
            f"{app.winfo_rooty() + 40}"
        )
        bar = ttk.Frame(self, padding=8)
        bar.pack(side="top", fill="x")
        self.close_button = ttk.Button(
            bar, text=T("Close"), bootstyle="light", takefocus=False, command=self.cancel
        )
        self.close_button.pack(side=app.side("right"), padx=4, ipady=(TOUCH_PX - 36) // 2)
        self.view = ReportView(self, app)
        self.actions = report_actions(bar, app, self.view)
        self.view.pack(fill="both", expand=True, padx=8, pady=(0, 8))
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bind("<Escape>", lambda e: self.cancel())

    def load(self) -> None:
        def ok(data: Any) -> None:
            if self.winfo_exists():
                self.view.show(
                    build_doc(
                        data if isinstance(data, dict) else {}, "cashier", "own", self.app.currency
                    )
                )

        self.app.worker.read(
            lambda: self.app.api.get("/v1/reports/cashier"), ok, self.app.fail, "report"
        )

    def cancel(self) -> None:
        if self.app.dialog is self:
            self.app.dialog = None
        self.destroy()


def open_own_report(app: Any) -> OwnReport:
    win = OwnReport(app)
    app.open_dialog(win)
    win.load()
    return win
