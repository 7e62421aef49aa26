"""The sale counter's "Open drawer": open the cash drawer without a sale, saying why (a reason
from a short list, and a note). The store journals it first (``POST /v1/drawer``,
``drawer.opened``); only then does the till kick the drawer through its printer queue (a till
without a printer says so: the drawer opens with its key). The anomaly rule ``no_sale_drawer``
judges each cashier's openings against the others'."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from analytics.flag_words import DRAWER_REASONS
from kiosk.client import new_id
from kiosk.i18n import T, _
from kiosk.screens.dialogs import _Dialog
from kiosk.widgets import TOUCH_PX

__all__ = ["DrawerDialog", "ask_drawer", "send_drawer"]


class DrawerDialog(_Dialog):
    """Why the drawer is opened: one reason (finger-sized choices) and an optional note (needed
    for "something else")."""

    def __init__(self, app: Any) -> None:
        super().__init__(app, _("Open drawer"), _("Why is the drawer opened without a sale?"))
        self.reason = ttk.StringVar(value="")
        self.choices: dict[str, ttk.Radiobutton] = {}
        for key, label in DRAWER_REASONS.items():
            b = ttk.Radiobutton(
                self.pane,
                text=T(label),
                value=key,
                variable=self.reason,
                bootstyle="info-outline-toolbutton",
                takefocus=False,
            )
            b.pack(fill="x", pady=2, ipady=max(0, (TOUCH_PX - 30) // 2))
            self.choices[key] = b
        self.note = self.row(_("Note"), width=32)
        self.buttons(_("Open drawer"), self.submit)
        self.place_on_screen()

    def submit(self) -> None:
        reason, note = self.reason.get(), self.note.get().strip()
        if not reason:
            self.show_error(_("Choose why the drawer is opened."))
            return
        if reason == "other" and not note:
            self.show_error(_("Write a few words saying why the drawer is opened."))
            return
        self.cancel()
        send_drawer(self.app, reason, note)


def ask_drawer(app: Any) -> None:
    app.open_dialog(DrawerDialog(app))


def send_drawer(app: Any, reason: str, note: str) -> None:
    """Journal the opening at the store (same id on retry), then kick the drawer."""
    body = {"id": new_id(), "reason": reason, "note": note}

    def ok(_res: Any) -> None:
        q = getattr(app, "print_queue", None)
        if q is None:
            app.notify(
                _("Opening recorded. This till has no printer: open the drawer with its key.")
            )
            return
        q.open_drawer()
        app.notify(_("Drawer opened."), error=False)

    app.worker.change(lambda: app.api.post("/v1/drawer", body), ok, app.fail, "drawer")
