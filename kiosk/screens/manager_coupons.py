"""The manager counter's Coupons tab (permission ``coupons.issue``): issue a coupon and print it.

The manager picks amount or percent off, types its value, a minimum spend, how many days it is
valid, how many uses, and a member (card, phone or id; empty: a bearer coupon anyone holding the
slip may use). "Issue and print" sends ``POST /v1/coupons`` (the store's ledger journals
``coupon.issued``; the command id is chosen here, so a retry never issues twice) and prints the
slip on the till's receipt printer (``hw.coupon_slip``: its worth, dates, uses, the code as a QR
and in words). "Reprint" prints a slip again, marked as a copy, from the store's view of the
code typed or scanned (a scan on this tab lands in that field).

A customer hands the slip over at any till: its QR scanned on the sale screen opens the pay
screen's coupon tender (``kiosk.screens.sale_coupon``), as on the pay screen itself.
"""

from __future__ import annotations

import tkinter as tk
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import ttkbootstrap as ttk

from domain.errors import InvalidInput
from domain.money import to_minor
from hw.coupon_slip import CouponSlip, code_in_groups, submit_slip
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import TOUCH_PX, FitLabel

__all__ = ["CouponsTab", "coupon_slip", "percent_bp", "worth_text"]


def percent_bp(text: str) -> int:
    """``"12.5"`` → 1250 basis points (0 < bp ≤ 10000, whole basis points only)."""
    try:
        bp = Decimal(text.strip().rstrip("%").strip()).scaleb(2)
    except InvalidOperation:
        raise InvalidInput("coupon.bad", "a percent is a number such as 10 or 12.5") from None
    if bp != bp.to_integral_value() or not 0 < bp <= 10_000:
        raise InvalidInput("coupon.bad", "a percent is more than 0 and at most 100")
    return int(bp)


def _whole(text: str, default: int, top: int) -> int:
    text = text.strip() or str(default)
    if not text.isdigit() or not 1 <= int(text) <= top:
        raise InvalidInput("coupon.bad", f"a whole number 1..{top}")
    return int(text)


def valid_to(days: int, zone: str, now: datetime | None = None) -> int:
    """The last µs (UTC) of the store's local day ``days`` days from today: valid "for 1 day"
    is valid to the end of tomorrow in the store's zone, whatever the till's clock zone."""
    tz = ZoneInfo(zone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    end = datetime.combine(today + timedelta(days=days + 1), dtime.min, tz)
    return int(end.astimezone(UTC).timestamp()) * 1_000_000 - 1


def worth_text(c: dict[str, Any], currency: str) -> str:
    """What a coupon takes off, in words: "฿50.00 off" or "10% off"."""
    if c.get("kind") == "percent":
        pct = i18n.number(Decimal(int(c.get("value", 0))).scaleb(-2))
        return _("{percent}% off").format(percent=pct)
    return _("{amount} off").format(amount=i18n.money(int(c.get("value", 0)), currency))


def coupon_slip(c: dict[str, Any], app: Any) -> CouponSlip:
    """The slip of coupon ``c`` (the store's view or what was issued), in the till's language."""
    cur, lines = app.currency, []
    if c.get("min_spend"):
        lines.append(_("Minimum spend {amount}").format(amount=i18n.money(c["min_spend"], cur)))
    if c.get("valid_to"):
        lines.append(_("Valid until {date}").format(date=i18n.when(int(c["valid_to"]), app.zone)))
    uses = int(c.get("left", c.get("uses", 1)))
    lines.append(i18n.counted(N_("1 use"), N_("{n} uses"), uses))
    if c.get("member"):
        lines.append(_("For member {member} only").format(member=c["member"]))
    else:
        lines.append(_("Anyone holding this slip may use it."))
    return CouponSlip(
        code=str(c["code"]),
        title=_("Coupon"),
        worth=worth_text(c, cur),
        lang=i18n.current(),
        store=str(app.store.get("name") or ""),
        lines=lines,  # the printer shapes Arabic itself (shown() is for Tk)
        code_label=_("Code"),
    )


class CouponsTab(ttk.Frame):
    """The Coupons tab (one frame of the manager counter's notebook)."""

    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=8)
        self.app = app
        notebook.add(self, text=T("Coupons"))
        self.kind = tk.StringVar(value="amount")
        self.last: dict[str, Any] | None = None  # the coupon issued last
        form = ttk.Frame(self)
        form.pack(fill="x")
        lab, val = (1, 0) if app.rtl else (0, 1)
        form.columnconfigure(val, weight=1)
        kinds = ttk.Frame(form)
        self._label(form, T("Coupon"), 0, lab)
        kinds.grid(row=0, column=val, sticky=app.text_anchor, pady=3)
        for value, text in (("amount", T("Amount off")), ("percent", T("Percent off"))):
            ttk.Radiobutton(
                kinds,
                text=text,
                value=value,
                variable=self.kind,
                bootstyle="info-toolbutton",
                takefocus=False,
            ).pack(side=app.side("left"), padx=(0, 6), ipady=(TOUCH_PX - 30) // 2, ipadx=10)
        self.fields: dict[str, ttk.Entry] = {}
        for row, (key, text, default) in enumerate(
            (
                ("value", T("Value (amount, or percent)"), ""),
                ("min_spend", T("Minimum spend (empty: none)"), ""),
                ("days", T("Valid for (days)"), "30"),
                ("uses", T("Uses"), "1"),
                ("member", T("Member card, phone or id (empty: anyone)"), ""),
            ),
            start=1,
        ):
            self._label(form, text, row, lab)
            e = ttk.Entry(form, font=app.base_font, width=18, justify=app.side("left"))
            e.insert(0, default)
            e.grid(row=row, column=val, sticky="ew", pady=3, ipady=8)
            self.fields[key] = e
        self.fields["member"].scan_field = True  # type: ignore[attr-defined]
        bar = ttk.Frame(self)  # issue at the start, reprint at the end: one row at 1024x768
        bar.pack(fill="x", pady=(8, 4))
        self.issue_button = self._button(bar, T("Issue and print"), self.issue, "success", "left")
        again = ttk.Frame(bar)
        again.pack(side=app.side("right"))
        self.reprint_button = self._button(again, T("Reprint"), self.reprint, "secondary", "right")
        self.code = ttk.Entry(again, font=app.base_font, width=12)
        self.code.pack(side=app.side("right"), ipady=8, padx=6)
        self.code.scan_field = True  # type: ignore[attr-defined]
        ttk.Label(again, text=T("Coupon code")).pack(side=app.side("right"))
        self.status = FitLabel(self, font=app.base_font, anchor=app.text_anchor)
        self.status.pack(fill="x", pady=4)

    def _label(self, form: ttk.Frame, text: str, row: int, col: int) -> None:
        ttk.Label(form, text=text, anchor=self.app.text_anchor).grid(
            row=row, column=col, sticky=self.app.text_anchor, padx=6
        )

    def _button(self, parent: Any, text: str, command: Any, style: str, side: str) -> ttk.Button:
        b = ttk.Button(parent, text=text, command=command, bootstyle=style, takefocus=False)
        b.pack(side=self.app.side(side), ipady=(TOUCH_PX - 30) // 2, ipadx=12)
        return b

    def say(self, text: str, error: bool = False) -> None:
        self.status.configure(text=shown(text), bootstyle="danger" if error else "success")

    def failed(self, exc: BaseException) -> None:
        from kiosk.errors import error_text

        if self.winfo_exists():
            self.issue_button.configure(state="normal")
            self.say(error_text(exc), error=True)

    # ------------------------------------------------------------------ issue
    def request(self) -> dict[str, Any]:
        """The coupon as typed (``coupon.bad`` when a field cannot be read)."""
        f = {k: e.get().strip() for k, e in self.fields.items()}
        kind = self.kind.get()
        if kind == "percent":
            value = percent_bp(f["value"])
        else:
            value = to_minor(f["value"], self.app.currency) if f["value"] else 0
            if value <= 0:
                raise InvalidInput("coupon.bad", "a coupon's value is positive")
        body: dict[str, Any] = {"kind": kind, "value": value, "uses": _whole(f["uses"], 1, 10**6)}
        if f["min_spend"]:
            body["min_spend"] = to_minor(f["min_spend"], self.app.currency)
        body["valid_to"] = valid_to(_whole(f["days"], 30, 3660), self.app.zone)
        if f["member"]:
            body["member"] = f["member"]
        return body

    def issue(self) -> None:
        try:
            body = {"id": new_id(), **self.request()}
        except InvalidInput as exc:
            self.failed(exc)
            return
        api = self.app.api
        self.issue_button.configure(state="disabled")
        self.say(_("Issuing…"))

        def call() -> dict[str, Any]:
            if body.get("member") and "member_id" not in body:  # a card or phone: its id
                body["member_id"] = str(api.member(str(body["member"]))["member"])
            sent = {k: v for k, v in body.items() if k != "member_id"}
            if body.get("member_id"):
                sent["member"] = body["member_id"]
            return {**sent, "code": api.post("/v1/coupons", sent)["code"]}

        self.app.worker.change(call, self.issued, self.failed, "coupon")

    def issued(self, c: dict[str, Any]) -> None:
        self.last = c
        if not self.winfo_exists():
            return
        self.issue_button.configure(state="normal")
        self.code.delete(0, "end")
        self.code.insert(0, c["code"])
        printing = self.print_slip(c)
        text = _("Coupon {code} issued.").format(code=code_in_groups(c["code"]))
        self.say(text + (" " + _("The coupon is printing.") if printing else ""))

    def print_slip(self, c: dict[str, Any], copy: bool = False) -> bool:
        q = self.app.print_queue
        if q is None:
            self.app.notify(_("Printer: not set up"))
            return False
        submit_slip(q, coupon_slip(c, self.app), copy=copy)
        return True

    # ------------------------------------------------------------------ reprint
    def reprint(self) -> None:
        code = self.code.get().strip().upper()
        if not code:
            return
        api = self.app.api

        def ok(c: dict[str, Any]) -> None:
            if self.winfo_exists() and self.print_slip(c, copy=True):
                self.say(_("Coupon {code} is printing again.").format(code=code_in_groups(code)))

        self.app.worker.read(
            lambda: api.get(f"/v1/coupons/{quote(code, safe='')}"), ok, self.failed, "coupon"
        )

    def on_scan(self, code: str) -> None:
        """A coupon scanned on this tab: its code in the reprint field."""
        self.code.delete(0, "end")
        self.code.insert(0, code.strip().upper())
