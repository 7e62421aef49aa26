"""One handler per ledger command (``domain.commands``): decide against the book, return the event.

``actors.ledger.Ledger`` calls ``LEDGER_HANDLERS[type(command)](command, book)`` inside its commit
path, for one command at a time, so each decides against every event committed before it. A
handler changes nothing; it raises a ``KassaError`` to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.book import Book, decide_refund
from domain.commands import CountStock, FreezeOrder, LedgerCommand, RefundOrder, UnfreezeOrder
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.events import OrderFrozen, OrderRefunded, OrderUnfrozen, StockCounted
from domain.exchange import ExchangeOrder, check_refund_limit, decide_exchange
from domain.stock import SetLevel, decide_count, handle_set_level
from domain.stock_docs import ApproveCount, handle_approve_count

__all__ = [
    "LEDGER_HANDLERS",
    "handle_refund",
    "handle_freeze",
    "handle_unfreeze",
    "handle_count_stock",
]


def handle_refund(cmd: RefundOrder, book: Book) -> OrderRefunded:
    rec = book.order(cmd.order_id)
    soon = 0 <= cmd.at_us - rec.ts <= cmd.own_sale_minutes * 60_000_000
    if cmd.own_sale_minutes and cmd.by_staff == rec.staff and soon and not cmd.manager_ok:
        raise Forbidden(
            "refund.own_sale_needs_manager",
            "a refund of one's own sale this soon needs a manager's approval",
            minutes=cmd.own_sale_minutes,
        )
    out = decide_refund(rec, cmd.refund_id, cmd.lines, cmd.cash_increment, cmd.reason)
    check_refund_limit(out.amount + out.rounding, cmd.refund_limit, cmd.limit_ok)
    return out


def handle_freeze(cmd: FreezeOrder, book: Book) -> OrderFrozen:
    rec = book.order(cmd.order_id)
    if rec.frozen:
        raise Conflict("order.already_frozen", "this order is already frozen")
    if not cmd.reason.strip():
        raise InvalidInput("order.reason_required", "say why the order is frozen")
    return OrderFrozen(order_id=cmd.order_id, reason=cmd.reason[:200], rule=cmd.rule)


def handle_unfreeze(cmd: UnfreezeOrder, book: Book) -> OrderUnfrozen:
    if not book.order(cmd.order_id).frozen:
        raise Conflict("order.not_frozen", "this order is not frozen")
    return OrderUnfrozen(order_id=cmd.order_id, reason=cmd.reason[:200])


def handle_count_stock(cmd: CountStock, book: Book) -> StockCounted:
    """The counted level replaces the book's, which the event keeps as ``previous``."""
    return decide_count(cmd.sku, cmd.counted, book.stock.level(cmd.sku))


LEDGER_HANDLERS: dict[type[LedgerCommand], Callable[[Any, Book], Any]] = {
    RefundOrder: handle_refund,
    FreezeOrder: handle_freeze,
    UnfreezeOrder: handle_unfreeze,
    CountStock: handle_count_stock,
    ApproveCount: handle_approve_count,
    SetLevel: handle_set_level,
    ExchangeOrder: lambda cmd, book: decide_exchange(cmd, book.order(cmd.order_id)),
}
