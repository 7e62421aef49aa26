"""One-line orders built by hand, for tests that hand a body straight to a book or a journal."""

from __future__ import annotations

from domain.events import OrderCompleted, OrderLine, Payment

__all__ = ["one_line_order"]


def one_line_order(
    oid: str,
    price: int,
    payments: tuple[Payment, ...],
    *,
    total: int | None = None,
    sku: str = "X",
    number: str = "",
    rate_bp: int = 0,
) -> OrderCompleted:
    """An order of one item at ``price`` (its total ``total``, the price unless given) paid by
    ``payments``; no tax, no discount."""
    total = price if total is None else total
    line = OrderLine(
        line_id="L1",
        sku=sku,
        names={"en": sku.lower()},
        category="",
        unit="each",
        qty=1,
        unit_price=price,
        base=price,
        discount=0,
        amount=price,
        tax=0,
        total=price,
        tax_class="std",
        rate_bp=rate_bp,
    )
    return OrderCompleted(
        order_id=oid,
        number=number,
        currency="THB",
        prices_include_tax=True,
        lines=(line,),
        subtotal=price,
        discount=0,
        tax=0,
        total=total,
        rounding=0,
        payments=payments,
    )
