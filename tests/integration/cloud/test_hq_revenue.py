"""HQ's revenue summary and upload health over real HTTP on loopback: a shop sells on three
business days through the real till and ledger, its uploader sends the journal to the cloud, and
the figures HQ answers equal those worked out from the shop's own journal."""

from __future__ import annotations

import asyncio

import pytest

from adminkit import expected, hq_get, top_products, trade_and_upload
from cloudkit import STORE, Cloud, Shop
from domain.ports import ManualClock

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def traded(tmp_path_factory):
    """The figures a running cloud answered, keyed by query (the cloud stops before the checks)."""
    base = tmp_path_factory.mktemp("hqrev")
    clock = ManualClock()
    (base / "shop").mkdir()
    shop = Shop(base / "shop", clock)
    answers: dict[str, tuple[int, dict]] = {}

    async def main() -> None:
        secret = Cloud.register(base / "cloud")
        Cloud.register(base / "cloud", "S002")  # registered, never uploaded
        cloud = await Cloud(base / "cloud", clock).start()
        try:
            await trade_and_upload(shop, cloud, secret, base / "shop" / "up.json")
            queries = {
                "day": "/v1/hq/revenue/summary?period=day",
                "week": "/v1/hq/revenue/summary?period=week",
                "month": f"/v1/hq/revenue/summary?period=month&store={STORE}",
                "range": "/v1/hq/revenue/summary?period=day&from=2026-01-02&to=2026-01-02",
                "bad_period": "/v1/hq/revenue/summary?period=year",
                "bad_date": "/v1/hq/revenue/summary?from=01/02/2026",
                "health": "/v1/hq/upload-health",
            }
            for key, path in queries.items():
                answers[key] = await asyncio.to_thread(hq_get, cloud.url + path, cloud.token)
            answers["anonymous"] = await asyncio.to_thread(
                hq_get, cloud.url + queries["day"], "not-the-token"
            )
            cloud.clock.advance(48 * 3600)
            answers["late"] = await asyncio.to_thread(
                hq_get, cloud.url + queries["health"], cloud.token
            )
        finally:
            await cloud.stop()

    asyncio.run(main())
    journal = shop.ledger.journal.path
    yield answers, journal, shop.seq
    shop.close()


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_summary_per_period_equals_the_shops_journal(traded, period):
    answers, journal, _seq = traded
    status, body = answers[period]
    assert status == 200, body
    want = expected(journal, period)
    got = {(r["store"], r["period"]): r for r in body["rows"]}
    assert set(got) == set(want)
    assert len(want) == {"day": 3, "week": 2, "month": 1}[period]
    for key, w in want.items():
        g = got[key]
        assert (g["net"], g["sales"], g["orders"], g["refunds"]) == (
            w["net"],
            w["sales"],
            w["orders"],
            w["refunds"],
        ), key
        assert g["avg_basket"] == round(w["sales"] / w["orders"])
        assert g["refund_count"] > 0
    assert body["currency"] == "THB"
    assert {s["id"] for s in body["stores"]} == {STORE, "S002"}


def test_top_products_and_date_range(traded):
    answers, journal, _seq = traded
    net = top_products(journal)
    _status, body = answers["day"]
    tops = body["top_products"]
    assert [t["sku"] for t in tops] == sorted(net, key=lambda s: (-net[s], s))[: len(tops)]
    assert all(t["net"] == net[t["sku"]] for t in tops)
    assert tops[0]["name"]
    status, ranged = answers["range"]
    assert status == 200
    assert [r["period"] for r in ranged["rows"]] == ["2026-01-02"]
    want = expected(journal, "day")[(STORE, "2026-01-02")]
    assert ranged["rows"][0]["net"] == want["net"]


def test_refusals(traded):
    answers = traded[0]
    assert answers["bad_period"][0] == 400
    assert answers["bad_period"][1]["code"] == "revenue.bad_period"
    assert (answers["bad_date"][0], answers["bad_date"][1]["code"]) == (400, "input.bad_date")
    assert answers["anonymous"][0] == 401


def test_upload_health(traded):
    answers, _journal, seq = traded
    status, body = answers["health"]
    assert status == 200
    rows = {r["store"]: r for r in body["stores"]}
    s1, s2 = rows[STORE], rows["S002"]
    assert (s1["seq_held"], s1["state"], s1["alert_count"]) == (seq, "ok", 0)
    assert s1["last_seen_us"] is not None and s1["last_seen_us"] <= body["now_us"]
    assert s1["last_event_us"] is not None
    assert (s2["seq_held"], s2["state"], s2["last_seen_us"]) == (0, "never", None)
    late = {r["store"]: r for r in answers["late"][1]["stores"]}
    assert late[STORE]["state"] == "late"
