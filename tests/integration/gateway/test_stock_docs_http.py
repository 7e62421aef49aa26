"""Stock documents over real HTTP on loopback (one demo store for the module): a purchase order
received in part stays open and the rest later closes it, over-receipt shown, the supplier owed
qty × unit cost in ``kassa store suppliers-report``, CSV and PDF exports; a blind count by the
after-sales clerk shows no levels, a manager's variance report and approval set the levels once;
transfers out and in by reference; batch levels; each product's moves; roles refused."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest

from actors.process import StoreProcess
from bundlekit import ean, product
from gwkit import Api, error_code, journal_rows, new_id, sign_in, write_auth
from stockkit import scannable
from storekit import wait_for

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("stockdocs") / "store"
    write_auth(data)
    proc = StoreProcess(data, products=200).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def apis(store):
    return {
        "m1": sign_in(store.url, "m1", "SD1"),
        "a1": sign_in(store.url, "a1", "SD2"),
        "c1": sign_in(store.url, "c1", "SD3"),
    }


@pytest.fixture(scope="module")
def products(apis):
    """Two products of one category and one of another."""
    m = apis["m1"]
    cats = m.ok(m.get("/v1/product-grid"))["categories"]
    by_cat = {}
    for c in cats:
        name = c["name"] if isinstance(c, dict) else c
        rows = m.ok(m.get("/v1/product-grid", category=name))["products"]
        if len(rows) >= 2:
            by_cat[name] = rows
        if len(by_cat) == 2:
            break
    (cat, rows), (_other, others) = list(by_cat.items())[:2]
    return cat, rows[0]["sku"], rows[1]["sku"], others[0]["sku"]


def level(api, sku: str) -> int:
    return api.ok(api.get(f"/v1/stock/{sku}/moves"))["level"]


def test_a_po_received_in_part_stays_open_and_the_supplier_is_owed(apis, products, store):
    m = apis["m1"]
    _cat, a, b, _c = products
    start_a, start_b = level(m, a), level(m, b)
    lines = [{"sku": a, "qty": 10, "unit_cost": 150}, {"sku": b, "qty": 4, "unit_cost": 300}]
    po = m.ok(m.post("/v1/purchase-orders", {"id": new_id(), "supplier": "ACME", "lines": lines}))
    ref = po["po"]
    assert ref in [
        p["po"] for p in m.ok(m.get("/v1/purchase-orders", state="open"))["purchase_orders"]
    ]
    got = m.ok(
        m.post("/v1/stock/receipts", {"id": new_id(), "po": ref, "lines": [{"sku": a, "qty": 6}]})
    )
    rows = {r["sku"]: r for r in got["po"]["lines"]}
    assert got["po"]["state"] == "open" and rows[a]["outstanding"] == 4 and rows[b]["received"] == 0
    assert level(m, a) == start_a + 6
    # the rest, and one more than ordered of b at a new cost
    rest = [{"sku": a, "qty": 4}, {"sku": b, "qty": 5, "unit_cost": 310}]
    got = m.ok(m.post("/v1/stock/receipts", {"id": new_id(), "po": ref, "lines": rest}))
    rows = {r["sku"]: r for r in got["po"]["lines"]}
    assert got["po"]["state"] == "received" and rows[b]["over"] == 1
    assert ref not in [
        p["po"] for p in m.ok(m.get("/v1/purchase-orders", state="open"))["purchase_orders"]
    ]
    r = m.post("/v1/stock/receipts", {"id": new_id(), "po": ref, "lines": [{"sku": a, "qty": 1}]})
    assert r.status_code == 409 and error_code(r) == "stockdoc.po_closed"
    assert (level(m, a), level(m, b)) == (start_a + 10, start_b + 5)
    moves = m.ok(m.get(f"/v1/stock/{a}/moves"))["moves"]
    assert moves[0]["kind"] == "received" and moves[0]["reference"] == ref
    # exports
    text = m.get(f"/v1/purchase-orders/{ref}/export.csv").text
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    assert [(x["sku"], x["qty"], x["received"]) for x in rows_csv] == [
        (a, "10", "10"),
        (b, "4", "5"),
    ]
    pdf = m.get(f"/v1/purchase-orders/{ref}/export.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    # what ACME is owed: 10 × 1.50 + 5 × 3.10 = 30.50 (the journal is read while the store runs)
    from actors.journal import Journal
    from analytics.reconcile_io import supplier_report

    j = Journal(store.data / "journal.sqlite")
    try:
        df = supplier_report(j.scan(), "UTC")
    finally:
        j.close()
    owed = dict(df.group_by("supplier").agg(pl.col("value").sum()).rows())
    assert owed["ACME"] == 3050


def test_a_blind_count_hides_levels_and_a_manager_approves_its_variance(apis, products):
    m, a1 = apis["m1"], apis["a1"]
    cat, a, b, other = products
    m.ok(m.post("/v1/stock/adjust", {"id": new_id(), "sku": b, "delta": 3, "reason": "found"}))
    before_a, before_b = level(m, a), level(m, b)
    count = a1.ok(
        a1.post(
            "/v1/stock/counts",
            {"id": new_id(), "scope": "category", "category": cat, "blind": True},
        )
    )["count"]
    seen = a1.ok(a1.get(f"/v1/stock/counts/{count}"))
    assert seen["blind"] and "variances" not in seen and "expected" not in str(seen)
    assert a1.get(f"/v1/stock/counts/{count}", variances="1").status_code == 403
    assert a1.get(f"/v1/stock/{a}/moves").status_code == 403  # a blind counter sees no levels
    r = a1.post(
        f"/v1/stock/counts/{count}/lines", {"id": new_id(), "lines": [{"sku": other, "counted": 1}]}
    )
    assert r.status_code == 400 and error_code(r) == "stockdoc.out_of_scope"
    lines = [{"sku": a, "counted": before_a + 2}, {"sku": b, "counted": max(0, before_b - 1)}]
    a1.ok(a1.post(f"/v1/stock/counts/{count}/lines", {"id": new_id(), "lines": lines}))
    assert a1.post(f"/v1/stock/counts/{count}/approve", {"id": new_id()}).status_code == 403
    report = m.ok(m.get(f"/v1/stock/counts/{count}", variances="1"))
    rows = {r["sku"]: r for r in report["variances"]}
    assert (rows[a]["expected"], rows[a]["counted"], rows[a]["difference"]) == (
        before_a,
        before_a + 2,
        2,
    )
    assert rows[b]["difference"] == max(0, before_b - 1) - before_b
    assert report["value"] == sum(r["value"] for r in rows.values()) and rows[a]["value"] > 0
    ack = m.ok(m.post(f"/v1/stock/counts/{count}/approve", {"id": new_id()}))
    assert ack["event"] == "count.approved"
    assert (level(m, a), level(m, b)) == (before_a + 2, max(0, before_b - 1))
    levels = m.ok(m.get("/v1/stock"))["levels"]  # the stock read model agrees
    assert (levels[a], levels[b]) == (before_a + 2, max(0, before_b - 1))
    again = m.ok(m.post(f"/v1/stock/counts/{count}/approve", {"id": new_id()}))
    assert again["duplicate"] and again["seq"] == ack["seq"]
    r = a1.post(f"/v1/stock/counts/{count}/lines", {"id": new_id(), "lines": lines})
    assert r.status_code == 409 and error_code(r) == "stockdoc.count_closed"


def test_transfers_batch_levels_and_roles(apis, products):
    m, c1 = apis["m1"], apis["c1"]
    _cat, a, b, _other = products
    start = level(m, a)
    sent = m.ok(
        m.post(
            "/v1/transfers", {"id": new_id(), "to_store": "S777", "lines": [{"sku": a, "qty": 2}]}
        )
    )
    assert level(m, a) == start - 2
    body = {
        "id": new_id(),
        "transfer": "T-S777-1",
        "from_store": "S777",
        "lines": [{"sku": a, "qty": 5}],
    }
    m.ok(m.post("/v1/transfers/received", body))
    assert level(m, a) == start + 3
    assert m.ok(m.get("/v1/stock"))["levels"][a] == start + 3
    r = m.post("/v1/transfers/received", {**body, "id": new_id()})
    assert r.status_code == 409 and error_code(r) == "stockdoc.transfer_received"
    listed = {t["transfer"]: t["way"] for t in m.ok(m.get("/v1/transfers"))["transfers"]}
    assert listed[sent["transfer"]] == "out" and listed["T-S777-1"] == "in"
    m.ok(
        m.post(
            "/v1/stock/batch",
            {
                "id": new_id(),
                "reason": "correction",
                "lines": [{"sku": a, "level": 40}, {"sku": b, "level": 7}],
            },
        )
    )
    assert (level(m, a), level(m, b)) == (40, 7)
    assert m.ok(m.get(f"/v1/stock/{b}/moves"))["moves"][0]["kind"] == "adjusted"
    for path in ("/v1/purchase-orders", "/v1/stock/counts", "/v1/transfers"):
        assert c1.get(path).status_code == 403, path
    r = c1.post(
        "/v1/purchase-orders", {"id": new_id(), "supplier": "X", "lines": [{"sku": a, "qty": 1}]}
    )
    assert r.status_code == 403


def _sell(api, code: str, n: int) -> int:
    view = api.ok(api.cmd("scan", {"code": code, "qty": n}))["view"]
    tenders = [{"kind": "cash", "amount": view["total"] + 10_000}]
    return api.ok(api.cmd("pay", {"tenders": tenders}))["seq"]


def test_batch_levels_are_decided_at_the_commit_while_a_till_sells(apis, store):
    """Batch level edits sent at once while a till sells the same product: after each
    adjustment the level is exactly one of the levels set (each decided in the ledger against
    the level at its commit). Before, the gateway added ``level - what it had read``, so a sale
    or another batch in between left the level off."""
    m, c1 = apis["m1"], apis["c1"]
    r = m.post("/v1/day/open", {"id": new_id(), "till": "SD3", "float": 0})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    _cat, rows = scannable(store.url)
    sku, code = rows[0]["sku"], rows[0]["barcodes"][0]
    start, after = level(m, sku), journal_rows(store.data)[-1][0]
    targets = [500 + 7 * n for n in range(10)]

    def batch(level: int) -> None:
        api = Api(store.url, "SD1", m.token)  # one session, a connection per thread
        body = {"id": new_id(), "reason": "race", "lines": [{"sku": sku, "level": level}]}
        assert api.post("/v1/stock/batch", body).status_code == 200

    with ThreadPoolExecutor(len(targets) + 1) as pool:
        sold = pool.submit(
            lambda: [_sell(Api(store.url, "SD3", c1.token), code, 2) for _ in range(5)]
        )
        list(pool.map(batch, targets))
        sold.result()
    lvl, adjusted = start, 0
    for _seq, kind, _s, _t, _ip, raw in journal_rows(store.data, after):
        body = json.loads(bytes(raw))
        if kind == "stock.adjusted" and body["sku"] == sku and body["reason"] == "race":
            lvl += body["delta"]
            adjusted += 1
            assert lvl in targets, (lvl, body)  # exactly a level set, the sales before it counted
        elif kind == "order.completed":
            lvl -= sum(ln["qty"] for ln in body["lines"] if ln["sku"] == sku)
    assert adjusted >= len(targets) - 1  # a batch that found its level already changes nothing
    assert level(m, sku) == lvl


def test_batch_prices_where_the_store_owns_them_once_and_sold_at_the_new_price(apis, store):
    """HQ's products (the demo's HQ catalogue, ``store_fields`` without ``price``) are refused
    with nothing changed; the store's own products change all at once, a retry of the same id
    answers the first apply (a percentage is not applied twice), a price moved since the preview
    is refused, a cashier may not, and a scan after sells at the new price."""
    m, c1 = apis["m1"], apis["c1"]
    wait_for(lambda: m.ok(m.get("/v1/catalogue/status"))["version"] is not None, 120, "HQ's")
    _cat, rows = scannable(store.url)
    hq_sku = rows[0]["sku"]
    mine = [product(f"OWN-{i}", 1000 + 500 * i, ean(990_000 + i), category="Own") for i in (0, 1)]
    m.ok(m.post("/v1/products/import", {"id": new_id(), "products": mine}))
    own = [p["sku"] for p in mine]
    change = {"kind": "percent", "value": 1000, "rounding": "x9"}  # +10 %, ending in 9
    assert c1.post("/v1/prices/batch/preview", {"skus": own, "change": change}).status_code == 403
    pre = m.ok(m.post("/v1/prices/batch/preview", {"skus": [hq_sku, *own], "change": change}))
    by = {r["sku"]: r for r in pre["rows"]}
    assert (by[hq_sku]["owner"], by[hq_sku]["problem"]) == ("hq", "hq_owned")
    assert [(by[s]["old"], by[s]["new"]) for s in own] == [(1000, 1099), (1500, 1649)]
    assert (pre["changed"], pre["hq_owned"]) == (2, 1)
    r = m.post("/v1/prices/batch", {"id": new_id(), "skus": [hq_sku, *own], "change": change})
    assert r.status_code == 409 and error_code(r) == "prices.hq_owned"
    assert "HQ" in r.json()["error"]["message"] and r.json()["error"]["details"]["skus"] == [hq_sku]
    assert m.ok(m.get(f"/v1/products/{own[0]}"))["price"] == 1000  # nothing changed
    expect = {s: by[s]["old"] for s in own}
    body = {"id": new_id(), "skus": own, "change": change, "expect": expect}
    first = m.ok(m.post("/v1/prices/batch", body))
    assert (first["changed"], first["duplicate"]) == (2, False)
    again = m.ok(m.post("/v1/prices/batch", body))  # the till retried: the first answer
    assert again["duplicate"] and again["seq"] == first["seq"]
    assert [m.ok(m.get(f"/v1/products/{s}"))["price"] for s in own] == [1099, 1649]
    r = m.post("/v1/prices/batch", {**body, "id": new_id()})  # the preview's old prices are gone
    assert r.status_code == 409 and error_code(r) == "prices.changed_since_preview"
    r = m.post("/v1/prices/batch", {"id": new_id(), "skus": own,
                                    "change": {"kind": "amount", "value": -1200}})  # fmt: skip
    assert r.status_code == 400 and error_code(r) == "prices.refused_rows"
    updates = [
        json.loads(bytes(raw))
        for _seq, kind, *_rest, raw in journal_rows(store.data)
        if kind == "catalogue.updated"
    ]
    ours = [u for u in updates if u["source"] == f"prices:{body['id']}"]
    assert len(ours) == 1 and sorted(ours[0]["skus"]) == own  # one journaled change
    view = c1.ok(c1.cmd("scan", {"code": mine[0]["barcodes"][0]}))["view"]
    assert view["lines"][-1]["unit_price"] == 1099
    c1.ok(c1.cmd("void", {}))
