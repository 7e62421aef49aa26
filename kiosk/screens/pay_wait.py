"""Paying through a provider on the pay screen: QR (PromptPay) and the card terminal.

``ProviderPay`` is the pay screen's part (``kiosk.screens.pay.PayScreen`` derives from it): the
QR panel, the terminal button on the card panel, and under each tender whether it works while the
store's internet is down (cash, card by the terminal's own offline mode, wallet within its
allowance) or needs it (QR). A tender that succeeded is kept in ``provider_tenders`` and sent with
the sale (``{"kind", "amount", "key"}``); the store refuses any other.

``PayWaitDialog`` is the wait: the amount, the QR code (for QR; also on the customer window), the
elapsed time, and Cancel / Retry (and "Payment received" for the cashier who sees the money in the
shop's banking app, with ``payments.confirm``). It never blocks the Tk thread: the payment is
started on the worker's change lane (resent with the same key if the store is out of reach: one
payment), and polled every second on the read lane. A scan while it is open is held, not lost,
and goes to the basket once the dialog closes (``scan_held``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from kiosk import i18n
from kiosk.api_errors import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.dialogs import _Dialog
from kiosk.widgets import FitLabel

__all__ = ["ProviderPay", "PayWaitDialog", "OFFLINE", "STATES"]

POLL_MS = 1000
# what each tender needs when the store's internet line is down
OFFLINE = {
    "cash": (True, N_("Works offline")),
    "card": (True, N_("Offline: terminal mode")),
    "wallet": (True, N_("Offline: within allowance")),
    "qr": (False, N_("Needs the internet")),
}
STATES = {
    "starting": N_("Starting the payment…"),
    "pending": N_("Waiting for the customer to pay…"),
    "succeeded": N_("Payment received."),
    "failed": N_("The payment failed."),
    "cancelled": N_("The payment was cancelled."),
    "timed_out": N_("No answer in time: the payment timed out."),
    "late_success": N_("Paid late: a manager refunds it."),
    "offline": N_("The store cannot be reached. Still trying…"),
}
FINAL = ("failed", "cancelled", "timed_out", "late_success")


class ProviderPay(_Dialog):
    """The pay screen's provider tenders (a part of ``PayScreen``)."""

    total: int
    kind: str
    stack: ttk.Frame
    panels: dict[str, ttk.Labelframe]
    tender_buttons: dict[str, ttk.Button]
    card_amount: ttk.Entry
    wait: PayWaitDialog | None
    _amount: Callable[[ttk.Entry], int]
    refresh: Callable[[], None]
    covered: Callable[[], bool]
    submit: Callable[[], None]

    def _qr_panel(self) -> ttk.Labelframe:
        self.provider_tenders: list[dict[str, Any]] = []
        self.wait = None
        self.held: list[str] = []
        p = ttk.Labelframe(self.stack, text=T("QR"), padding=8)
        self.qr_amount = self.row(_("Amount"), parent=p, label_width=16, width=12)
        ttk.Button(
            p,
            text=T("Show QR code"),
            bootstyle="success",
            takefocus=False,
            command=lambda: self.start_provider("qr"),
        ).pack(anchor=self.app.text_anchor, pady=6, ipady=10)
        for line in (N_("The customer scans it with a banking app."), N_("Needs the internet")):
            ttk.Label(p, text=T(line), bootstyle="secondary").pack(anchor=self.app.text_anchor)
        return p

    def provider_setup(self) -> None:
        """Offline marks under the tender buttons; QR and the terminal only where offered."""
        offered = dict(self.app.store.get("payments") or {})
        for kind, button in self.tender_buttons.items():
            if kind in OFFLINE:
                ok, text = OFFLINE[kind]
                mark = ttk.Label(
                    button.master, text=T(text), bootstyle="success" if ok else "danger"
                )
                mark.pack(after=button, anchor=self.app.text_anchor, pady=(0, 4))
        if not offered.get("qr"):
            self.tender_buttons["qr"].configure(state="disabled")
        if offered.get("card"):
            ttk.Button(
                self.panels["card"],
                text=T("Charge on the terminal"),
                bootstyle="success",
                takefocus=False,
                command=lambda: self.start_provider("card"),
            ).pack(anchor=self.app.text_anchor, pady=6, ipady=10)

    def provider_paid(self) -> int:
        return sum(int(t["amount"]) for t in getattr(self, "provider_tenders", ()))

    def start_provider(self, kind: str) -> None:
        entry = self.qr_amount if kind == "qr" else self.card_amount
        try:
            amount = self._amount(entry)
        except KassaError as exc:
            self.show_error(exc)
            return
        if amount <= 0:
            self.show_error(KassaError("payment.bad_amount", "enter an amount"))
            return
        self.wait = PayWaitDialog(self, kind, amount, self._provider_paid)

    def _provider_paid(self, tender: dict[str, Any]) -> None:
        """A tender succeeded: keep it; complete the sale when the tenders now cover it."""
        self.provider_tenders.append(tender)
        for e in (self.qr_amount, self.card_amount):
            e.delete(0, "end")
        self.refresh()
        if self.covered():
            self.submit()

    def scan_held(self, code: str) -> bool:
        """While a payment is awaited a scan waits too (the amount asked must not change)."""
        if self.wait is None or not self.wait.winfo_exists():
            return False
        self.held.append(code)
        self.wait.held_label.configure(
            text=shown(
                _("{n} scanned item(s) will be added after the payment.").format(
                    n=i18n.number(len(self.held))
                )
            )
        )
        return True

    def waited(self) -> None:
        """The wait is over: the pay screen has the keyboard again, held scans go on."""
        self.wait = None
        held, self.held = self.held, []
        if self.winfo_exists():
            self._grab()
        scan: Callable[[str], None] | None = getattr(self.app.screen, "scan", None)
        for code in held:
            if scan is not None:
                scan(code)


class PayWaitDialog(_Dialog):
    """Waiting for one provider payment (see the module's text). Widgets tests read:
    ``state_label``, ``elapsed_label``, ``qr_label`` (its ``photo``), ``retry_button``,
    ``cancel_button``, ``confirm_button``; ``key`` and ``phase``."""

    def __init__(
        self, pay: Any, kind: str, amount: int, on_paid: Callable[[dict[str, Any]], None]
    ) -> None:
        app = pay.app
        money = i18n.money(amount, app.currency)
        title = _("QR payment") if kind == "qr" else _("Card payment")
        super().__init__(app, title, _("Amount: {amount}").format(amount=money))
        self.pay, self.kind, self.amount, self.on_paid = pay, kind, amount, on_paid
        self.key, self.phase, self.payload = "", "starting", ""
        self.polling = False
        self.started = time.monotonic()
        self.photo: Any = None
        self._build(money)
        pay_cover = getattr(type(pay), "cover_window", None)
        if pay_cover is not None:
            pay_cover(self)
        self._tick()
        self.start()

    # ---------------------------------------------------------------- building
    def _build(self, money: str) -> None:
        app = self.app
        body = ttk.Frame(self.pane)
        body.pack(fill="both", expand=True)
        self.qr_label = ttk.Label(body, anchor="center")
        self.qr_label.pack(side=app.side("left"), padx=(0, 16))
        side = ttk.Frame(body)
        side.pack(side=app.side("left"), fill="both", expand=True)
        self.amount_label = FitLabel(
            side, font=app.big_font, anchor=app.text_anchor, text=shown(money)
        )
        self.amount_label.pack(fill="x")
        self.state_label = ttk.Label(
            side,
            text="",
            font=app.mid_font,
            wraplength=max(300, self.winfo_screenwidth() // 2 - 40),
        )
        self.state_label.pack(anchor=app.text_anchor, pady=(8, 0))
        self.elapsed_label = ttk.Label(side, text="", bootstyle="secondary")
        self.elapsed_label.pack(anchor=app.text_anchor, pady=(4, 0))
        self.key_label = ttk.Label(side, text="", bootstyle="secondary")
        self.key_label.pack(anchor=app.text_anchor)
        self.held_label = ttk.Label(side, text="", bootstyle="info")
        self.held_label.pack(anchor=app.text_anchor, pady=(8, 0))
        self.error.pack(fill="x", pady=4)
        bar = ttk.Frame(self.outer)
        bar.pack(fill="x", pady=(8, 0))
        self.cancel_button = self._button(bar, _("Cancel"), "secondary", self.cancel_payment)
        self.retry_button = self._button(bar, _("Retry"), "primary", self.retry)
        self.retry_button.configure(state="disabled")
        self.confirm_button = self._button(bar, _("Payment received"), "success", self.confirm)
        if self.kind != "qr" or not app.can("payments.confirm"):
            self.confirm_button.pack_forget()

    def _button(self, bar: ttk.Frame, text: str, style: str, cmd: Callable[[], None]) -> ttk.Button:
        b = ttk.Button(bar, text=shown(text), bootstyle=style, command=cmd, takefocus=False)
        b.pack(side=self.app.side("right"), padx=4, ipady=10, ipadx=8)
        return b

    def _show_qr(self) -> None:
        from kiosk.qr_image import qr_photo

        if not self.payload:
            self.qr_label.configure(image="")
            return
        self.update_idletasks()
        size = min(self.winfo_screenheight() * 55 // 100, self.winfo_screenwidth() // 2)
        self.photo = qr_photo(self, self.payload, size)
        self.qr_label.configure(image=self.photo)
        self.app.customer.qr(self.payload, self.amount)

    # ---------------------------------------------------------------- the payment
    def start(self) -> None:
        self.key = new_id()
        self.started = time.monotonic()
        self.payload = ""
        self._show(self._new_state("starting"))
        key, api = self.key, self.app.api
        body = {"id": key, "kind": self.kind, "amount": self.amount}
        path = f"/v1/tills/{api.till}/payments"
        self.app.worker.change(lambda: api.post(path, body), self._answer, self._failed, "pay")

    def _new_state(self, state: str) -> str:
        self.phase = state
        return state

    def _answer(self, res: dict) -> None:
        if not self.winfo_exists():
            return
        p = res.get("payment") or {}
        if p.get("key") != self.key:
            return  # an answer about an earlier attempt
        if p.get("qr") and p["qr"] != self.payload:
            self.payload = p["qr"]
            self._show_qr()
        self.error.configure(text="")
        self._show(self._new_state(str(p.get("state", "pending"))))
        if self.phase == "succeeded":
            self._done(p)
        elif self.phase == "pending" and not self.polling:
            self.polling = True
            self.after(POLL_MS, self._poll)

    def _poll(self) -> None:
        self.polling = False
        if not self.winfo_exists() or self.phase != "pending":
            return
        self.polling = True
        key, api = self.key, self.app.api
        path = f"/v1/tills/{api.till}/payments/{key}"

        def ok(res: dict) -> None:
            self.polling = False
            self._answer(res)

        def err(exc: BaseException) -> None:
            self.polling = False
            if self.winfo_exists():
                self.show_error(exc)
                self.after(POLL_MS, self._poll)

        self.app.worker.read(lambda: api.get(path), ok, err, "payment")

    def _failed(self, exc: BaseException) -> None:
        if self.winfo_exists():
            self.show_error(exc)
            self._show(self._new_state("failed"))

    def _show(self, state: str) -> None:
        self.state_label.configure(text=T(STATES.get(state, STATES["pending"])))
        if self.key:
            self.key_label.configure(text=shown(_("Payment {key}").format(key=self.key[:8])))
        final = state in FINAL
        self.retry_button.configure(state="normal" if final else "disabled")
        self.cancel_button.configure(text=T("Close") if final else T("Cancel"))
        if final:
            self.app.customer.qr_done()

    def _tick(self) -> None:
        """The elapsed time, every second while the dialog is open."""
        if not self.winfo_exists():
            return
        if self.phase in ("starting", "pending"):
            s = int(time.monotonic() - self.started)
            text = _("Waiting {time}").format(time=f"{s // 60}:{s % 60:02d}")
            self.elapsed_label.configure(text=shown(text))
        self.after(1000, self._tick)

    def _done(self, p: dict) -> None:
        """Paid: the pay screen sends the sale first, then the held scans follow it."""
        tender = {"kind": self.kind, "amount": self.amount, "key": self.key}
        self.app.customer.qr_done()
        self.on_paid(tender)
        self._close()

    # ---------------------------------------------------------------- the cashier
    def cancel_payment(self) -> None:
        if self.phase not in ("starting", "pending"):
            self._close()
            return
        key, api = self.key, self.app.api
        path = f"/v1/tills/{api.till}/payments/{key}/cancel"

        def ok(res: dict) -> None:
            self._answer(res)
            if self.winfo_exists() and self.phase != "succeeded":
                self._close()

        self.app.worker.change(lambda: api.post(path, {}), ok, self._failed, "cancel")

    def retry(self) -> None:
        self.error.configure(text="")
        self.start()

    def confirm(self) -> None:
        key, api = self.key, self.app.api
        if not key or self.phase not in ("pending", "timed_out", "cancelled"):
            return
        path = f"/v1/tills/{api.till}/payments/{key}/confirm"
        self.app.worker.change(lambda: api.post(path, {}), self._answer, self.show_error, "confirm")

    def cancel(self) -> None:  # Escape or the window's close box
        self.cancel_payment()

    def _close(self) -> None:
        self.app.customer.qr_done()
        try:
            self.grab_release()
        except Exception:
            pass
        self.destroy()
        if self.kind == "card" and self.phase != "succeeded":
            # the terminal took nothing: its amount must not stay in the Card field, where it
            # would go as a typed card slip the cashier never had
            self.pay.card_amount.delete(0, "end")
            self.pay.refresh()
        self.pay.waited()
