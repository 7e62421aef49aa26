"""The payment-provider port: what the store asks of anything that takes money for it.

A provider is asked with the tender's idempotency ``key`` (the till's request id): asking to
``start`` the same key again answers the same payment and never charges twice. ``status`` and
``cancel`` answer where the payment stands. Providers are plug-ins (``actors.payments.registry``);
two ship: PromptPay dynamic QR (``promptpay``) and a card terminal driver with its simulator
(``card``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Pending", "Status", "Provider", "PENDING", "SUCCEEDED", "FAILED", "CANCELLED"]

PENDING, SUCCEEDED, FAILED, CANCELLED = "pending", "succeeded", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class Pending:
    """A started payment: what the customer is shown (``qr`` payload) and the provider's
    reference, if it gives one at once."""

    key: str
    state: str = PENDING
    qr: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Status:
    state: str  # pending | succeeded | failed | cancelled
    reference: str = ""
    last4: str = ""  # a card's last 4 digits, never more
    reason: str = ""


@runtime_checkable
class Provider(Protocol):
    name: str  # "promptpay", "card-sim", …
    kind: str  # "qr" | "card"
    offline: bool  # works without the internet (a card terminal's offline mode)

    def start(self, key: str, amount: int, currency: str, ref: str) -> Pending: ...

    def status(self, key: str) -> Status: ...

    def cancel(self, key: str) -> Status: ...

    def notify(self, key: str, status: Status) -> None:
        """A confirmation from outside (the provider's signed callback, the cashier)."""
