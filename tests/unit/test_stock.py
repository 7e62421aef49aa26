"""Stock: sales, refunds, receipts, adjustments and counts move it; negative allowed, reported."""

from __future__ import annotations

import pytest

from domain.commands import RefundOrder
from domain.errors import InvalidInput
from domain.stock import StockBook, decide_adjustment, decide_count, decide_receipt
from tests.unit.conftest import cid


def replay(ledger) -> StockBook:
    sb = StockBook()
    for e in ledger.read():
        sb.apply(e.decoded())
    return sb


def test_receipt_adjustment_and_count():
    sb = StockBook()
    sb.apply(decide_receipt("MILK", 24, "PO-1"))
    sb.apply(decide_adjustment("MILK", -2, "broken"))
    assert sb.level("MILK") == 22
    count = decide_count("MILK", 20, sb.level("MILK"))
    assert count.previous == 22
    sb.apply(count)
    assert sb.level("MILK") == 20
    sb.apply(decide_adjustment("MILK", 5, "found in back room"))
    assert sb.level("MILK") == 25
    assert sb.level("UNKNOWN") == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: decide_receipt("X", 0),
        lambda: decide_receipt("X", -5),
        lambda: decide_receipt("X", 1.5),
        lambda: decide_receipt("X", 10**10),
        lambda: decide_adjustment("X", 0, "none"),
        lambda: decide_adjustment("X", 3, "  "),
        lambda: decide_count("X", -1, 0),
        lambda: decide_count("X", True, 0),
    ],
)
def test_nonsense_stock_movements_are_refused(call):
    with pytest.raises(InvalidInput):
        call()


def test_sales_and_refunds_move_stock_and_negative_is_allowed(shop):
    shop.submit(decide_receipt("MILK-1L", 2))
    shop.do("add", {"sku": "MILK-1L", "qty": 3})
    shop.do("add", {"sku": "APPLE", "weight_g": 1250})
    order = shop.do("pay", {"tenders": [{"kind": "cash", "amount": 50000}]})["order"]
    sb = replay(shop.ledger)
    # the sale was not blocked; the shelf is short by one, and weighed goods count grams
    assert sb.level("MILK-1L") == -1
    assert sb.level("APPLE") == -1250
    assert sb.negatives() == [("APPLE", -1250), ("MILK-1L", -1)]
    shop.submit(RefundOrder(order["order_id"], cid(), {"L1": 2}, cash_increment=25))
    sb = replay(shop.ledger)
    assert sb.level("MILK-1L") == 1
    assert sb.negatives() == [("APPLE", -1250)]


def test_low_stock_thresholds():
    sb = StockBook()
    sb.apply(decide_receipt("MILK", 6))
    sb.apply(decide_receipt("TEA", 50))
    thresholds = {"MILK": 5, "TEA": 10, "SALT": 3, "NONE": 0}
    # never received is out of stock, hence low; no threshold means never reported
    assert [(s.sku, s.level) for s in sb.low(thresholds)] == [("SALT", 0)]
    sb.apply(decide_receipt("SALT", 4))
    assert sb.low(thresholds) == []
    sb.apply(decide_adjustment("MILK", -1, "damaged"))
    low = sb.low(thresholds)
    assert [(s.sku, s.level, s.low_stock) for s in low] == [("MILK", 5, 5)]
    sb.apply(decide_adjustment("SALT", -1, "spilled"))
    assert [s.sku for s in sb.low(thresholds)] == ["MILK", "SALT"]
    sb.apply(decide_adjustment("MILK", -10, "theft"))
    milk = sb.low(thresholds)[0]
    assert milk.negative and milk.low and milk.level == -5
