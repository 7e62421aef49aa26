"""A QR sale's payment in the analytics rows (the store's copy and HQ's warehouse share them):
its provider and key travel with the reference; an analytics copy made before those columns
existed gets them when it is opened."""

from __future__ import annotations

import duckdb

from analytics.flatten import flatten
from analytics.store import StoreAnalytics
from domain.commands import RefundOrder
from domain.payment_events import PaymentStarted, PaymentSucceeded
from tests.unit.conftest import cid


def qr_sale_refunded(shop, reference: str) -> str:
    """A 45.00 sale paid by a QR tender that succeeded, then refunded; answers the key."""
    shop.do("add", {"sku": "MILK-1L", "qty": 1})
    basket, key = shop.till.basket.basket_id, cid()
    shop.submit(PaymentStarted(key, basket, "qr", "promptpay", 4500, "THB"))
    shop.submit(PaymentSucceeded(key, reference))
    shop.do("pay", {"tenders": [{"kind": "qr", "amount": 4500, "key": key}]})
    shop.submit(RefundOrder(basket, cid()))
    return key


def test_payment_rows_carry_provider_and_key(shop):
    key = qr_sale_refunded(shop, "PP-77")
    frames = flatten(shop.ledger.read(), "S001", "Asia/Bangkok")
    (pay,) = frames["payments"].to_dicts()
    assert (pay["kind"], pay["provider"], pay["key"], pay["reference"]) == (
        "qr",
        "promptpay",
        key,
        "PP-77",
    )
    (back,) = frames["refund_tenders"].to_dicts()
    assert (back["provider"], back["key"], back["amount"]) == ("promptpay", key, 4500)


def test_an_older_analytics_copy_gets_the_new_columns(tmp_path):
    path = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE payments (store_id VARCHAR, seq BIGINT)")  # an old, narrower table
    con.close()
    a = StoreAnalytics(path, "Asia/Bangkok")
    try:
        cols = {r[0] for r in a.con.execute("DESCRIBE payments").fetchall()}
    finally:
        a.close()
    assert {"provider", "key", "reference"} <= cols


def test_a_qr_sale_and_its_refund_are_their_own_figures_in_the_day_report(shop, tmp_path):
    from analytics.schema import business_day_of

    qr_sale_refunded(shop, "PP-78")
    envs = shop.ledger.read()
    a = StoreAnalytics(tmp_path / "a.duckdb", "Asia/Bangkok")
    try:
        a.rebuild(envs)
        day = business_day_of(envs[-1].ts, "Asia/Bangkok")
        totals = a.x_report(day)["totals"]
    finally:
        a.close()
    assert (totals["qr_sales"], totals["qr_refunds"]) == (4500, 4500)
    assert totals["card_sales"] == totals["cash_sales"] == totals["wallet_sales"] == 0
    assert totals["net_sales"] == 4500
