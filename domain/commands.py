"""Commands decided inside the ledger, against the book, where commits are serialised.

Most events are decided by the actor that owns the state (a till decides basket events). A command
whose answer depends on state shared by every till — a refund, a freeze — is sent to the ledger as one
of these, and decided there right before it commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.book import Book, decide_refund
from domain.errors import Conflict, InvalidInput
from domain.events import OrderFrozen, OrderRefunded, OrderUnfrozen

__all__ = ["RefundOrder", "FreezeOrder", "UnfreezeOrder"]


@dataclass(frozen=True, slots=True)
class RefundOrder:
    order_id: str
    refund_id: str
    lines: dict[str, int] | None = None  # None: everything not yet refunded
    reason: str = ""
    cash_increment: int = 1

    def decide(self, book: Book) -> OrderRefunded:
        return decide_refund(book.order(self.order_id), self.refund_id, self.lines,
                             self.cash_increment, self.reason)


@dataclass(frozen=True, slots=True)
class FreezeOrder:
    order_id: str
    reason: str
    rule: str = ""

    def decide(self, book: Book) -> OrderFrozen:
        rec = book.order(self.order_id)
        if rec.frozen:
            raise Conflict("order.already_frozen", "this order is already frozen")
        if not self.reason.strip():
            raise InvalidInput("order.reason_required", "say why the order is frozen")
        return OrderFrozen(order_id=self.order_id, reason=self.reason[:200], rule=self.rule)


@dataclass(frozen=True, slots=True)
class UnfreezeOrder:
    order_id: str
    reason: str = ""

    def decide(self, book: Book) -> OrderUnfrozen:
        if not book.order(self.order_id).frozen:
            raise Conflict("order.not_frozen", "this order is not frozen")
        return OrderUnfrozen(order_id=self.order_id, reason=self.reason[:200])
