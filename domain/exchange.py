"""Exchanges: return lines of an order and sell other items in one transaction, decided in the
ledger where commits are serialised.

* The returned part is decided exactly as a refund (``domain.book_records.decide_refund``: whole
  quantities, cumulative line shares, never more than was paid for a line, a frozen order refuses)
  and checked at commit by the same rule as a refund (``Book._check_refund``).
* The sold part is a normal sale: its own order id and number, priced lines (``price_basket``),
  payments balancing its total, stock moves.
* Settlement: the returned value pays for the new items first (``credit``, taken from the original
  tenders wallet, card, cash, exactly); if the new items cost more, the customer pays the rest with
  ordinary tenders (``settle``: cash rounding, change); if less, the rest goes back by the refund's
  tender rules (original tenders, cash rounded unless the order is then returned in full).
* Refund limits: money given back above ``refund_limit`` (store.json ``refund_limits.
  needs_manager_over``) is refused with ``refund.needs_manager`` unless a manager approved —
  for a refund and for an exchange alike (``check_refund_limit``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import msgspec

from domain.basket import Basket, Line, Pricing, price_basket
from domain.book_records import TENDER_ORDER, OrderRecord, decide_refund
from domain.commands import LedgerCommand
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.events import OrderCompleted, Payment
from domain.exchange_events import OrderExchanged
from domain.money import CEILING, check_amount, check_quantity, round_cash
from domain.payments import TenderIn, check_tender, settle

if TYPE_CHECKING:
    from domain.book import Book

__all__ = [
    "ExchangeItem",
    "ExchangeOrder",
    "decide_exchange",
    "check_exchanged",
    "check_refund_limit",
    "price_items",
    "quote",
    "OVER_LIMIT_ACTION",
    "refund_limit",
]

OVER_LIMIT_ACTION = "orders.refund_over_limit"  # the permission that approves a large refund
MAX_ITEMS = 200


class ExchangeItem(msgspec.Struct, frozen=True):
    """A new item as the gateway priced it from the catalogue (qty: pieces, or grams for kg)."""

    sku: str
    names: dict[str, str]
    unit: str
    qty: int
    unit_price: int
    tax_class: str
    rate_bp: int
    category: str = ""


class ExchangeOrder(LedgerCommand, frozen=True):
    """Return ``returned`` ({line id: qty}) of ``order_id`` and sell ``items`` as order
    ``sold_id``; ``tenders`` pay what the new items cost beyond the returned value."""

    order_id: str
    exchange_id: str
    sold_id: str
    returned: dict[str, int]
    items: tuple[ExchangeItem, ...]
    tenders: tuple[TenderIn, ...] = ()
    reason: str = ""
    prices_include_tax: bool = True
    cash_increment: int = 1
    refund_limit: int = 0  # money given back above this needs a manager (0: no limit)
    manager_ok: bool = False


def refund_limit(config: Any) -> int:
    """store.json ``refund_limits: {needs_manager_over: <minor units>}``; 0 (the default, also for
    a missing or unusable value): no limit."""
    value = (getattr(config, "refund_limits", None) or {}).get("needs_manager_over", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return min(value, CEILING)


def check_refund_limit(given: int, limit: int, manager_ok: bool) -> None:
    """Refuse giving back more than ``limit`` without a manager's approval."""
    if limit > 0 and given > limit and not manager_ok:
        raise Forbidden(
            "refund.needs_manager",
            "a refund this large needs a manager's approval",
            action=OVER_LIMIT_ACTION,
            limit=limit,
            amount=given,
        )


def price_items(items: tuple[ExchangeItem, ...], prices_include_tax: bool, sold_id: str) -> Pricing:
    if not items:
        raise Conflict("basket.empty", "scan the new items first")
    if len(items) > MAX_ITEMS:
        raise InvalidInput("input.bad_field", "too many new items", field="items")
    lines = []
    for i, it in enumerate(items, 1):
        check_quantity(it.qty, CEILING, "qty")
        check_amount(it.unit_price, CEILING, "unit_price")
        if it.qty <= 0:
            raise InvalidInput("input.bad_field", "a new item's quantity is positive", field="qty")
        lines.append(
            Line(
                line_id=f"X{i}",
                sku=it.sku,
                names=dict(it.names),
                category=it.category,
                unit=it.unit,
                qty=it.qty,
                unit_price=it.unit_price,
                tax_class=it.tax_class,
                rate_bp=it.rate_bp,
            )
        )
    return price_basket(Basket(basket_id=sold_id, till="", lines=tuple(lines)), prices_include_tax)


def quote(
    rec: OrderRecord,
    returned: dict[str, int],
    items: tuple[ExchangeItem, ...],
    prices_include_tax: bool,
) -> dict[str, Any]:
    """What the exchange would return and sell, before it is made (the till shows it while
    the cashier picks lines and scans items: either side may still be empty)."""
    back = decide_refund(rec, "quote", returned) if returned else None
    sold = price_items(items, prices_include_tax, "quote") if items else None
    value = back.amount if back else 0
    cost = sold.total if sold else 0
    return {
        "returned": value,
        "sold": cost,
        "difference": cost - value,
        "returned_lines": [msgspec.to_builtins(rl) for rl in back.lines] if back else [],
        "sold_lines": [msgspec.to_builtins(ln) for ln in sold.lines] if sold else [],
    }


def _need_lines(returned: dict[str, int]) -> dict[str, int]:
    if not returned:
        raise InvalidInput("refund.no_lines", "choose what to return")
    return returned


def _allocate(
    rooms: list[list[Any]], amount: int, cash_increment: int, final: bool, exact: bool
) -> list[Payment]:
    """Take ``amount`` from the tenders' rooms ([payment, room] in refund order); cash rounded to
    the increment (everything left when ``final``) unless ``exact``."""
    out: list[Payment] = []
    left = amount
    for slot in rooms:
        p, room = slot
        if p.kind != "cash" or exact:
            give = min(left, room)
        else:
            give = room if final else min(room, round_cash(left, cash_increment))
        if give <= 0:
            continue
        slot[1] -= give
        left -= give
        out.append(
            Payment(kind=p.kind, amount=give, reference=p.reference, last4=p.last4, member=p.member)
        )
    return out


def decide_exchange(cmd: ExchangeOrder, rec: OrderRecord) -> OrderExchanged:
    back = decide_refund(
        rec, cmd.exchange_id, _need_lines(dict(cmd.returned)), cmd.cash_increment, cmd.reason
    )
    pricing = price_items(cmd.items, cmd.prices_include_tax, cmd.sold_id)
    value, cost = back.amount, pricing.total
    refunded = rec.refunded_tender or [0] * len(rec.order.payments)
    rooms = [
        [p, p.amount - refunded[i]]
        for i, p in sorted(
            enumerate(rec.order.payments), key=lambda ip: TENDER_ORDER.get(ip[1].kind, 9)
        )
    ]
    credit = _allocate(rooms, min(value, cost), cmd.cash_increment, False, exact=True)
    final = all(
        rec.refunded_qty.get(ln.line_id, 0) + cmd.returned.get(ln.line_id, 0) >= ln.qty
        for ln in rec.order.lines
    )
    money_back = _allocate(rooms, value - cost, cmd.cash_increment, final, exact=False)
    given = sum(t.amount for t in money_back)
    check_refund_limit(given, cmd.refund_limit, cmd.manager_ok)
    pay = settle(
        cost - min(value, cost), [check_tender(t) for t in cmd.tenders], cmd.cash_increment
    )
    tenders = (*credit, *money_back)
    returned = replace(back, tenders=tenders, rounding=sum(t.amount for t in tenders) - value)
    members = {p.member for p in pay.payments if p.kind == "wallet"}
    sold = OrderCompleted(
        order_id=cmd.sold_id,
        number="",
        currency=rec.order.currency,
        prices_include_tax=cmd.prices_include_tax,
        lines=pricing.lines,
        subtotal=pricing.subtotal,
        discount=pricing.discount,
        tax=pricing.tax,
        total=cost,
        rounding=pay.rounding,
        payments=(*credit, *pay.payments),
        change=pay.change,
        member=rec.order.member or (next(iter(members)) if len(members) == 1 else ""),
    )
    return OrderExchanged(
        exchange_id=cmd.exchange_id,
        order_id=rec.order.order_id,
        returned=returned,
        sold=sold,
        credit=tuple(credit),
        difference=sum(p.amount for p in pay.payments) - given,
        reason=cmd.reason[:200],
    )


def check_exchanged(book: Book, body: OrderExchanged, till: str) -> OrderExchanged:
    """The book's check before an exchange commits: the returned part by the refund rule, the sold
    part as a sale, the credit within both; numbers given to both parts."""
    from domain.book import check_bounds

    book.order(body.order_id)  # not found: refused
    returned, sold = body.returned, body.sold
    if returned.order_id != body.order_id:
        raise NotFound("order.not_found", "the exchange names another order")
    check_bounds(returned, book.rules.limits)
    check_bounds(sold, book.rules.limits)
    if book.rules.require_open_day and till:
        book.days.require_open(till)
    book._check_refund(returned)
    if sold.order_id in book.orders or sold.order_id in book.closed_baskets:
        raise Conflict("order.already_completed", "this basket was already paid or voided")
    if not sold.lines:
        raise Conflict("basket.empty", "nothing to pay for")
    if sum(ln.total for ln in sold.lines) != sold.total:
        raise InvalidInput("order.bad_total", "line totals do not add up")
    credit = sum(p.amount for p in body.credit)
    paid = sum(p.amount for p in sold.payments)
    if (
        paid != sold.total + sold.rounding
        or credit > returned.amount
        or any(p.amount <= 0 for p in sold.payments)
        or tuple(sold.payments[: len(body.credit)]) != body.credit
        or tuple(returned.tenders[: len(body.credit)]) != body.credit
    ):
        raise Conflict("payment.unbalanced", "payments must equal the total", total=sold.total)
    book.floats.check_after(returned, sold)  # the wallet credit first (domain.member_float)
    return replace(
        body,
        returned=replace(returned, number=returned.number or book.numbers.next_refund(till)),
        sold=replace(sold, number=sold.number or book.numbers.next_order(till)),
    )
