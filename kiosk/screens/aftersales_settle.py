"""Settling an exchange (a part of ``ExchangePanel``): the customer pays the difference in cash or
by card, or gets the rest back; a refund above the store's limit asks for a manager's PIN and is
sent again with the approval; then the refund and sale receipts are printed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import ttkbootstrap as ttk

from domain.money import to_minor
from hw.receipt import exchange_receipts
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import _
from kiosk.screens.dialogs import FormDialog

__all__ = ["ExchangeSettle", "APPROVAL_CODES"]

APPROVAL_CODES = ("auth.forbidden", "refund.needs_manager")


class ExchangeSettle(ttk.Frame):
    """Pay cash, pay card, give back (``ExchangePanel`` holds the state it reads)."""

    app: Any
    order: dict
    quoted: dict[str, Any]
    close: Any

    def _args(self) -> dict[str, Any]:
        raise NotImplementedError

    # ---------------------------------------------------------------- settle
    def pay_cash(self) -> None:
        due = int(self.quoted.get("difference", 0))
        cur = self.app.currency

        def ok(values: dict[str, str]) -> str | None:
            try:
                amount = to_minor(values["cash"].strip(), cur)
            except Exception:
                return _("That amount is not valid.")
            if amount < due:
                return _("Not enough cash.")
            self.send([{"kind": "cash", "amount": amount}])
            return None

        self.app.open_dialog(
            FormDialog(
                self.app,
                _("Customer pays {amount}").format(amount=self.app.money(due)),
                [("cash", _("Cash received"), _plain(due, cur))],
                ok,
                _("Settle"),
            )
        )

    def pay_card(self) -> None:
        due = int(self.quoted.get("difference", 0))

        def ok(values: dict[str, str]) -> str | None:
            ref, last4 = values["reference"].strip(), values["last4"].strip()
            if not ref or not (len(last4) == 4 and last4.isdigit()):
                return _("Give the terminal's reference and the card's last 4 digits.")
            self.send([{"kind": "card", "amount": due, "reference": ref, "last4": last4}])
            return None

        self.app.open_dialog(
            FormDialog(
                self.app,
                _("Customer pays {amount}").format(amount=self.app.money(due)),
                [("reference", _("Terminal reference"), ""), ("last4", _("Last 4 digits"), "")],
                ok,
                _("Settle"),
            )
        )

    def print_receipts(self, ex: dict, when_us: int | None) -> None:
        """The returned part's refund receipt and the new order's sale receipt."""
        q = self.app.print_queue
        if q is None or not ex.get("sold"):
            return
        s = self.app.session
        who = {"till": self.app.till, "staff": s.name if s else "", "when_us": when_us}
        lang = i18n.current()
        returned, sold = exchange_receipts(ex)  # the credit as "Exchange credit"
        q.submit_refund(returned, lang, original=self.order, **who)
        q.submit(sold, lang, **who)

    def give_back(self) -> None:
        self.send([])

    def send(
        self, tenders: list[dict], approval: dict | None = None, cid: str | None = None
    ) -> None:
        cid = cid or new_id()
        body: dict[str, Any] = {"id": cid, **self._args(), "tenders": tenders}
        if approval:
            body.update(approval)
        oid = quote(str(self.order["order_id"]), safe="")
        client = self.app.api

        def ok(res: dict) -> None:
            ex = res.get("result") or {}
            diff = int(ex.get("difference", 0))
            sold = ex.get("sold") or {}
            if diff < 0:
                msg = _("Exchanged. Give back {amount}.").format(amount=self.app.money(-diff))
            else:
                msg = _("Exchanged. New order {number}.").format(number=sold.get("number", ""))
            self.app.notify(msg, error=False)
            self.print_receipts(ex, res.get("ts"))
            self.close(True)

        def err(exc: BaseException) -> None:
            code = getattr(exc, "code", "")
            if code in APPROVAL_CODES and approval is None:
                action = str(getattr(exc, "details", {}).get("action") or "orders.exchange")
                self.app.approve(
                    action,
                    lambda ap: self.send(tenders, ap),
                    subject=_("Exchange of order {number}").format(
                        number=self.order.get("number", "")
                    ),
                )
                return
            self.app.fail(exc)

        self.app.worker.change(
            lambda: client.post(f"/v1/orders/{oid}/exchange", body), ok, err, "exchange"
        )


def _plain(amount: int, currency: str) -> str:
    """An amount as a person types it (no currency sign or grouping): 455.00."""
    from decimal import Decimal

    return str(Decimal(amount).scaleb(-i18n.minor_digits(currency)))
