"""Dialogs shared by the counters: a simple form, manager PIN, problem report, payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import round_cash, to_minor
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.rtl_entry import RtlEntry

__all__ = [
    "FormDialog",
    "ManagerPinDialog",
    "FeedbackDialog",
    "PayDialog",
    "ChoiceDialog",
    "quick_tenders",
]


class _Dialog(ttk.Toplevel):
    def __init__(self, app, title: str) -> None:
        super().__init__(title=shown(title), transient=app)
        self.app = app
        self.pane: ttk.Frame | ttk.Labelframe = ttk.Frame(self, padding=16)
        self.pane.pack(fill="both", expand=True)
        self.error = ttk.Label(self.pane, text="", bootstyle="danger")
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bind("<Escape>", lambda e: self.cancel())

    def row(self, label: str, **entry_kw: Any) -> ttk.Entry:
        f = ttk.Frame(self.pane)
        f.pack(fill="x", pady=3)
        ttk.Label(f, text=shown(label), width=22, anchor=self.app.text_anchor).pack(
            side=self.app.side("left")
        )
        e = RtlEntry(f, **entry_kw)  # Arabic shown joined, right to left
        e.pack(side=self.app.side("left"), fill="x", expand=True)
        return e

    def buttons(self, ok_text: str, ok: Callable[[], None]) -> ttk.Button:
        self.error.pack(fill="x", pady=4)
        f = ttk.Frame(self.pane)
        f.pack(fill="x", pady=(8, 0))
        self.ok_button = ttk.Button(f, text=shown(ok_text), bootstyle="success", command=ok)
        self.ok_button.pack(side=self.app.side("right"), padx=4)
        ttk.Button(f, text=T("Cancel"), bootstyle="secondary", command=self.cancel).pack(
            side=self.app.side("right"), padx=4
        )
        return self.ok_button

    def show_error(self, exc_or_text: Any) -> None:
        from kiosk.errors import error_text

        text = exc_or_text if isinstance(exc_or_text, str) else error_text(exc_or_text)
        if self.winfo_exists():
            self.error.configure(text=shown(text))

    def cancel(self) -> None:
        if self.app.dialog is self:
            self.app.dialog = None
        self.destroy()


class FormDialog(_Dialog):
    """A few labelled fields; ``on_ok(values)`` returns an error text or None (closes)."""

    def __init__(
        self,
        app,
        title: str,
        fields: list[tuple[str, str, str]],
        on_ok: Callable[[dict[str, str]], str | None],
        ok_text: str = N_("OK"),
    ) -> None:
        super().__init__(app, title)
        self.entries: dict[str, ttk.Entry] = {}
        for key, label, default in fields:
            e = self.row(label, width=24)
            e.insert(0, default)
            self.entries[key] = e
        self.on_ok = on_ok
        self.buttons(_(ok_text), self.submit)
        first = next(iter(self.entries.values()), None)
        if first is not None:
            first.focus_set()
        self.bind("<Return>", lambda e: self.submit())

    def submit(self) -> None:
        values = {k: e.get().strip() for k, e in self.entries.items()}
        problem = self.on_ok(values)
        if problem:
            self.show_error(problem)
        else:
            self.cancel()


class ChoiceDialog(_Dialog):
    """Pick one of several items (e.g. a parked basket)."""

    def __init__(
        self, app, title: str, items: list[tuple[str, str]], on_pick: Callable[[str], None]
    ) -> None:
        super().__init__(app, title)
        self.buttons_by_key: dict[str, ttk.Button] = {}
        if not items:
            ttk.Label(self.pane, text=T("Nothing here.")).pack(pady=8)
        for key, text in items:

            def pick(k: str = key) -> None:
                self.cancel()
                on_pick(k)

            b = ttk.Button(self.pane, text=shown(text), bootstyle="info-outline", command=pick)
            b.pack(fill="x", pady=3)
            self.buttons_by_key[key] = b
        ttk.Button(self.pane, text=T("Cancel"), bootstyle="secondary", command=self.cancel).pack(
            pady=(10, 0)
        )


class ManagerPinDialog(_Dialog):
    def __init__(self, app, check: Callable, on_cancel: Callable[[], None] | None) -> None:
        super().__init__(app, _("Manager approval"))
        ttk.Label(
            self.pane,
            text=T("A manager must approve this. Manager, enter your number and PIN."),
            wraplength=380,
        ).pack(pady=(0, 8))
        self.manager = self.row(_("Manager number"), width=16)
        self.pin = self.row(_("PIN"), width=16, show="•")
        self.check = check
        self.on_cancel = on_cancel
        self.buttons(_("Approve"), self.submit)
        self.manager.focus_set()
        self.bind("<Return>", lambda e: self.submit())

    def submit(self) -> None:
        manager, pin = self.manager.get().strip(), self.pin.get().strip()
        if not manager or not pin:
            self.show_error(_("Enter your staff number and PIN."))
            return
        self.ok_button.configure(state="disabled")

        def done(exc: BaseException | None) -> None:
            if exc is None:
                if self.winfo_exists():
                    self.on_cancel = None
                    self.cancel()
                return
            if self.winfo_exists():
                self.ok_button.configure(state="normal")
                self.pin.delete(0, "end")
                self.show_error(exc)

        self.check(manager, pin, done)

    def cancel(self) -> None:
        cb, self.on_cancel = self.on_cancel, None
        super().cancel()
        if cb:
            cb()


FEEDBACK_KINDS = {
    "device": N_("Device (printer, scanner, scale…)"),
    "price": N_("Wrong price"),
    "stock": N_("Stock problem"),
    "other": N_("Something else"),
}


class FeedbackDialog(_Dialog):
    """异常反馈: any staff member reports a problem; it is journaled at the store."""

    def __init__(self, app) -> None:
        super().__init__(app, _("Report a problem"))
        self.kind = ttk.StringVar(value="device")
        for key, label in FEEDBACK_KINDS.items():
            ttk.Radiobutton(self.pane, text=T(label), value=key, variable=self.kind).pack(
                anchor=app.text_anchor, pady=2
            )
        self.sku = self.row(_("Product (SKU or barcode)"), width=24)
        ttk.Label(self.pane, text=T("What happened?")).pack(anchor=app.text_anchor, pady=(6, 0))
        self.text = ttk.Text(self.pane, width=48, height=5, font=("Noto Sans", 12))
        self.text.pack(fill="both", expand=True)
        self.buttons(_("Send"), self.submit)

    def submit(self) -> None:
        message = self.text.get("1.0", "end").strip()
        if not message:
            self.show_error(_("Describe the problem."))
            return
        self.app.send_feedback(self.kind.get(), message, self.sku.get().strip())
        self.cancel()


def quick_tenders(due: int, currency: str) -> list[int]:
    """Exact amount, then the next round amounts a customer is likely to hand over."""
    unit = 10 ** i18n.minor_digits(currency)
    notes = [n * unit for n in (1, 5, 10, 20, 50, 100, 500, 1000)]
    if due <= 0:
        return []
    out = [due]
    for n in notes:
        nxt = -(-due // n) * n
        if nxt > due and nxt not in out:
            out.append(nxt)
        if len(out) >= 5:
            break
    return out


class PayDialog(_Dialog):
    """Cash (quick-tender buttons), card (terminal reference + last 4), member wallet (card number
    or phone), or any mix. ``on_pay(tenders, member_info)`` sends the payment."""

    def __init__(self, app, total: int, on_pay: Callable[[list[dict], dict | None], None]) -> None:
        super().__init__(app, _("Payment"))
        self.total = total
        self.on_pay = on_pay
        self.member: dict | None = None
        cur = app.currency
        self.increment = int(app.store.get("cash_increment") or 1)
        ttk.Label(
            self.pane,
            text=shown(_("Total: {amount}").format(amount=i18n.money(total, cur))),
            font=app.big_font,
            bootstyle="primary",
        ).pack(pady=4)
        # card
        card = ttk.Labelframe(self.pane, text=T("Card"), padding=8)
        card.pack(fill="x", pady=4)
        self.pane_stack = [self.pane]
        self.pane = card
        self.card_amount = self.row(_("Amount"), width=12)
        self.card_ref = self.row(_("Terminal reference"), width=16)
        self.card_last4 = self.row(_("Last 4 digits"), width=6)
        # wallet
        wallet = ttk.Labelframe(self.pane_stack[0], text=T("Member wallet"), padding=8)
        wallet.pack(fill="x", pady=4)
        self.pane = wallet
        self.member_key = self.row(_("Member card or phone"), width=16)
        self.member_button = ttk.Button(
            wallet, text=T("Find member"), bootstyle="info-outline", command=self.find_member
        )
        self.member_button.pack(anchor=app.text_anchor)
        self.member_label = ttk.Label(wallet, text="")
        self.member_label.pack(anchor=app.text_anchor)
        self.wallet_amount = self.row(_("Amount"), width=12)
        # cash
        cash = ttk.Labelframe(self.pane_stack[0], text=T("Cash"), padding=8)
        cash.pack(fill="x", pady=4)
        self.pane = cash
        self.cash_due_label = ttk.Label(cash, text="", font=app.mid_font)
        self.cash_due_label.pack(anchor=app.text_anchor)
        self.quick = ttk.Frame(cash)
        self.quick.pack(fill="x", pady=4)
        self.quick_buttons: list[ttk.Button] = []
        self.cash_amount = self.row(_("Cash tendered"), width=12)
        self.change_label = ttk.Label(cash, text="", font=app.big_font, bootstyle="success")
        self.change_label.pack(anchor=app.text_anchor)
        self.pane = self.pane_stack[0]
        self.buttons(_("Complete sale"), self.submit)
        for e in (self.card_amount, self.wallet_amount, self.cash_amount):
            e.bind("<KeyRelease>", lambda ev: self.refresh())
        self.refresh()
        self.cash_amount.focus_set()

    # amounts typed by the cashier → minor units (never floats)
    def _amount(self, entry: ttk.Entry) -> int:
        text = entry.get().strip()
        return to_minor(text, self.app.currency) if text else 0

    def cash_due(self) -> int:
        try:
            other = self._amount(self.card_amount) + self._amount(self.wallet_amount)
        except KassaError:
            return self.total
        return round_cash(max(self.total - other, 0), self.increment)

    def refresh(self) -> None:
        due = self.cash_due()
        cur = self.app.currency
        self.cash_due_label.configure(
            text=shown(_("Cash due: {amount}").format(amount=i18n.money(due, cur)))
        )
        for b in self.quick_buttons:
            b.destroy()
        self.quick_buttons = []
        for amount in quick_tenders(due, cur):
            b = ttk.Button(
                self.quick,
                text=shown(i18n.money(amount, cur)),
                bootstyle="success-outline",
                command=lambda a=amount: self.tender_cash(a),
            )
            b.pack(side=self.app.side("left"), padx=3)
            self.quick_buttons.append(b)
        try:
            tendered = self._amount(self.cash_amount)
        except KassaError:
            tendered = 0
        if tendered and tendered >= due:
            self.change_label.configure(
                text=shown(_("Change: {amount}").format(amount=i18n.money(tendered - due, cur)))
            )
        else:
            self.change_label.configure(text="")

    def tender_cash(self, amount: int) -> None:
        from decimal import Decimal

        self.cash_amount.delete(0, "end")
        digits = i18n.minor_digits(self.app.currency)
        self.cash_amount.insert(0, str(Decimal(amount).scaleb(-digits)))
        self.refresh()

    def find_member(self) -> None:
        key = self.member_key.get().strip()
        if not key:
            return

        def ok(m: dict) -> None:
            if not self.winfo_exists():
                return
            self.member = m
            self.member_label.configure(
                text=shown(
                    _("{name}: balance {amount}").format(
                        name=m.get("name", ""),
                        amount=i18n.money(int(m.get("balance", 0)), self.app.currency),
                    )
                )
            )

        self.app.worker.read(lambda: self.app.api.member(key), ok, self.show_error, "member")

    def tenders(self) -> list[dict]:
        out: list[dict] = []
        card = self._amount(self.card_amount)
        if card:
            out.append(
                {
                    "kind": "card",
                    "amount": card,
                    "reference": self.card_ref.get().strip(),
                    "last4": self.card_last4.get().strip(),
                }
            )
        wallet = self._amount(self.wallet_amount)
        if wallet:
            if not self.member:
                raise KassaError("payment.no_member", "find the member first")
            out.append({"kind": "wallet", "amount": wallet, "member": self.member["member"]})
        cash = self._amount(self.cash_amount)
        if cash:
            out.append({"kind": "cash", "amount": cash})
        if not out:
            raise KassaError("payment.bad_amount", "no tender")
        return out

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
