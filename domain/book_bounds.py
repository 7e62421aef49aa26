"""The ledger's last word on sizes: ``check_bounds`` refuses (``amount.too_large`` /
``quantity.too_large``) an event whose amounts or quantities exceed the store's limits or
``CEILING``, whatever path the event came by (``domain.book`` calls it before every commit)."""

from __future__ import annotations

from typing import Any

from domain import day as _day
from domain.events import (
    BasketVoided,
    LineAdded,
    LineDiscounted,
    OrderCompleted,
    OrderDiscounted,
    OrderRefunded,
    QuantityChanged,
    StockAdjusted,
    StockCounted,
    StockReceived,
    WalletToppedUp,
)
from domain.money import CEILING, DEFAULT_LIMITS, Limits, check_amount, check_quantity

__all__ = ["check_bounds"]


def check_bounds(body: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse (``amount.too_large`` / ``quantity.too_large``) an event whose amounts or quantities
    exceed ``limits`` or ``CEILING``: the ledger's last word, whatever path the event came by."""
    if isinstance(body, LineAdded):
        check_amount(body.unit_price, limits.max_unit_price, "unit_price")
        check_quantity(body.qty, limits.line_limit(body.unit), "qty")
    elif isinstance(body, QuantityChanged):
        check_quantity(body.qty, max(limits.max_line_qty, limits.max_line_weight_g), "qty")
    elif isinstance(body, (LineDiscounted, OrderDiscounted)):
        check_amount(body.value, CEILING, "discount")
    elif isinstance(body, BasketVoided):
        check_amount(body.amount, CEILING, "amount")
    elif isinstance(body, OrderCompleted):
        check_amount(body.total, limits.max_order_total, "total")
        for v in (body.subtotal, body.discount, body.tax, body.rounding, body.change):
            check_amount(v, CEILING, "amount")
        for ln in body.lines:
            check_amount(ln.unit_price, limits.max_unit_price, "unit_price")
            check_quantity(ln.qty, limits.line_limit(ln.unit), "qty")
            for v in (ln.base, ln.discount, ln.amount, ln.tax, ln.total):
                check_amount(v, CEILING, "amount")
        for p in body.payments:
            for v in (p.amount, p.tendered):
                check_amount(v, limits.max_tender, "tender")
            check_amount(p.change, CEILING, "change")
    elif isinstance(body, OrderRefunded):
        for v in (
            body.amount,
            body.rounding,
            *(rl.amount for rl in body.lines),
            *(rl.tax for rl in body.lines),
            *(t.amount for t in body.tenders),
        ):
            check_amount(v, CEILING, "amount")
        for rl in body.lines:
            check_quantity(rl.qty, CEILING, "qty")
    elif isinstance(body, WalletToppedUp):
        check_amount(body.amount, limits.max_topup, "amount")
    elif isinstance(body, StockReceived):
        check_quantity(body.qty, limits.max_stock_qty, "qty")
    elif isinstance(body, StockAdjusted):
        check_quantity(body.delta, limits.max_stock_qty, "delta")
    elif isinstance(body, StockCounted):
        check_quantity(body.counted, limits.max_stock_qty, "counted")
        check_quantity(body.previous, CEILING, "previous")
    elif isinstance(body, _day.DayOpened):
        check_amount(body.float, limits.max_tender, "float")
    elif isinstance(body, _day.DayClosed):
        check_amount(body.counted_cash, limits.max_tender, "counted_cash")
