"""HQ's derivation of a store's points moves (the chain rule for points, ``domain.member_float``).

A store's book credits the points an order earns (and debits those it spends, gives back on a
refund) to the store's points float, split by the cap like any credit. HQ must split them exactly
as the store did, from the uploads alone: ``PointsFold`` runs the store's own ``LoyaltyBook``
(``loyalty.rules_set``, tiers from the store's orders, ``points_for``) over the uploaded events,
keeping for refunds the orders that name a member or pay with points, and hands the same
``(member, delta)`` moves to HQ's copy of the store's ``Floats``. Nothing about points is sent:
HQ and the store derive them with the same code from the same events.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain.book_records import OrderRecord
from domain.events import OrderCompleted, OrderRefunded
from domain.exchange_events import OrderExchanged
from domain.loyalty_book import LOYALTY_TYPES, LoyaltyBook, LoyaltyImage

__all__ = ["PointsFold"]


class _Image(msgspec.Struct, array_like=True):
    loyalty: LoyaltyImage
    records: list[OrderRecord]


class PointsFold:
    """One store's points as HQ derives them from its uploaded events, in the store's order."""

    def __init__(self) -> None:
        self.loyalty = LoyaltyBook()
        self.records: dict[str, OrderRecord] = {}  # orders a refund may take points back from

    def fold(self, body: Any, ts: int) -> list[tuple[str, int]]:
        """The points moves of one event (``OrderExchanged``: its parts, in the book's order)."""
        lb = self.loyalty
        if isinstance(body, OrderExchanged):
            return [m for part in body.parts() for m in self.fold(part, ts)]
        if isinstance(body, LOYALTY_TYPES):
            lb.apply(body, ts)
        elif isinstance(body, OrderCompleted):
            lb.apply_order(body, ts)
            if body.member or any(p.kind == "points" for p in body.payments):
                n = len(body.payments)
                self.records[body.order_id] = OrderRecord(
                    body, "", "", ts, 0, refunded_tender=[0] * n
                )
        elif isinstance(body, OrderRefunded) and body.order_id in self.records:
            rec = self.records[body.order_id]
            before, before_total = list(rec.refunded_tender), rec.refunded_total
            rec.record_refund(body)
            lb.apply_refund(body, rec, before, before_total)
        return lb.take_moves()

    def state(self) -> Any:
        return msgspec.to_builtins(_Image(self.loyalty.image(), list(self.records.values())))

    @classmethod
    def from_state(cls, s: Any) -> PointsFold:
        pf = cls()
        if s:
            im = msgspec.convert(s, _Image)
            pf.loyalty.load(im.loyalty)
            pf.records = {r.order.order_id: r for r in im.records}
        return pf
