"""An exchange in the Z report and in HQ's warehouse: its sold part counts once as a sale, its
returned part once as a refund, the credit moves no money (expected cash and card sales count
only what changed hands), and an ``exchanges`` row links both to the original order — with a
positive and with a negative difference."""

from __future__ import annotations

from analytics.flatten import flatten
from analytics.hq import Warehouse, write_partitioned
from analytics.schema import business_day_of
from analytics.store import StoreAnalytics
from domain.exchange import ExchangeItem, ExchangeOrder
from domain.payments import TenderIn
from tests.unit.conftest import cid

ZONE = "Asia/Bangkok"
SOAP = ExchangeItem("SOAP", {"en": "Bar soap"}, "each", 1, 2000, "std", 700, "household")
CHEESE = ExchangeItem("CHEESE", {"en": "Cheese"}, "each", 1, 50000, "std", 700, "dairy")


def _sell(shop, sku: str, qty: int, tender: dict) -> dict:
    shop.do("add", {"sku": sku, "qty": qty})
    return shop.do("pay", {"tenders": [tender]})["order"]


def _exchange(shop, order: dict, item: ExchangeItem, tenders: tuple = ()):
    cmd = ExchangeOrder(
        order_id=order["order_id"],
        exchange_id=cid(),
        sold_id=cid(),
        returned={order["lines"][0]["line_id"]: 1},
        items=(item,),
        tenders=tenders,
        cash_increment=25,
    )
    return shop.submit(cmd).body


def _day_with_two_exchanges(shop):
    a = _sell(
        shop, "MILK-1L", 2, {"kind": "card", "amount": 9000, "reference": "T-1", "last4": "4242"}
    )
    b = _sell(shop, "CHEESE", 1, {"kind": "cash", "amount": 50000})
    up = _exchange(shop, a, CHEESE, (TenderIn("cash", 50000),))  # pays 45 500 more
    down = _exchange(shop, b, SOAP)  # gets 48 000 back
    assert (up.difference, down.difference) == (45500, -48000)
    return a, b, up, down


def test_z_report_counts_each_part_once_and_only_money_that_moved(shop, tmp_path):
    _day_with_two_exchanges(shop)
    envs = shop.ledger.read(0, 10_000)
    day = business_day_of(envs[-1].ts, ZONE)
    sa = StoreAnalytics(tmp_path / "a.duckdb", ZONE)
    sa.ingest(envs)
    z = sa.z_report(day)["totals"]
    assert z["orders"] == 4 and z["net_sales"] == 9000 + 50000 + 50000 + 2000
    assert z["refunds"] == 2 and z["refunded"] == 4500 + 50000
    assert z["card_sales"] == 9000  # the 4 500 card credit paid for the cheese: no card moved
    assert z["cash_sales"] == 50000 + 45500 and z["cash_refunds"] == 48000
    assert z["card_refunds"] == 0
    assert z["expected_cash"] == 50000 + 45500 - 48000
    assert z["net_after_refunds"] == 9000 + 50000 + 45500 - 48000  # what changed hands
    sa.close()


def test_warehouse_links_each_exchange_to_its_order_and_counts_it_once(shop, tmp_path):
    a, b, up, down = _day_with_two_exchanges(shop)
    write_partitioned(flatten(shop.ledger.read(0, 10_000), "S1", ZONE), tmp_path / "wh")
    con = Warehouse(tmp_path / "wh").duckdb()
    ex = con.execute(
        "SELECT order_id, sold_order_id, refund_id, returned, sold, credit, difference "
        "FROM exchanges ORDER BY difference DESC"
    ).fetchall()
    assert ex == [
        (a["order_id"], up.sold.order_id, up.returned.refund_id, 4500, 50000, 4500, 45500),
        (b["order_id"], down.sold.order_id, down.returned.refund_id, 50000, 2000, 2000, -48000),
    ]
    assert con.execute("SELECT count(*), sum(total) FROM orders").fetchone() == (4, 111000)
    assert con.execute("SELECT count(*), sum(amount) FROM refunds").fetchone() == (2, 54500)
    by_tender = dict(con.execute("SELECT kind, sum(amount) FROM payments GROUP BY ALL").fetchall())
    assert by_tender == {"card": 9000, "cash": 95500, "exchange": 6500}
    back = dict(con.execute("SELECT kind, sum(amount) FROM refund_tenders GROUP BY ALL").fetchall())
    assert back == {"cash": 48000, "exchange": 6500}
    stock = dict(con.execute("SELECT sku, sum(delta) FROM stock_movements GROUP BY ALL").fetchall())
    assert stock == {"MILK-1L": -1, "CHEESE": -1, "SOAP": -1}
    rev = Warehouse(tmp_path / "wh").revenue()
    assert rev["revenue"].sum() == 111000 - 54500
