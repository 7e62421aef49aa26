"""One handler per till command: decide against the till's baskets, return the event to journal.

A handler is ``handle(command, at) -> event``: ``at`` (a ``Counter``) is what the till knows when
the cashier asks — its open basket, its parked ones, the store's settings, the catalogue, and the
cashier's discount limit. A handler changes nothing: it raises a ``KassaError`` to refuse, and the
till applies the event only once the ledger has committed it. ``TILL_HANDLERS`` maps each command
class (``domain.till_commands``) to its handler; ``actors.till.Till.prepare`` dispatches on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.basket import (
    Basket,
    check_pay,
    decide_add,
    decide_line_discount,
    decide_order_discount,
    decide_park,
    decide_quantity,
    decide_remove,
    decide_resume,
    decide_void,
    price_basket,
    repeat_line,
)
from domain.catalogue import CatalogueIndex, Product, decode_scan
from domain.catalogue import Scan as ScanCode
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import (
    BasketParked,
    BasketResumed,
    BasketVoided,
    LineAdded,
    LineDiscounted,
    LineRemoved,
    OrderCompleted,
    OrderDiscounted,
    QuantityChanged,
)
from domain.member_discount import BasketMemberNamed
from domain.payments import check_tender, settle
from domain.store import StoreConfig
from domain.till_commands import (
    AddSku,
    DiscountLine,
    DiscountOrder,
    NameMember,
    Park,
    Pay,
    RemoveLine,
    Resume,
    Scan,
    SetQuantity,
    TillCommand,
    Void,
)

__all__ = ["Counter", "TILL_HANDLERS", "decide_till_command"]


@dataclass(slots=True)  # not frozen: built for every command, and a frozen init costs 1 µs more
class Counter:
    """What a till command is decided against (a handler reads it, never changes it)."""

    till: str
    basket: Basket | None  # the open basket, if any
    baskets: Mapping[str, Basket]  # every basket of this till, parked ones included
    config: StoreConfig
    catalogue: CatalogueIndex
    limit_bp: int = 10000  # the cashier's role may give this much discount without approval
    approved_by: str = ""  # a manager approved this command

    def basket_or_new(self) -> Basket:
        return self.basket or Basket(basket_id=str(uuid.uuid4()), till=self.till)

    def need_basket(self) -> Basket:
        if self.basket is None:
            raise Conflict("basket.none", "there is no open basket")
        return self.basket


def handle_scan(cmd: Scan, at: Counter) -> LineAdded | QuantityChanged:
    """A scan adds a line, or one more to the line of a repeat scan (``repeat_line``)."""
    if not cmd.code.strip():
        raise InvalidInput("scan.bad_code", "scan a barcode, or type a SKU")
    cfg = at.config
    basket = at.basket_or_new()
    scan = decode_scan(cmd.code, cfg.embedded)
    product = at.catalogue.resolve(scan)
    again = _repeat(cmd.qty, cmd.weight_g, basket, product, scan, cfg)
    if again is not None:
        return again
    return decide_add(
        basket, product, cfg.rate_of(product.tax_class), scan, cmd.qty, cmd.weight_g, cfg.limits
    )


def _repeat(
    qty: int | None,
    weight_g: int | None,
    basket: Basket,
    product: Product,
    scan: ScanCode | None,
    cfg: StoreConfig,
) -> QuantityChanged | None:
    """One more on the line of a repeat scan or tap, when the product and the store merge."""
    if qty is not None or weight_g is not None or not product.sellable or basket.parked:
        return None
    merge = cfg.merge_repeat_scans if product.merge is None else product.merge
    same = repeat_line(basket, product, scan, merge)
    return None if same is None else decide_quantity(basket, same.line_id, same.qty + 1, cfg.limits)


def handle_add(cmd: AddSku, at: Counter) -> LineAdded | QuantityChanged:
    """An item picked from the search or the item grid (a repeat tap merges as a scan does)."""
    product = at.catalogue.by_sku.get(cmd.sku)
    if product is None:
        raise NotFound("product.not_found", "no such product", code=cmd.sku)
    cfg = at.config
    again = _repeat(cmd.qty, cmd.weight_g, at.basket_or_new(), product, None, cfg)
    if again is not None:
        return again
    return decide_add(
        at.basket_or_new(),
        product,
        cfg.rate_of(product.tax_class),
        None,
        cmd.qty,
        cmd.weight_g,
        cfg.limits,
    )


def handle_remove(cmd: RemoveLine, at: Counter) -> LineRemoved:
    return decide_remove(at.need_basket(), cmd.line_id)


def handle_quantity(cmd: SetQuantity, at: Counter) -> QuantityChanged:
    return decide_quantity(at.need_basket(), cmd.line_id, cmd.qty, at.config.limits)


def handle_discount_line(cmd: DiscountLine, at: Counter) -> LineDiscounted:
    return decide_line_discount(
        at.need_basket(), cmd.line_id, cmd.kind, cmd.value, at.limit_bp, at.approved_by
    )


def handle_discount_order(cmd: DiscountOrder, at: Counter) -> OrderDiscounted:
    return decide_order_discount(at.need_basket(), cmd.kind, cmd.value, at.limit_bp, at.approved_by)


def handle_park(cmd: Park, at: Counter) -> BasketParked:
    return decide_park(at.need_basket(), cmd.note)


def handle_resume(cmd: Resume, at: Counter) -> BasketResumed:
    if at.basket is not None and at.basket.lines:
        raise Conflict("basket.open", "park or finish the open basket first")
    basket = at.baskets.get(cmd.basket)
    if basket is None:
        raise NotFound("basket.not_found", "no such parked basket")
    return decide_resume(basket)


def handle_void(cmd: Void, at: Counter) -> BasketVoided:
    return decide_void(at.need_basket(), at.config.prices_include_tax, cmd.reason)


def handle_pay(cmd: Pay, at: Counter) -> OrderCompleted:
    """Settle the open basket: its priced lines, the tenders (cash rounding and change), and the
    member (given, or the one whose wallet pays). The ledger numbers the order when it commits."""
    basket = at.need_basket()
    if basket.parked:
        raise Conflict("basket.parked", "resume the basket first")
    cfg = at.config
    tenders = [check_tender(t) for t in cmd.tenders]
    p = price_basket(basket, cfg.prices_include_tax)
    if not p.lines:
        raise Conflict("basket.empty", "nothing to pay for")
    check_pay(p.total, [t.amount for t in tenders], cfg.limits)
    s = settle(p.total, tenders, cfg.cash_increment)
    members = {t.member for t in tenders if t.kind in ("wallet", "points")}
    member = basket.member or cmd.member or (next(iter(members)) if len(members) == 1 else "")
    return OrderCompleted(
        order_id=basket.basket_id,
        number="",
        currency=cfg.currency,
        prices_include_tax=cfg.prices_include_tax,
        lines=p.lines,
        subtotal=p.subtotal,
        discount=p.discount,
        tax=p.tax,
        total=p.total,
        rounding=s.rounding,
        payments=s.payments,
        change=s.change,
        member=member[:64],
        member_discount=p.member_discount,
        member_discount_bp=basket.member_bp if p.member_discount else 0,
        tier=basket.tier if p.member_discount else "",
    )


def handle_member(cmd: NameMember, at: Counter) -> BasketMemberNamed:
    """Name the sale's member (a card scanned, or the pay screen's look-up): the basket is priced
    with their tier's discount from now on (the ledger checks it is their tier's)."""
    basket = at.basket_or_new()
    if basket.parked:
        raise Conflict("basket.parked", "resume the basket first")
    member, bp = cmd.member.strip(), cmd.discount_bp
    return BasketMemberNamed(
        basket.basket_id, member, cmd.tier if member else "", bp if member else 0
    )


TILL_HANDLERS: dict[type[TillCommand], Callable[[Any, Counter], Any]] = {
    Scan: handle_scan,
    AddSku: handle_add,
    RemoveLine: handle_remove,
    SetQuantity: handle_quantity,
    DiscountLine: handle_discount_line,
    DiscountOrder: handle_discount_order,
    Park: handle_park,
    Resume: handle_resume,
    Void: handle_void,
    Pay: handle_pay,
    NameMember: handle_member,
}


def decide_till_command(cmd: TillCommand, at: Counter) -> Any:
    """The event ``cmd`` asks for, decided by its handler."""
    return TILL_HANDLERS[type(cmd)](cmd, at)
