"""PromptPay dynamic QR: the payload is built here (``domain.promptpay``) for exactly the amount;
the customer's banking app pays it. The money's arrival is confirmed by the cashier (who sees it
in the shop's banking app) or by the bank's signed callback; until then the payment is pending."""

from __future__ import annotations

import threading

from actors.payments.provider import CANCELLED, PENDING, SUCCEEDED, Pending, Status
from domain.errors import InvalidInput
from domain.promptpay import payload

__all__ = ["PromptPayProvider"]


class PromptPayProvider:
    name = "promptpay"
    kind = "qr"
    offline = False  # the customer's bank must reach the shop's: the payment needs the network

    def __init__(self, merchant: str, id_type: str = "auto") -> None:
        payload(merchant, None, id_type)  # refuses a merchant id PromptPay does not take
        self.merchant, self.id_type = merchant, id_type
        self.payments: dict[str, tuple[Pending, Status]] = {}
        self.lock = threading.Lock()

    def start(self, key: str, amount: int, currency: str, ref: str) -> Pending:
        if currency != "THB":
            raise InvalidInput("payment.bad_setup", "PromptPay takes baht (THB) only")
        with self.lock:
            known = self.payments.get(key)
            if known is not None:  # the same request again: the same QR, no second payment
                return known[0]
            p = Pending(key, PENDING, payload(self.merchant, amount, self.id_type))
            self.payments[key] = (p, Status(PENDING))
            return p

    def status(self, key: str) -> Status:
        with self.lock:
            known = self.payments.get(key)
        return known[1] if known else Status(PENDING)

    def cancel(self, key: str) -> Status:
        with self.lock:
            known = self.payments.get(key)
            if known is not None and known[1].state == SUCCEEDED:
                return known[1]  # paid already: too late to cancel
            if known is not None:
                self.payments[key] = (known[0], Status(CANCELLED))
            return Status(CANCELLED)

    def notify(self, key: str, status: Status) -> None:
        with self.lock:
            known = self.payments.get(key)
            self.payments[key] = (known[0] if known else Pending(key), status)
