"""The manager counter's reports tab: X/Z reports of this till or the store laid out with
translated labels (``kiosk.report_doc``, ``kiosk.report_view``), their warnings, print and PDF,
and how far the upload to HQ is. Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import N_, T, _, shown
from kiosk.report_doc import build_doc, report_warning
from kiosk.report_view import ReportView, report_actions

__all__ = ["ReportsTab", "report_warning", "upload_text"]


UPLOAD_ERRORS = {
    "HQ unreachable": N_("HQ unreachable"),
    "slow line": N_("slow line"),
    "answer lost": N_("answer lost"),
    "connection cut": N_("connection cut"),
    "refused": N_("refused"),
}


def upload_text(up: dict) -> str:
    """One line for the manager: how far the upload to HQ is (the store's health report)."""
    if not up.get("configured"):
        return _("Upload: not linked to HQ")
    n = up.get("backlog_events") or 0
    text = _("Upload: {n} events waiting").format(n=n) if n else _("Upload: up to date")
    if n and up.get("rate_events_s"):
        text += " · " + _("{rate} events/s, about {minutes} min left").format(
            rate=round(up["rate_events_s"]), minutes=max(1, round((up.get("eta_s") or 0) / 60))
        )
    if n and up.get("in_flight"):
        text += " · " + _("sending {events} events").format(events=up["in_flight"]["events"])
    if up.get("last_error"):
        kind = up.get("last_error_kind")
        text += " · " + _("last error: {error}").format(
            error=_(UPLOAD_ERRORS[kind]) if kind in UPLOAD_ERRORS else up["last_error"]
        )
    return text


class ReportsTab(ttk.Frame):
    """The reports tab's widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    reports_tab: ttk.Frame

    # ---------------------------------------------------------------- reports
    def _reports(self) -> None:
        app, f = self.app, self.reports_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.report_buttons = {}
        for key, label, kind, scope in (
            ("x_till", T("X report: this till"), "x", "till"),
            ("x_store", T("X report: store"), "x", "store"),
            ("z_till", T("Z report: this till"), "z", "till"),
            ("z_store", T("Z report: store"), "z", "store"),
        ):
            b = ttk.Button(
                row,
                text=label,
                bootstyle="info",
                takefocus=False,
                command=lambda k=kind, s=scope: self.load_report(k, s),
            )
            b.pack(side=app.side("left"), padx=4, ipady=10)
            self.report_buttons[key] = b
        self.upload_label = ttk.Label(f, text="")
        self.upload_label.pack(side="bottom", anchor=app.text_anchor, pady=(6, 0))
        self.report_view = ReportView(f, app)
        self.report_view.pack(fill="both", expand=True, pady=(6, 0))
        self.report_actions = report_actions(row, app, self.report_view)
        self.load_upload()

    def load_upload(self) -> None:
        """The upload to HQ, from the store's health report, every 10 s while this screen lives."""

        def ok(health: dict) -> None:
            if self.winfo_exists():
                self.upload_label.configure(text=shown(upload_text(health.get("upload") or {})))

        if self.winfo_exists():
            self.app.worker.read(self.app.api.health, ok, lambda exc: None, "health")
            self.after(10_000, self.load_upload)

    def load_report(self, kind: str, scope: str) -> None:
        def ok(data: Any) -> None:
            if self.winfo_exists():
                self.show_report(data, kind, scope)

        self.app.worker.read(lambda: self.app.api.report(kind, scope), ok, self.app.fail, "report")

    def show_report(self, data: Any, kind: str = "z", scope: str = "till") -> None:
        """Lay ``data`` out (``kiosk.report_doc``) and show it; the tab with it comes forward."""
        doc = build_doc(data if isinstance(data, dict) else {}, kind, scope, self.app.currency)
        self.report_view.show(doc)
