"""A cashier's discount at exactly their limit is allowed even when the money rounds up."""

from __future__ import annotations

import pytest

from domain.basket import (
    Basket,
    apply_basket,
    decide_add,
    decide_line_discount,
    decide_order_discount,
)
from domain.catalogue import Product
from domain.errors import Forbidden

ODD = Product("ODD", {"en": "Odd"}, 11425)  # 114.25: 10 % is 11.425, rounds to 11.43


def _basket() -> Basket:
    b = Basket("B1", "T1")
    return apply_basket(b, decide_add(b, ODD, 700))


def test_ten_percent_of_114_25_is_within_a_ten_percent_limit() -> None:
    b = _basket()
    assert decide_line_discount(b, "L1", "pct", 1000, limit_bp=1000).value == 1000
    assert decide_order_discount(b, "pct", 1000, limit_bp=1000).value == 1000


def test_the_rounded_amount_of_the_limit_is_allowed_one_more_is_not() -> None:
    b = _basket()
    assert decide_line_discount(b, "L1", "amount", 1143, limit_bp=1000).value == 1143
    with pytest.raises(Forbidden):
        decide_line_discount(b, "L1", "amount", 1144, limit_bp=1000)
    with pytest.raises(Forbidden):
        decide_line_discount(b, "L1", "pct", 1001, limit_bp=1000)
