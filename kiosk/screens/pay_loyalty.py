"""Points and coupons on the pay screen (``LoyaltyPay``, a part of ``kiosk.screens.pay.PayScreen``).

Points: the cashier finds the member (card or phone; the same member pays by wallet and earns
points for the sale), sees their points, tier and what the points are worth, and types the part
of the sale the points pay (all of it, or less: partial redemption). The till sends
``{"kind": "points", "amount", "points", "member"}`` with ``points = ceil(amount / point value)``;
the store checks the balance where commits are serialised.

Coupon: the code is scanned (a QR or barcode on the coupon: a scanner types it and presses Enter)
or typed; the till shows what the coupon is worth, its dates and the uses left, and fills in what
it pays (``{"kind": "coupon", "amount", "reference": code}``). The store decides whether it may
pay (valid now, a use left, this member, minimum spend, within its worth). The member's card and
the coupon's code fields keep a scanner's burst (``scan_field``: the scan router leaves them
alone) instead of sending it to the basket.

A member found here names the sale (``on_pay(tenders, member)``): the order earns its points.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import ttkbootstrap as ttk

from domain.errors import KassaError, NotFound
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.pay_wait import ProviderPay
from kiosk.widgets import TOUCH_PX, FitLabel, text_width

__all__ = ["LoyaltyPay", "LOYALTY_KINDS"]

LOYALTY_KINDS = {"points": N_("Points"), "coupon": N_("Coupon")}


class LoyaltyPay(ProviderPay):
    """The Points and Coupon tenders (made in ``provider_setup``, after the other panels)."""

    member: dict | None
    mixed: bool
    cash_amount: ttk.Entry
    wallet_amount: ttk.Entry
    total: int
    choose: Any
    show_error: Any
    _text: Any
    _safe: Any
    _other: Any

    def provider_setup(self) -> None:
        super().provider_setup()
        self.loyalty: dict[str, Any] = {}  # the member's points, tier, point value
        self.coupon_info: dict[str, Any] = {}
        self._share_mixed_row()
        for kind, panel in (("points", self._points_panel()), ("coupon", self._coupon_panel())):
            panel.grid(row=0, column=0, sticky="nsew")
            self.panels[kind] = panel
        for e in (self.points_amount, self.coupon_amount):
            e.bind("<KeyRelease>", lambda ev: self.refresh(), add="+")
            e.bind("<<KeypadChanged>>", lambda ev: self.refresh(), add="+")
        for e in (self.points_member, self.coupon_code):
            e.scan_field = True  # a scanned card or coupon stays here
        for key in ("<Return>", "<KP_Enter>"):
            self.points_member.bind(key, lambda ev: self._enter(self.find_points_member))
            self.coupon_code.bind(key, lambda ev: self._enter(self.find_coupon))

    def _share_mixed_row(self) -> None:
        """Mixed, Points and Coupon side by side in Mixed's row: at 1024x768 the tender column
        has no room for two more rows (the sale's buttons must stay on screen)."""
        old = self.tender_buttons["mixed"]
        row = ttk.Frame(old.master)
        row.pack(before=old, fill="x", pady=3)
        row.rowconfigure(0, minsize=TOUCH_PX)  # a finger's target, whatever the font
        kinds = {"mixed": old.cget("text"), **{k: T(v) for k, v in LOYALTY_KINDS.items()}}
        old.destroy()
        font = ttk.Style().lookup("TButton", "font") or "TkDefaultFont"
        need = max(text_width(font, t) for t in kinds.values()) + 14  # "混合支付" was cut
        for i, (kind, text) in enumerate(kinds.items()):
            col = len(kinds) - 1 - i if self.app.rtl else i
            row.columnconfigure(col, weight=1, uniform="tender", minsize=need)
            b = ttk.Button(
                row,
                text=text,
                width=1,
                padding=0,  # a third of the column: the words need all of it
                takefocus=False,
                command=lambda k=kind: self.choose(k),
            )
            b.grid(row=0, column=col, sticky="nsew", padx=(0 if col == 0 else 2, 0))
            self.tender_buttons[kind] = b

    def _enter(self, action: Any) -> str:
        action()
        return "break"  # Enter in a look-up field looks up; it does not pay

    # ---------------------------------------------------------------- panels
    def _look_up(self, p: ttk.Labelframe, field: str, button: str, command: Any) -> Any:
        """A panel's look-up: its field (a card or a code, scanned or typed) and its button."""
        entry = self.row(field, parent=p, label_width=20, width=14)
        ttk.Button(p, text=button, bootstyle="info-outline", command=command, takefocus=False).pack(
            anchor=self.app.text_anchor, pady=2, ipady=6
        )
        return entry

    def _fit_line(self, p: ttk.Labelframe) -> FitLabel:
        label = FitLabel(p, font=self.app.base_font, anchor=self.app.text_anchor)
        label.pack(fill="x")
        return label

    def _points_panel(self) -> ttk.Labelframe:
        p = ttk.Labelframe(self.stack, text=T("Points"), padding=8)
        self.points_member = self._look_up(
            p, _("Member card or phone"), T("Find member"), self.find_points_member
        )
        self.points_label = self._fit_line(p)
        self.tier_label = self._fit_line(p)
        self.points_amount = self.row(_("Amount"), parent=p, label_width=16, width=12)
        self.points_used = self._fit_line(p)
        return p

    def _coupon_panel(self) -> ttk.Labelframe:
        p = ttk.Labelframe(self.stack, text=T("Coupon"), padding=8)
        self.coupon_code = self._look_up(p, _("Coupon code"), T("Check coupon"), self.find_coupon)
        self.coupon_label = self._fit_line(p)
        self.coupon_dates = self._fit_line(p)
        self.coupon_amount = self.row(_("Amount"), parent=p, label_width=16, width=12)
        ttk.Label(p, text=T("Scan the coupon's code or type it."), bootstyle="secondary").pack(
            anchor=self.app.text_anchor, pady=(2, 0)
        )
        return p

    def loyalty_first(self, kind: str) -> Any:
        """The field to start in for ``kind`` (the pay screen's ``choose``); the points amount
        kept within what the member's points are worth."""
        if kind == "points":  # nothing paid by points before the member's are known
            worth = self.points_worth()
            if self._safe(self.points_amount) > worth:
                self._set(self.points_amount, worth)
            return self.points_member
        return self.coupon_code if kind == "coupon" else None

    # ---------------------------------------------------------------- amounts
    def points_worth(self) -> int:
        return int(self.loyalty.get("points", 0)) * int(self.loyalty.get("point_value", 0))

    def points_needed(self, amount: int) -> int:
        value = int(self.loyalty.get("point_value", 0)) or 1
        return -(-amount // value)

    def provider_paid(self) -> int:
        """What provider tenders, points and the coupon pay (the rest is card, wallet, cash)."""
        own = self._safe(self.points_amount) + self._safe(self.coupon_amount)
        return super().provider_paid() + own

    def _set(self, entry: ttk.Entry, amount: int) -> None:
        entry.delete(0, "end")
        if amount > 0:
            entry.insert(0, self._text(amount))

    def loyalty_tenders(self) -> list[dict]:
        out: list[dict] = []
        pts = self._amount(self.points_amount)
        if pts:
            if not self.member or not self.loyalty:
                raise KassaError("payment.no_member", "find the member first")
            out.append(
                {
                    "kind": "points",
                    "amount": pts,
                    "points": self.points_needed(pts),
                    "member": self.member["member"],
                }
            )
        cpn = self._amount(self.coupon_amount)
        if cpn:
            code = self.coupon_code.get().strip().upper()
            if not code:
                raise NotFound("coupon.not_found", "no coupon code")
            out.append({"kind": "coupon", "amount": cpn, "reference": code})
        return out

    # ---------------------------------------------------------------- look-ups (worker thread)
    def find_points_member(self) -> None:
        key = self.points_member.get().strip()
        if not key:
            return
        api = self.app.api

        def fetch() -> tuple[dict, dict]:
            m = api.member(key)
            return m, api.get(f"/v1/members/{quote(str(m['member']), safe='')}/loyalty")

        def ok(res: tuple[dict, dict]) -> None:
            if not self.winfo_exists():
                return
            self.member, self.loyalty = res
            self.name_sale(*res)
            self.show_points()
            if self.kind == "points":
                rest = self.total - self._other(but="points") - self._safe(self.cash_amount)
                rest += self._safe(self.points_amount)
                self._set(self.points_amount, min(max(rest, 0), self.points_worth()))
            self.refresh()

        self.app.worker.read(fetch, ok, self.show_error, "loyalty")

    def name_sale(self, member: dict, loyalty: dict | None = None) -> None:
        """The member found here names the sale: the basket gets their tier's discount
        (``kiosk.screens.sale_member``), and the total here follows (``basket_changed``)."""
        name = getattr(self.app.screen, "name_sale", None)
        if name is not None:
            name(member, loyalty)

    def fit_total(self, total: int) -> None:
        """The pay screen's new ``total`` (``basket_changed``); when lower (the tier's discount),
        a points or wallet amount filled in for the old total is lowered to what is left."""
        self.total = total
        for entry in (self.points_amount, self.wallet_amount):
            over = self._other() - self.total
            if over > 0 and self._safe(entry):
                self._set(entry, max(0, self._safe(entry) - over))

    def show_points(self) -> None:
        lo, cur = self.loyalty, self.app.currency
        name = (self.member or {}).get("name", "")
        self.points_label.configure(
            text=shown(
                _("{name}: {points} points, worth {amount}").format(
                    name=name,
                    points=lo.get("points", 0),
                    amount=i18n.money(self.points_worth(), cur),
                )
            )
        )
        tier = lo.get("tier") or {}
        nxt = lo.get("next_tier") or {}
        text = _("Tier: {tier}").format(tier=tier["name"]) if tier else ""
        if tier.get("discount_bp"):  # the tier's discount, for the cashier to give
            text += " · " + self.percent_off(int(tier["discount_bp"]))
        if nxt:
            missing = nxt.get("missing", 0)
            more = i18n.money(missing, cur) if nxt.get("by") == "spend" else str(missing)
            text = (text + "  " if text else "") + _("{more} more for {tier}").format(
                more=more, tier=nxt.get("name", "")
            )
        self.tier_label.configure(text=shown(text))

    def find_coupon(self) -> None:
        code = self.coupon_code.get().strip().upper()
        if not code:
            return
        api = self.app.api

        def ok(c: dict) -> None:
            if not self.winfo_exists():
                return
            self.coupon_info = c
            self.show_coupon()
            if self.kind == "coupon" and c.get("left") and c.get("valid_now"):
                rest = self.total - self._other(but="coupon") + self._safe(self.coupon_amount)
                self._set(self.coupon_amount, max(0, min(rest, self.coupon_cap())))
            self.refresh()

        self.app.worker.read(
            lambda: api.get(f"/v1/coupons/{quote(code, safe='')}"), ok, self.show_error, "coupon"
        )

    def percent_off(self, bp: int) -> str:
        return _("{percent}% off").format(percent=i18n.number(Decimal(bp).scaleb(-2)))

    def coupon_cap(self) -> int:
        c = self.coupon_info
        if c.get("kind") == "percent":
            return self.total * int(c.get("value", 0)) // 10_000
        return min(int(c.get("value", 0)), self.total)

    def show_coupon(self) -> None:
        c, cur = self.coupon_info, self.app.currency
        if c.get("kind") == "percent":
            worth = self.percent_off(int(c.get("value", 0)))
        else:
            worth = i18n.money(int(c.get("value", 0)), cur)
        left = int(c.get("left", 0))
        state = _("Uses left: {n}").format(n=left) if left else _("Used up")
        if not c.get("valid_now"):
            state = _("Not valid today")
        self.coupon_label.configure(text=shown(f"{c.get('code', '')}: {worth} · {state}"))
        parts = []
        if c.get("min_spend"):
            parts.append(_("Minimum {amount}").format(amount=i18n.money(int(c["min_spend"]), cur)))
        if c.get("valid_to"):
            parts.append(
                _("Until {date}").format(date=i18n.when(int(c["valid_to"]), self.app.zone))
            )
        self.coupon_dates.configure(text=shown("  ".join(parts)))
