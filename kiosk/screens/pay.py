"""The tender-first pay screen: the cashier picks how the customer pays (Cash, Card, Wallet or
Mixed), types or taps the amount (on-screen keypad, quick cash tenders) and presses Enter.

Due, paid and change (or what is still due) are always in view, in labels that shrink their
font rather than cut a figure. The screen covers the till window and never the screen's edge: at
1024x768 every button is on screen. Enter (or the keypad's ↵) completes the sale once the tenders
cover the total; Escape cancels.

Card: the amount, the card terminal's approval reference and the last 4 digits printed on its
slip; anything written like a card number is refused here and by the store (``domain.pan``).
Wallet: the member found by card or phone (``find_member``). Mixed: each part under its tender;
what card and wallet leave is due in cash, rounded to the store's cash increment.
``on_pay(tenders, member)`` sends the payment; ``failed(exc)`` shows the store's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import round_cash, to_minor
from domain.pan import refuse_card_number
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.dialogs import quick_tenders
from kiosk.screens.pay_loyalty import LoyaltyPay
from kiosk.widgets import FitLabel

__all__ = ["PayScreen", "TENDER_KINDS"]

TENDER_KINDS = {
    "cash": N_("Cash"),
    "card": N_("Card"),
    "wallet": N_("Wallet"),
    "qr": N_("QR"),
    "mixed": N_("Mixed"),
}


class PayScreen(LoyaltyPay):
    def __init__(
        self,
        app,
        total: int,
        on_pay: Callable[[list[dict], dict | None], None],
        subject: str = "",
    ) -> None:
        super().__init__(app, _("Payment"), subject)
        self.total = total
        self.on_pay = on_pay
        self.member: dict | None = None
        self.increment = int(app.store.get("cash_increment") or 1)
        self.kind = "cash"
        self.mixed = False
        scale = float(getattr(app, "ui_scale", 1.0))
        self._summary(scale)
        body = ttk.Frame(self.pane)
        body.pack(fill="both", expand=True, pady=(10, 0))
        self._tender_buttons(body)
        self.stack = ttk.Frame(body, padding=(12, 0))
        self.stack.pack(side=app.side("left"), fill="both", expand=True)
        self.panels = {
            "cash": self._cash_panel(),
            "card": self._card_panel(),
            "wallet": self._wallet_panel(),
            "mixed": self._mixed_panel(),
            "qr": self._qr_panel(),  # QR and the card terminal: kiosk.screens.pay_wait
        }
        for p in self.panels.values():
            p.grid(row=0, column=0, sticky="nsew")
        self.stack.columnconfigure(0, weight=1)
        self.stack.rowconfigure(0, weight=1)
        self.provider_setup()
        self.add_keypad(self.enter_key)
        self.buttons(_("Complete sale"), self.submit)
        for e in (self.card_amount, self.wallet_amount, self.cash_amount):
            e.bind("<KeyRelease>", lambda ev: self.refresh(), add="+")
            e.bind("<<KeypadChanged>>", lambda ev: self.refresh(), add="+")
        for key in ("<Return>", "<KP_Enter>"):
            self.member_key.bind(key, self._find_member_key)
        self.bind("<Return>", lambda e: self.enter())
        self.bind("<KP_Enter>", lambda e: self.enter())
        self.first_field = self.cash_amount
        self.choose("cash")
        self.cover_window()
        self.take_focus()

    # ---------------------------------------------------------------- building
    def _summary(self, scale: float) -> None:
        """Due, paid, change: three equal cells across the top, money in FitLabels."""
        bar = ttk.Frame(self.pane)
        bar.pack(fill="x")
        cells = (("due", _("Due")), ("paid", _("Paid")), ("change", _("Change")))
        self.captions: dict[str, ttk.Label] = {}
        self.values: dict[str, FitLabel] = {}
        for i, (key, caption) in enumerate(cells):
            col = 2 - i if self.app.rtl else i
            bar.columnconfigure(col, weight=1, uniform="sum")
            cell = ttk.Frame(bar, padding=(6, 2))
            cell.grid(row=0, column=col, sticky="nsew", padx=3)
            self.captions[key] = ttk.Label(cell, text=shown(caption), bootstyle="secondary")
            self.captions[key].pack(anchor=self.app.text_anchor)
            style = {"due": "primary", "paid": "dark", "change": "success"}[key]
            self.values[key] = FitLabel(
                cell,
                font=self.app.big_font,
                anchor=self.app.text_anchor,
                bootstyle=style,
            )
            self.values[key].pack(fill="x")
        self.due_value = self.values["due"]
        self.paid_value = self.values["paid"]
        self.change_value = self.values["change"]

    def _tender_buttons(self, body: ttk.Frame) -> None:
        col = ttk.Frame(body)
        col.pack(side=self.app.side("left"), fill="y")
        self.tender_buttons: dict[str, ttk.Button] = {}
        for kind, label in TENDER_KINDS.items():
            b = ttk.Button(
                col,
                text=T(label),
                width=10,
                takefocus=False,
                command=lambda k=kind: self.choose(k),
            )
            b.pack(fill="x", pady=3, ipady=6)
            self.tender_buttons[kind] = b

    def _panel(self, title: str) -> ttk.Labelframe:
        return ttk.Labelframe(self.stack, text=T(title), padding=8)

    def _hints(self, parent: ttk.Labelframe, *lines: str) -> None:
        """Short lines of help, one label each (Tk would wrap Arabic in the wrong order)."""
        for line in lines:
            ttk.Label(parent, text=T(line), bootstyle="secondary").pack(
                anchor=self.app.text_anchor, pady=(2, 0)
            )

    def _cash_panel(self) -> ttk.Labelframe:
        p = self._panel(N_("Cash"))
        self.cash_due_label = FitLabel(p, font=self.app.mid_font, anchor=self.app.text_anchor)
        self.cash_due_label.pack(fill="x")
        self.cash_amount = self.row(
            _("Cash tendered"), parent=p, label_width=16, width=12, font=self.app.mid_font
        )
        self.quick = ttk.Frame(p)
        self.quick.pack(fill="x", pady=4)
        for c in range(3):
            self.quick.columnconfigure(c, weight=1, uniform="quick")
        self.quick_buttons: list[ttk.Button] = []
        self.quick_amounts: list[int] = []
        return p

    def _card_panel(self) -> ttk.Labelframe:
        p = self._panel(N_("Card"))
        self.card_amount = self.row(_("Amount"), parent=p, label_width=16, width=12)
        self.card_ref = self.row(_("Terminal reference"), parent=p, label_width=16, width=12)
        self.card_last4 = self.row(_("Last 4 digits"), parent=p, label_width=16, width=6)
        self._hints(p, N_("From the terminal's slip."), N_("Never type the card number."))
        return p

    def _wallet_panel(self) -> ttk.Labelframe:
        p = self._panel(N_("Member wallet"))
        self.member_key = self.row(_("Member card or phone"), parent=p, label_width=16, width=14)
        self.member_button = ttk.Button(
            p,
            text=T("Find member"),
            bootstyle="info-outline",
            command=self.find_member,
            takefocus=False,
        )
        self.member_button.pack(anchor=self.app.text_anchor, pady=2)
        self.member_label = FitLabel(p, font=self.app.base_font, anchor=self.app.text_anchor)
        self.member_label.pack(fill="x")
        self.wallet_amount = self.row(_("Amount"), parent=p, label_width=16, width=12)
        return p

    def _mixed_panel(self) -> ttk.Labelframe:
        p = self._panel(N_("Mixed"))
        self._hints(
            p, N_("Enter each part under Cash, Card or Wallet."), N_("The rest is due in cash.")
        )
        self.parts: dict[str, FitLabel] = {}
        for kind in ("card", "wallet", "cash"):
            lab = FitLabel(p, font=self.app.mid_font, anchor=self.app.text_anchor)
            lab.pack(fill="x")
            self.parts[kind] = lab
        return p

    def cover_window(self) -> None:
        """Lie over the till window, inside the screen, at least as large as the content."""
        self.update_idletasks()
        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        app = self.app
        w = min(max(app.winfo_width(), self.winfo_reqwidth()), sw)
        h = min(max(app.winfo_height(), self.winfo_reqheight()), sh)
        x = min(max(app.winfo_rootx(), 0), sw - w)
        y = min(max(app.winfo_rooty(), 0), sh - h)
        self.geometry(f"{w}x{h}+{x}+{y}")

    # ---------------------------------------------------------------- choosing a tender
    def choose(self, kind: str) -> None:
        """Show ``kind``'s panel. Cash, Card or Wallet alone pay the whole basket that way (the
        other tenders are cleared); after Mixed each keeps the parts already entered."""
        if kind == "mixed":
            self.mixed = True
        elif not self.mixed:
            for k, e in (
                ("cash", self.cash_amount),
                ("card", self.card_amount),
                ("wallet", self.wallet_amount),
            ):
                if k != kind:
                    e.delete(0, "end")
        self.kind = kind
        entry = None if kind in ("cash", "mixed") else getattr(self, f"{kind}_amount")
        if entry is not None and not entry.get().strip():
            rest = self.total - self._safe(self.cash_amount) - self._other(but=kind)
            if kind == "wallet" and self.member is not None:
                rest = min(rest, int(self.member.get("balance", 0)))
            if rest > 0:
                entry.insert(0, self._text(rest))
        for k, b in self.tender_buttons.items():
            on = k == kind or (k == "mixed" and self.mixed)
            b.configure(bootstyle="primary" if on else "primary-outline")
        self.panels[kind].tkraise()
        first = {
            "cash": self.cash_amount,
            "card": self.card_ref,
            "wallet": self.member_key,
            "mixed": self.cash_amount,
            "qr": self.qr_amount,
        }.get(kind) or self.loyalty_first(kind)  # points, coupon: kiosk.screens.pay_loyalty
        self.first_field = first
        if self.winfo_viewable():
            first.focus_force()
        self.refresh()

    # ---------------------------------------------------------------- amounts (minor units)
    def _amount(self, entry: ttk.Entry) -> int:
        text = entry.get().strip()
        return to_minor(text, self.app.currency) if text else 0

    def _safe(self, entry: ttk.Entry) -> int:
        try:
            return self._amount(entry)
        except KassaError:
            return 0

    def _other(self, but: str = "") -> int:
        """Card plus wallet (leaving out ``but``)."""
        pairs = (("card", self.card_amount), ("wallet", self.wallet_amount))
        return sum(self._safe(e) for k, e in pairs if k != but) + self.provider_paid()

    def _text(self, amount: int) -> str:
        return str(Decimal(amount).scaleb(-i18n.minor_digits(self.app.currency)))

    def cash_due(self) -> int:
        """What card and wallet leave, rounded to the store's cash increment."""
        return round_cash(max(self.total - self._other(), 0), self.increment)

    def covered(self) -> bool:
        """Do the tenders typed so far pay the total (cash after rounding)?"""
        try:
            cash = self._amount(self.cash_amount)
            other = self._amount(self.card_amount) + self._amount(self.wallet_amount)
            other += self.provider_paid()
        except KassaError:
            return False
        return cash + other > 0 and other <= self.total and cash >= self.cash_due()

    def basket_changed(self, total: int, subject: str) -> None:
        """The basket changed while paying (an item scanned meanwhile): due, change and the
        quick tenders follow the new total."""
        if total == self.total:
            return
        self.fit_total(total)  # the new total; amounts filled in for a higher one lowered
        self.subject_label.configure(text=shown(subject))
        self.refresh()

    def refresh(self) -> None:
        cur = self.app.currency
        due = self.cash_due()
        cash = self._safe(self.cash_amount)
        paid = cash + self._other()
        self.due_value.configure(text=shown(i18n.money(self.total, cur)))
        self.paid_value.configure(text=shown(i18n.money(paid, cur)))
        if self.covered():
            self.captions["change"].configure(text=T("Change"))
            self.change_value.configure(bootstyle="success")
            self.change_value.configure(text=shown(i18n.money(max(cash - due, 0), cur)))
        else:
            self.captions["change"].configure(text=T("Still due"))
            self.change_value.configure(bootstyle="danger")
            rest = max(due - cash, 0) if self._other() <= self.total else 0
            self.change_value.configure(text=shown(i18n.money(rest, cur)))
        self.cash_due_label.configure(
            text=shown(_("Cash due: {amount}").format(amount=i18n.money(due, cur)))
        )
        self._quick(quick_tenders(due, cur))
        for kind, entry in (
            ("card", self.card_amount),
            ("wallet", self.wallet_amount),
            ("cash", self.cash_amount),
        ):
            amount = self._safe(entry)
            text = f"{_(TENDER_KINDS[kind])}: {i18n.money(amount, cur)}" if amount else ""
            self.parts[kind].configure(text=shown(text))

    def _quick(self, amounts: list[int]) -> None:
        """Quick cash tenders: the exact amount, then the next notes (rebuilt only on change)."""
        if amounts == self.quick_amounts:
            return
        for b in self.quick_buttons:
            b.destroy()
        self.quick_buttons, self.quick_amounts = [], amounts
        for i, amount in enumerate(amounts):
            b = ttk.Button(
                self.quick,
                text=shown(i18n.money(amount, self.app.currency)),
                bootstyle="success-outline",
                takefocus=False,
                command=lambda a=amount: self.tender_cash(a),
            )
            col = 2 - i % 3 if self.app.rtl else i % 3
            b.grid(row=i // 3, column=col, sticky="ew", padx=2, pady=2)
            self.quick_buttons.append(b)

    def tender_cash(self, amount: int) -> None:
        self.cash_amount.delete(0, "end")
        self.cash_amount.insert(0, self._text(amount))
        self.refresh()

    # ---------------------------------------------------------------- member wallet
    def _find_member_key(self, event: object) -> str:
        self.find_member()
        return "break"  # Enter in the member field looks the member up, it does not pay

    def find_member(self) -> None:
        key = self.member_key.get().strip()
        if not key:
            return

        def ok(m: dict) -> None:
            if not self.winfo_exists():
                return
            self.member = m
            balance = int(m.get("balance", 0))
            self.member_label.configure(
                text=shown(
                    _("{name}: balance {amount}").format(
                        name=m.get("name", ""), amount=i18n.money(balance, self.app.currency)
                    )
                )
            )
            self.name_sale(m)  # the sale is the member's: their tier's discount (pay_loyalty)
            if self.kind == "wallet" and not self.wallet_amount.get().strip():
                rest = min(
                    self.total - self._safe(self.cash_amount) - self._other("wallet"), balance
                )
                if rest > 0:
                    self.wallet_amount.insert(0, self._text(rest))
            self.refresh()

        self.app.worker.read(lambda: self.app.api.member(key), ok, self.show_error, "member")

    # ---------------------------------------------------------------- completing
    def tenders(self) -> list[dict]:
        out: list[dict] = []
        card = self._amount(self.card_amount)
        if card:
            ref = refuse_card_number(self.card_ref.get().strip(), "reference")
            last4 = self.card_last4.get().strip()
            out.append({"kind": "card", "amount": card, "reference": ref, "last4": last4})
        wallet = self._amount(self.wallet_amount)
        if wallet:
            if not self.member:
                raise KassaError("payment.no_member", "find the member first")
            out.append({"kind": "wallet", "amount": wallet, "member": self.member["member"]})
        cash = self._amount(self.cash_amount)
        if cash:
            out.append({"kind": "cash", "amount": cash})
        out.extend(self.provider_tenders + self.loyalty_tenders())  # QR, terminal; points, coupon
        if not out:
            raise KassaError("payment.bad_amount", "no tender")
        return out

    def enter_key(self) -> None:
        self.enter()

    def enter(self) -> str:
        """Enter or the keypad's ↵: complete the sale if the tenders cover the total, else say
        what is missing."""
        if str(self.ok_button.cget("state")) == "disabled":
            return "break"
        if self.kind == "qr" and self.qr_amount.get().strip():
            self.start_provider("qr")
        elif self.covered():
            self.submit()
        else:
            self.show_error(KassaError("payment.insufficient", "not enough tendered"))
        return "break"

    def submit(self) -> None:
        try:
            tenders = self.tenders()
        except KassaError as exc:
            self.show_error(exc)
            return
        self.ok_button.configure(state="disabled")
        self.on_pay(tenders, self.member)

    def failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            self.ok_button.configure(state="normal")
            self.show_error(exc)
