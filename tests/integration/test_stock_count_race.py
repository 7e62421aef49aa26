"""Stock counts sent at once, while a till sells the same product, over real HTTP: each count's
``previous`` is the level after every event journaled before it (the count is decided in the
ledger's commit path). Before, the gateway read the level from the stock read model and then
submitted, so a count that raced another count or a sale kept a stale ``previous``."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.process import StoreProcess
from gwkit import Api, error_code, journal_rows, new_id, sign_in, write_auth

pytestmark = pytest.mark.ray

COUNTS = 12
SALES = 6


def test_concurrent_counts_and_sales_each_decide_against_the_level_before_them(tmp_path):
    data = tmp_path / "store"
    write_auth(data)
    st = StoreProcess(data, products=300).start()
    try:
        m1 = sign_in(st.url, "m1", "S1")
        c1 = sign_in(st.url, "c1", "T1")
        r = m1.post("/v1/day/open", {"id": new_id(), "till": "T1", "float": 0})
        assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
        product = next(
            p
            for p in c1.ok(c1.get("/v1/products", q="885", limit=50))
            if p["unit"] == "each" and p["barcodes"] and p["sellable"]
        )
        sku, code = product["sku"], product["barcodes"][0]
        r = m1.post("/v1/stock/count", {"id": new_id(), "sku": sku, "counted": 1000})
        assert r.status_code == 200, error_code(r)

        def count(n: int) -> int:
            api = Api(st.url, "S1", m1.token)  # one session, a connection per thread
            r = api.post("/v1/stock/count", {"id": new_id(), "sku": sku, "counted": 500 + n})
            assert r.status_code == 200, error_code(r)
            return r.json()["seq"]

        def sale(n: int) -> int:
            api = Api(st.url, "T1", c1.token)
            view = api.ok(api.cmd("scan", {"code": code, "qty": 1 + n % 3}))["view"]
            return api.ok(
                api.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 10_000}]})
            )["seq"]

        with ThreadPoolExecutor(COUNTS + 1) as pool:
            sold = pool.submit(lambda: [sale(n) for n in range(SALES)])
            counted = list(pool.map(count, range(COUNTS)))
            sold.result()
        assert len(set(counted)) == COUNTS
        level = None
        seen = 0
        for seq, kind, _staff, _till, _ip, raw in journal_rows(data):
            body = json.loads(bytes(raw))
            if kind == "stock.counted" and body["sku"] == sku:
                if level is not None:
                    assert body["previous"] == level, (seq, body, level)
                level = body["counted"]
                seen += 1
            elif kind == "order.completed" and level is not None:
                level -= sum(ln["qty"] for ln in body["lines"] if ln["sku"] == sku)
        assert seen == COUNTS + 1
        stock = m1.ok(m1.get("/v1/stock"))
        assert stock["levels"][sku] == level
    finally:
        st.stop()
