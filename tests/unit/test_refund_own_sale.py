"""The same-cashier refund rule acts before money leaves: a cashier who refunds their own sale
within the rule's minutes needs a manager; others, later, or with a manager's approval may."""

from __future__ import annotations

import pytest

from analytics.anomaly_settings import own_sale_minutes
from domain.book import Book
from domain.commands import RefundOrder
from domain.errors import Forbidden
from domain.ledger_handlers import handle_refund
from domain.staff_rules import ACTIONS
from domain.store import StoreConfig
from tests.unit.test_ledger_handlers import sold

MIN = 60_000_000  # one minute in µs; the order was sold at ts 1


def _refund(**kw: object) -> RefundOrder:
    return RefundOrder(order_id="O1", refund_id="R1", own_sale_minutes=30, **kw)  # type: ignore[arg-type]


def test_own_sale_refund_within_the_rule_needs_a_manager() -> None:
    book = Book()
    sold(book, **{"MILK-1L": 1})
    with pytest.raises(Forbidden) as exc:
        handle_refund(_refund(by_staff="c1", at_us=5 * MIN), book)
    assert exc.value.code == "refund.own_sale_needs_manager"
    assert handle_refund(_refund(by_staff="c1", at_us=5 * MIN, manager_ok=True), book).amount
    assert handle_refund(_refund(by_staff="a1", at_us=5 * MIN), book).amount
    assert handle_refund(_refund(by_staff="c1", at_us=31 * MIN), book).amount


def test_the_rule_follows_the_store_settings_and_only_managers_unfreeze() -> None:
    assert own_sale_minutes(StoreConfig()) == 30
    assert own_sale_minutes(StoreConfig(anomaly={"refund_soon_minutes": 60})) == 60
    assert own_sale_minutes(StoreConfig(anomaly={"freeze_rules": []})) == 0
    assert "aftersales" not in ACTIONS["orders.unfreeze"][0]
    assert StoreConfig().open_minute == 480 and StoreConfig().close_minute == 1320
