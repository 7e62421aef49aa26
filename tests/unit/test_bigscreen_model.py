"""The big screen's figures (no Tk, no network): a summary, then the sales feed after its seq;
an event seen twice counts once; a refund subtracts; a sale of the next day asks for a summary."""

from __future__ import annotations

from kiosk.bigscreen_model import Figures


def summary(seq: int = 10) -> dict:
    zero = {"orders": 0, "sales": 0, "refunds": 0, "refunded": 0, "revenue": 0}
    return {
        "business_day": "2026-12-01",
        "as_of_seq": seq,
        "zone": "UTC",
        "currency": "THB",
        "today": {**zero, "orders": 2, "sales": 5000, "revenue": 5000},
        "last_week": {**zero, "orders": 1, "revenue": 3000},
        "by_till": [{"till": "T1", "orders": 2, "revenue": 5000}],
        "by_hour": [{"hour": 9, "revenue": 5000}],
        "products": [
            {"sku": "A", "names": {"en": "Tea"}, "unit": "each", "qty": 2, "amount": 5000}
        ],
    }


def sale(seq: int, ts: int, total: int, sku: str = "B", till: str = "T2") -> dict:
    item = {"sku": sku, "names": {"en": sku, "zh_CN": "茶"}, "unit": "each", "qty": 3}
    return {
        "seq": seq,
        "ts": ts,
        "kind": "order.completed",
        "till": till,
        "body": {"total": total, "lines": 1, "items": [{**item, "amount": total}]},
    }


def test_a_summary_then_the_feed_counts_each_sale_once():
    from datetime import UTC, datetime

    ts = int(datetime(2026, 12, 1, 10, 30, tzinfo=UTC).timestamp() * 1_000_000)
    f = Figures()
    f.load(summary())
    assert f.apply(sale(9, ts, 999)) == "old"  # in the summary already
    assert f.apply(sale(11, ts, 1500)) == "counted"
    assert f.apply(sale(11, ts, 1500)) == "old"  # replayed after a reconnect
    assert (f.revenue, f.orders, f.difference()) == (6500, 3, 3500)
    assert f.hours[10] == 1500 and f.tills["T2"] == {"revenue": 1500, "orders": 1}
    assert [p.sku for p in f.top_by_amount()] == ["A", "B"]
    assert [p.sku for p in f.top_by_qty()] == ["B", "A"]
    assert f.products["B"].name("zh") == "茶"
    refund = {"seq": 12, "ts": ts, "kind": "order.refunded", "till": "T1", "body": {"amount": 500}}
    assert f.apply(refund) == "counted"
    assert f.revenue == 6000 and f.tills["T1"]["revenue"] == 4500 and f.ticker[0].amount == -500
    nxt = int(datetime(2026, 12, 2, 0, 5, tzinfo=UTC).timestamp() * 1_000_000)
    assert f.apply(sale(13, nxt, 100)) == "new_day" and f.revenue == 6000
    f.load(summary(seq=11))  # a reload keeps the ticker lines it has not counted again
    assert [t.seq for t in f.ticker] == [11]
