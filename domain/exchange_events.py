"""The exchange event: one journal event that returns lines of an order and sells other items.

``OrderExchanged`` holds both halves as the bodies every reader already knows: ``returned`` is an
``OrderRefunded`` of the original order (its lines, and every tender it gives back, original
tenders first), ``sold`` an ``OrderCompleted`` (a normal sale with its own number, lines, payments
and stock moves). ``credit`` is the part of the returned value that pays for the new items instead
of going back to the customer: the same tenders (kind, reference, member) appear in
``returned.tenders`` and in ``sold.payments``, so the book stays exact for later refunds of either
order, and the analytics step counts them as the tender kind ``exchange`` (no money moved).
``difference`` = what the customer pays (> 0) or gets back (< 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import OrderCompleted, OrderRefunded, Payment, register

__all__ = ["OrderExchanged", "EXCHANGE_TENDER"]

EXCHANGE_TENDER = "exchange"  # the tender kind analytics gives the credit (no money moved)


@register("order.exchanged")
@dataclass(frozen=True, slots=True)
class OrderExchanged:
    exchange_id: str
    order_id: str  # the original order (the event's aggregate)
    returned: OrderRefunded
    sold: OrderCompleted
    credit: tuple[Payment, ...]  # returned value applied to the new sale, per original tender
    difference: int  # sold total (+ rounding) minus returned value: > 0 the customer pays
    reason: str = ""

    def parts(self) -> tuple[OrderRefunded, OrderCompleted]:
        return self.returned, self.sold

    @property
    def credit_total(self) -> int:
        return sum(p.amount for p in self.credit)
