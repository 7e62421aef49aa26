"""Open baskets: lines, quantities, discounts, pricing, park/resume/void.

A ``Basket`` is an immutable value; ``apply_basket`` folds basket events into it, and the
``decide_*`` functions turn a cashier's command into the event to journal (raising a
``KassaError`` if refused).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.catalogue import Product, Scan
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.events import (
    BasketParked,
    BasketResumed,
    BasketVoided,
    LineAdded,
    LineDiscounted,
    LineRemoved,
    OrderDiscounted,
    OrderLine,
    QuantityChanged,
)
from domain.member_discount import BasketMemberNamed, member_discount
from domain.money import (
    DEFAULT_LIMITS,
    Limits,
    check_amount,
    check_quantity,
    div_round,
    split_pro_rata,
    tax_of_line,
)

__all__ = [
    "Line",
    "Basket",
    "Pricing",
    "price_basket",
    "apply_basket",
    "decide_add",
    "decide_remove",
    "decide_quantity",
    "decide_line_discount",
    "decide_order_discount",
    "decide_void",
    "MAX_QTY",
    "MAX_WEIGHT_G",
    "check_pay",
    "repeat_line",
]

MAX_QTY = DEFAULT_LIMITS.max_line_qty  # pieces on one line (the store's limits may say otherwise)
MAX_WEIGHT_G = DEFAULT_LIMITS.max_line_weight_g  # grams on one line


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str
    sku: str
    names: dict[str, str]
    category: str
    unit: str
    qty: int
    unit_price: int
    tax_class: str
    rate_bp: int
    discount_kind: str = ""
    discount_value: int = 0
    code: str = ""
    embedded: bool = False

    @property
    def base(self) -> int:
        if self.unit == "kg":
            return div_round(self.unit_price * self.qty, 1000)
        return self.unit_price * self.qty

    @property
    def line_discount(self) -> int:
        return _discount(self.base, self.discount_kind, self.discount_value)


@dataclass(frozen=True, slots=True)
class Basket:
    basket_id: str
    till: str
    lines: tuple[Line, ...] = ()
    discount_kind: str = ""
    discount_value: int = 0
    parked: bool = False
    next_line: int = 1
    member: str = ""  # named on the sale (domain.member_discount), with their tier's discount
    tier: str = ""
    member_bp: int = 0

    def line(self, line_id: str) -> Line:
        for ln in self.lines:
            if ln.line_id == line_id:
                return ln
        raise NotFound("basket.line_not_found", f"no line {line_id}", line_id=line_id)


@dataclass(frozen=True, slots=True)
class Pricing:
    lines: tuple[OrderLine, ...]
    subtotal: int
    discount: int
    tax: int
    total: int
    member_discount: int = 0  # the tier discount, part of ``discount``


def _discount(base: int, kind: str, value: int) -> int:
    if not kind:
        return 0
    if kind == "pct":
        return min(base, div_round(base * value, 10000))
    return min(base, value)


def price_basket(basket: Basket, prices_include_tax: bool) -> Pricing:
    """Price every line: line discount, then its pro-rata share of the order discount, then tax per
    line on the final amount (see ``domain.money``)."""
    after = [ln.base - ln.line_discount for ln in basket.lines]
    order_disc = _discount(sum(after), basket.discount_kind, basket.discount_value)
    shares = split_pro_rata(order_disc, after) if basket.lines else []
    mdisc = 0
    if basket.member_bp:  # the tier's discount on what is left, pro rata (domain.member_discount)
        left = [a - s for a, s in zip(after, shares, strict=True)]
        mdisc = member_discount(sum(left), basket.member_bp)
        shares = [s + m for s, m in zip(shares, split_pro_rata(mdisc, left), strict=True)]
    out = []
    for ln, a, share in zip(basket.lines, after, shares, strict=False):
        amount = a - share
        tax, total = tax_of_line(amount, ln.rate_bp, prices_include_tax)
        out.append(
            OrderLine(
                line_id=ln.line_id,
                sku=ln.sku,
                names=ln.names,
                category=ln.category,
                unit=ln.unit,
                qty=ln.qty,
                unit_price=ln.unit_price,
                base=ln.base,
                discount=ln.base - amount,
                amount=amount,
                tax=tax,
                total=total,
                tax_class=ln.tax_class,
                rate_bp=ln.rate_bp,
            )
        )
    return Pricing(
        lines=tuple(out),
        subtotal=sum(ln.base for ln in out),
        discount=sum(ln.discount for ln in out),
        tax=sum(ln.tax for ln in out),
        total=sum(ln.total for ln in out),
        member_discount=mdisc,
    )


def apply_basket(basket: Basket, ev: object) -> Basket:
    """Fold one basket event into the basket (events were checked when decided)."""
    if isinstance(ev, LineAdded):
        line = Line(
            line_id=ev.line_id,
            sku=ev.sku,
            names=ev.names,
            category=ev.category,
            unit=ev.unit,
            qty=ev.qty,
            unit_price=ev.unit_price,
            tax_class=ev.tax_class,
            rate_bp=ev.rate_bp,
            code=ev.code,
            embedded=ev.embedded,
        )
        n = int(ev.line_id.lstrip("L") or 0) if ev.line_id.startswith("L") else 0
        return replace(basket, lines=basket.lines + (line,), next_line=max(basket.next_line, n + 1))
    if isinstance(ev, LineRemoved):
        return replace(basket, lines=tuple(ln for ln in basket.lines if ln.line_id != ev.line_id))
    if isinstance(ev, QuantityChanged):
        return replace(
            basket,
            lines=tuple(
                replace(ln, qty=ev.qty) if ln.line_id == ev.line_id else ln for ln in basket.lines
            ),
        )
    if isinstance(ev, LineDiscounted):
        return replace(
            basket,
            lines=tuple(
                replace(ln, discount_kind=ev.kind, discount_value=ev.value)
                if ln.line_id == ev.line_id
                else ln
                for ln in basket.lines
            ),
        )
    if isinstance(ev, OrderDiscounted):
        return replace(basket, discount_kind=ev.kind, discount_value=ev.value)
    if isinstance(ev, BasketMemberNamed):
        return replace(basket, member=ev.member, tier=ev.tier, member_bp=ev.discount_bp)
    if isinstance(ev, BasketParked):
        return replace(basket, parked=True)
    if isinstance(ev, BasketResumed):
        return replace(basket, parked=False)
    return basket


def _check_qty(unit: str, qty: object, limits: Limits) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise InvalidInput("basket.bad_quantity", "quantity must be a whole number of at least 1")
    return check_quantity(qty, limits.line_limit(unit), "qty")


def _base(unit: str, unit_price: int, qty: int) -> int:
    return div_round(unit_price * qty, 1000) if unit == "kg" else unit_price * qty


def _check_total(basket: Basket, limits: Limits, extra: int = 0, skip: str = "") -> None:
    """The basket's amount before discounts (with ``extra`` instead of line ``skip``) stays within
    the store's largest order."""
    total = extra + sum([ln.base for ln in basket.lines])
    if skip:
        total -= basket.line(skip).base
    check_amount(total, limits.max_order_total, "total")


def _open(basket: Basket) -> None:
    if basket.parked:
        raise Conflict("basket.parked", "the basket is parked; resume it first")


def decide_add(
    basket: Basket,
    product: Product,
    rate_bp: int,
    scan: Scan | None = None,
    qty: int | None = None,
    weight_g: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LineAdded:
    """Add a product. Weighed products need a weight (typed, from the scale, or embedded).
    Prices, quantities and the basket's total stay within ``limits``."""
    ev = _decide_add(basket, product, rate_bp, scan, qty, weight_g, limits)
    check_amount(ev.unit_price, limits.max_unit_price, "unit_price")
    _check_total(basket, limits, _base(ev.unit, ev.unit_price, ev.qty))
    return ev


def _decide_add(
    basket: Basket,
    product: Product,
    rate_bp: int,
    scan: Scan | None,
    qty: int | None,
    weight_g: int | None,
    limits: Limits,
) -> LineAdded:
    _open(basket)
    if not product.sellable:
        raise Conflict("product.not_sellable", "this product is not for sale", sku=product.sku)
    price = product.price
    embedded = False
    code = scan.code if scan else ""
    if scan is not None and scan.kind == "weight":
        weight_g = scan.weight_g
        embedded = True
    unit = product.unit
    if scan is not None and scan.kind == "price":
        # a pre-packed item labelled with its price: one piece at the printed price
        price, embedded = int(scan.price or 0), True
        if unit == "kg":
            unit, qty, weight_g = "each", 1, None
    if unit == "kg":
        if weight_g is None:
            raise InvalidInput("basket.weight_required", "weigh this item", sku=product.sku)
        q = _check_qty("kg", weight_g, limits)
    else:
        q = _check_qty("each", 1 if qty is None else qty, limits)
    return LineAdded(
        basket=basket.basket_id,
        line_id=f"L{basket.next_line}",
        sku=product.sku,
        names=product.names,
        unit=unit,
        qty=q,
        unit_price=price,
        tax_class=product.tax_class,
        rate_bp=rate_bp,
        category=product.category,
        code=code,
        embedded=embedded,
    )


def decide_remove(basket: Basket, line_id: str) -> LineRemoved:
    _open(basket)
    basket.line(line_id)
    return LineRemoved(basket=basket.basket_id, line_id=line_id)


def repeat_line(
    basket: Basket, product: Product, scan: Scan | None, merge: bool = True
) -> Line | None:
    """The line a repeat scan (or tap, ``scan`` None) of ``product`` adds one to, or None.

    Counted ("each") items scanned by their plain barcode or SKU merge into the newest line of the
    same product, code and price without a discount of its own; weighed items and labels with an
    embedded price or weight never merge. ``merge``: the product's setting, else the store's."""
    if not merge or product.unit != "each" or (scan and scan.kind not in ("barcode", "sku")):
        return None
    code = scan.code if scan else ""
    for ln in reversed(basket.lines):
        if ln.sku == product.sku and ln.code == code and ln.unit == "each":
            if ln.unit_price != product.price or ln.embedded or ln.discount_kind:
                return None
            return ln
    return None


def decide_quantity(
    basket: Basket, line_id: str, qty: int | None, limits: Limits = DEFAULT_LIMITS
) -> QuantityChanged:
    _open(basket)
    ln = basket.line(line_id)
    if ln.embedded:
        raise Conflict("basket.embedded_fixed", "a labelled item's quantity comes from its label")
    q = _check_qty(ln.unit, qty, limits)
    _check_total(basket, limits, _base(ln.unit, ln.unit_price, q), skip=line_id)
    return QuantityChanged(basket=basket.basket_id, line_id=line_id, qty=q)


def _check_discount(kind: str, value: object, base: int, limit_bp: int, approved_by: str) -> int:
    if kind not in ("pct", "amount"):
        raise InvalidInput("discount.bad_kind", "discount kind is 'pct' or 'amount'")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("discount.bad_value", "discount must be a non-negative whole number")
    if kind == "pct" and value > 10000:
        raise InvalidInput("discount.bad_value", "a percentage discount is at most 100 %")
    if kind == "amount" and value > base:
        raise InvalidInput("discount.too_large", "the discount exceeds the amount", base=base)
    disc = _discount(base, kind, value)
    # the role's limit is a share of the amount discounted; above it a manager must approve. A
    # percentage is judged as asked (10 % of 114.25 rounds to 11.43, still 10 %); an amount may
    # reach the limit's share rounded the same way the discount itself is
    over = value > limit_bp if kind == "pct" else disc > div_round(base * limit_bp, 10000)
    if not approved_by and over:
        raise Forbidden(
            "discount.over_limit",
            "this discount needs a manager's approval",
            limit_bp=limit_bp,
            requested=disc,
            base=base,
        )
    return value


def decide_line_discount(
    basket: Basket, line_id: str, kind: str, value: int | None, limit_bp: int, approved_by: str = ""
) -> LineDiscounted:
    _open(basket)
    ln = basket.line(line_id)
    checked = _check_discount(kind, value, ln.base, limit_bp, approved_by)
    return LineDiscounted(
        basket=basket.basket_id, line_id=line_id, kind=kind, value=checked, approved_by=approved_by
    )


def decide_order_discount(
    basket: Basket, kind: str, value: int | None, limit_bp: int, approved_by: str = ""
) -> OrderDiscounted:
    _open(basket)
    if not basket.lines:
        raise Conflict("basket.empty", "the basket is empty")
    after = sum(ln.base - ln.line_discount for ln in basket.lines)
    checked = _check_discount(kind, value, after, limit_bp, approved_by)
    return OrderDiscounted(
        basket=basket.basket_id, kind=kind, value=checked, approved_by=approved_by
    )


def decide_park(basket: Basket, note: str = "") -> BasketParked:
    _open(basket)
    if not basket.lines:
        raise Conflict("basket.empty", "nothing to park")
    return BasketParked(basket=basket.basket_id, note=note[:200])


def decide_resume(basket: Basket) -> BasketResumed:
    if not basket.parked:
        raise Conflict("basket.not_parked", "this basket is not parked")
    return BasketResumed(basket=basket.basket_id)


def decide_void(basket: Basket, prices_include_tax: bool, reason: str = "") -> BasketVoided:
    total = price_basket(basket, prices_include_tax).total
    return BasketVoided(
        basket=basket.basket_id, reason=reason[:200], lines=len(basket.lines), amount=total
    )


def check_pay(total: int, tendered: list[int], limits: Limits = DEFAULT_LIMITS) -> None:
    """An order's total and each tender handed over stay within the store's ``limits``."""
    check_amount(total, limits.max_order_total, "total")
    for amount in tendered:
        check_amount(amount, limits.max_tender, "tender")
