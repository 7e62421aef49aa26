"""Events of a non-cash tender's life (QR, card terminal): started, then succeeded, failed,
cancelled or timed out; and a success that came too late to pay its basket.

A tender is one attempt to take money through a provider, named by its idempotency ``key`` (the
client-chosen id of the till's request): the provider is asked with that key, so a request sent
twice charges once. Every event's aggregate is the key (``agg``), so a tender's history is read
with ``Journal.by_agg([key])``. The rules are in ``domain.tender_flow``; the book checks them where
commits are serialised.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import register

__all__ = [
    "PaymentStarted",
    "PaymentSucceeded",
    "PaymentFailed",
    "PaymentCancelled",
    "PaymentTimedOut",
    "PaymentLateSuccess",
    "PAYMENT_TYPES",
]


@register("payment.started")
@dataclass(frozen=True, slots=True)
class PaymentStarted:
    key: str  # the idempotency key the provider was asked with
    ref: str  # the basket (the order's id once paid) the money is for
    kind: str  # "qr" | "card"
    provider: str  # "promptpay", "card-sim", …
    amount: int  # minor units
    currency: str
    reference: str = ""  # the provider's own reference, when it gives one at once

    @property
    def agg(self) -> str:
        return self.key


@register("payment.succeeded")
@dataclass(frozen=True, slots=True)
class PaymentSucceeded:
    key: str
    reference: str = ""  # the provider's reference (what its statement shows)
    last4: str = ""  # a card's last 4 digits, never more
    via: str = ""  # "cashier" | "callback" | "terminal" | "poll"

    @property
    def agg(self) -> str:
        return self.key


@register("payment.failed")
@dataclass(frozen=True, slots=True)
class PaymentFailed:
    key: str
    reason: str = ""

    @property
    def agg(self) -> str:
        return self.key


@register("payment.cancelled")
@dataclass(frozen=True, slots=True)
class PaymentCancelled:
    key: str
    reason: str = ""

    @property
    def agg(self) -> str:
        return self.key


@register("payment.timed_out")
@dataclass(frozen=True, slots=True)
class PaymentTimedOut:
    key: str
    after_s: int = 0

    @property
    def agg(self) -> str:
        return self.key


@register("payment.late_success")
@dataclass(frozen=True, slots=True)
class PaymentLateSuccess:
    """Money that arrived after its tender timed out or was cancelled, for a basket that was
    settled another way (or voided): journaled, and flagged to refund or void at the provider."""

    key: str
    ref: str  # the basket / order it was meant for
    provider: str
    amount: int
    currency: str
    reference: str = ""
    last4: str = ""
    via: str = ""
    action: str = "refund"  # what the manager must do at the provider

    @property
    def agg(self) -> str:
        return self.key


PAYMENT_TYPES = (
    PaymentStarted,
    PaymentSucceeded,
    PaymentFailed,
    PaymentCancelled,
    PaymentTimedOut,
    PaymentLateSuccess,
)
