"""The member desk's dialogs: a member's details (register or edit, with the marketing consent a
required yes/no choice) and a wallet top-up (cash, or card with the terminal's reference).

Each dialog sends its change through the till's worker with a command id chosen when it opened
(a retry after a lost answer journals nothing twice) and closes only when the store accepted it;
a refusal is shown in the dialog in the staff member's words."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from domain.error_codes.desk import Desk
from domain.errors import KassaError
from domain.money import to_minor
from kiosk.client import new_id
from kiosk.errors import code_text
from kiosk.i18n import _, shown
from kiosk.screens.dialogs import _Dialog

__all__ = ["MemberForm", "TopUpDialog"]

PAD = (16, 12)  # a toolbutton this padded is ≥ 48 px tall


class _Sending(_Dialog):
    """A dialog whose OK sends one change (``send()``) and closes on the store's yes."""

    def fit_error(self) -> None:
        """The error line wraps inside the dialog's width (laid out before any error shows)."""
        self.update_idletasks()
        self.error.configure(wraplength=max(200, self.winfo_reqwidth() - 48))

    def show_error(self, exc_or_text: Any) -> None:
        super().show_error(exc_or_text)
        if self.winfo_exists():
            self.place_on_screen()  # taller by the error's lines: the buttons stay on screen

    def send(self, call: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.ok_button.configure(state="disabled")
        self.show_error("")

        def ok(res: Any) -> None:
            if self.winfo_exists():
                self.cancel()
            done(res)

        def err(exc: BaseException) -> None:
            if self.winfo_exists():
                self.ok_button.configure(state="normal")
                self.show_error(exc)

        self.app.worker.change(call, ok, err, "member")

    def choice(self, label: str, var: tk.Variable, options: list[tuple[Any, str]]) -> None:
        """A row of big toggle buttons; none chosen until the person taps one."""
        app = self.app
        f = ttk.Frame(self.pane)
        f.pack(fill="x", pady=(8, 3))
        ttk.Label(f, text=shown(label), anchor=app.text_anchor).pack(anchor=app.text_anchor)
        row = ttk.Frame(f)
        row.pack(anchor=app.text_anchor, pady=(4, 0))
        self.choices: dict[Any, ttk.Radiobutton] = getattr(self, "choices", {})
        for value, text in options:
            b = ttk.Radiobutton(
                row,
                text=shown(text),
                value=value,
                variable=var,
                bootstyle="info-outline-toolbutton",
                padding=PAD,
                takefocus=False,
                width=12,
            )
            b.pack(side=app.side("left"), padx=(0, 8))
            self.choices[value] = b


class MemberForm(_Sending):
    """Register a member (``member`` None) or change one: name, phone, card and whether they agree
    to marketing messages (yes or no: a new member's answer must be chosen)."""

    def __init__(
        self, app, member: dict | None, done: Callable[[str], None], prefill: dict | None = None
    ) -> None:
        title = _("Register a member") if member is None else _("Change member details")
        subject = "" if member is None else f"{member.get('name', '')} · {member['member']}"
        super().__init__(app, title, subject)
        self.member, self.done, self.cid = member, done, new_id()
        rec = member or prefill or {}
        self.fields: dict[str, Any] = {}
        for key, label in (("name", _("Name")), ("phone", _("Phone")), ("card", _("Card"))):
            e = self.row(label, width=26, font=app.mid_font)
            e.insert(0, str(rec.get(key) or ""))
            self.fields[key] = e
        self.fields["card"].scan_field = True  # a card scanned here fills the field
        consent = rec.get("consent") if member is not None else None
        self.consent = ttk.StringVar(value="" if consent is None else ("yes" if consent else "no"))
        self.choice(
            _("Agrees to receive marketing messages?"),
            self.consent,
            [("yes", _("Yes")), ("no", _("No"))],
        )
        self.buttons(_("Register") if member is None else _("Save"), self.submit)
        self.bind("<Return>", lambda e: self.submit())
        self.fit_error()
        self.place_on_screen()
        self.take_focus()

    def values(self) -> dict[str, Any]:
        rec: dict[str, Any] = {k: e.get().strip() for k, e in self.fields.items()}
        if self.consent.get():
            rec["consent"] = self.consent.get() == "yes"
        return rec

    def submit(self) -> None:
        rec = self.values()
        if not rec["name"]:
            self.show_error(code_text(Desk.NO_NAME))
            return
        if "consent" not in rec:
            self.show_error(code_text(Desk.NO_CONSENT))
            return
        api, cid = self.app.api, self.cid
        if self.member is None:
            self.send(
                lambda: api.member_register(cid, rec),
                lambda res: self.done(str((res.get("result") or {}).get("member", ""))),
            )
        else:
            mid = self.member["member"]
            self.send(lambda: api.member_update(cid, mid, rec), lambda res: self.done(mid))


class TopUpDialog(_Sending):
    """Put money on a member's wallet: the amount, and cash or card (with the terminal's
    reference for a card)."""

    def __init__(self, app, member: dict, done: Callable[[str], None]) -> None:
        super().__init__(
            app, _("Top up the wallet"), f"{member.get('name', '')} · {member['member']}"
        )
        self.member, self.done, self.cid = member, done, new_id()
        self.amount = self.row(_("Amount"), width=12, font=app.mid_font)
        self.tender = ttk.StringVar(value="cash")
        self.choice(_("Paid by"), self.tender, [("cash", _("Cash")), ("card", _("Card"))])
        self.reference = self.row(_("Card terminal reference"), width=16, font=app.mid_font)
        self.add_keypad(self.submit)
        self.buttons(_("Top up"), self.submit)
        self.bind("<Return>", lambda e: self.submit())
        self.bind("<KP_Enter>", lambda e: self.submit())
        self.fit_error()
        self.place_on_screen()
        self.take_focus()

    def submit(self) -> None:
        from kiosk.errors import error_text

        try:
            amount = to_minor(self.amount.get().strip() or "0", self.app.currency)
        except KassaError as exc:
            self.show_error(error_text(exc))
            return
        if amount <= 0:
            self.show_error(_("Enter an amount above zero."))
            return
        tender, ref = self.tender.get(), self.reference.get().strip()
        if tender == "card" and not ref:
            self.show_error(_("Enter the card terminal's reference."))
            return
        api, cid, mid = self.app.api, self.cid, self.member["member"]
        self.send(lambda: api.topup(cid, mid, amount, tender, ref), lambda res: self.done(mid))
