"""Exchanges and refund limits over real HTTP on loopback (one demo store for the module, with
``refund_limits.needs_manager_over`` set): an exchange with a positive and one with a negative
difference, each one journaled event linked to its order, in the store's X report once each; a
refund or exchange giving back more than the limit refused without a manager and accepted with
one, the approver journaled."""

from __future__ import annotations

import json

import pytest

from actors.process import StoreProcess
from gwkit import Api, body_of, error_code, journal_rows, journal_seq, new_id, sign_in

pytestmark = pytest.mark.ray

LIMIT = 10_000  # 100.00 THB


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("ex") / "store"
    data.mkdir(parents=True)
    (data / "store.json").write_text(
        json.dumps(
            {"auth": {"ip_free_failures": 1000}, "refund_limits": {"needs_manager_over": LIMIT}}
        )
    )
    proc = StoreProcess(data, products=300).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def apis(store):
    admin = sign_in(store.url, "admin", "ADM")
    for till in ("EX1", "EX2"):
        r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": 0})
        assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    return {
        "admin": admin,
        "c1": sign_in(store.url, "c1", "EX1"),
        "a1": sign_in(store.url, "a1", "EX2"),
    }


@pytest.fixture(scope="module")
def cheap_dear(apis):
    """A cheap and a dear sellable product (price gap over the limit), by barcode."""
    a = apis["admin"]
    rows = a.ok(a.get("/v1/products", q="885", limit=200))
    good = [
        p
        for p in rows
        if p["unit"] == "each" and p["barcodes"] and p["sellable"] and p["price"] % 25 == 0
    ]
    good.sort(key=lambda p: p["price"])
    cheap, dear = good[0], good[-1]
    assert dear["price"] - cheap["price"] > LIMIT, (cheap["price"], dear["price"])
    return cheap, dear


def sell(api: Api, code: str) -> dict:
    view = api.ok(api.cmd("scan", {"code": code}))["view"]
    return api.ok(api.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"]}]}))["order"]


def store_x(api: Api) -> dict:
    return api.ok(api.get("/v1/reports/x", scope="store"))["totals"]


def exchange(api: Api, order: dict, code: str, **extra) -> object:
    line = order["lines"][0]["line_id"]
    body = {"id": new_id(), "returned": {line: 1}, "items": [{"code": code}], **extra}
    return api.post(f"/v1/orders/{order['order_id']}/exchange", body)


def test_exchange_with_positive_and_negative_difference(store, apis, cheap_dear):
    c1, a1, m = apis["c1"], apis["a1"], apis["admin"]
    cheap, dear = cheap_dear
    before = store_x(m)
    small = sell(c1, cheap["barcodes"][0])
    # positive: the dear item for the cheap one, the customer pays the difference in cash
    q = a1.ok(
        a1.post(
            f"/v1/orders/{small['order_id']}/exchange/quote",
            {"returned": {small["lines"][0]["line_id"]: 1}, "items": [{"code": dear["sku"]}]},
        )
    )
    assert q["difference"] == dear["price"] - cheap["price"] and not q["needs_manager"]
    seq = journal_seq(store.data)
    up = a1.ok(
        exchange(a1, small, dear["sku"], tenders=[{"kind": "cash", "amount": q["difference"]}])
    )
    assert up["event"] == "order.exchanged"
    ex = up["result"]
    assert ex["order_id"] == small["order_id"] and ex["difference"] == q["difference"]
    kinds = [r[1] for r in journal_rows(store.data, seq)]
    assert kinds.count("order.exchanged") == 1 and "order.completed" not in kinds
    # the new sale is an order of its own, found by its number, its return on the old one
    found = a1.ok(a1.get("/v1/orders", q=ex["sold"]["number"]))
    assert [o["order"]["order_id"] for o in found] == [ex["sold"]["order_id"]]
    old = a1.ok(a1.get(f"/v1/orders/{small['order_id']}"))
    assert old["refunded_total"] == cheap["price"]
    # negative: the dear item back for the cheap one gives back more than the limit
    big = ex["sold"]
    back = exchange(a1, big, cheap["sku"])
    assert back.status_code == 403 and error_code(back) == "refund.needs_manager"
    assert back.json()["error"]["details"]["action"] == "orders.refund_over_limit"
    cid = new_id()
    line = big["lines"][0]["line_id"]
    down = a1.ok(
        a1.post(
            f"/v1/orders/{big['order_id']}/exchange",
            {
                "id": cid,
                "returned": {line: 1},
                "items": [{"code": cheap["sku"]}],
                "approval": {"staff": "m1", "pin": "9999"},
            },
        )
    )
    assert down["result"]["difference"] == -(dear["price"] - cheap["price"])
    approved = [body_of(r) for r in journal_rows(store.data, seq) if r[1] == "auth.approved"]
    assert approved[-1]["approver"] == "m1" and approved[-1]["command"] == cid
    assert approved[-1]["action"] == "orders.refund_over_limit"
    # the store's X report: three sales, two refunds, the cash that moved
    after = store_x(m)
    diff = {k: after[k] - before[k] for k in ("orders", "refunds", "net_sales", "refunded")}
    assert diff == {
        "orders": 3,
        "refunds": 2,
        "net_sales": cheap["price"] + dear["price"] + cheap["price"],
        "refunded": cheap["price"] + dear["price"],
    }
    cash_in = after["cash_sales"] - before["cash_sales"]
    cash_out = after["cash_refunds"] - before["cash_refunds"]
    assert (cash_in, cash_out) == (dear["price"], dear["price"] - cheap["price"])


def test_a_refund_over_the_limit_needs_a_manager(store, apis, cheap_dear):
    c1, a1 = apis["c1"], apis["a1"]
    cheap, dear = cheap_dear
    order = sell(c1, dear["barcodes"][0])
    url = f"/v1/orders/{order['order_id']}/refund"
    seq = journal_seq(store.data)
    r = a1.post(url, {"id": new_id()})
    assert r.status_code == 403 and error_code(r) == "refund.needs_manager"
    assert "order.refunded" not in [x[1] for x in journal_rows(store.data, seq)]
    bad = a1.post(url, {"id": new_id(), "approval": {"staff": "c3", "pin": "3333"}})
    assert bad.status_code == 403 and error_code(bad) == "auth.approval_refused"
    tok = a1.ok(
        a1.post(
            "/v1/approvals",
            {"id": new_id(), "staff": "m1", "pin": "9999", "action": "orders.refund_over_limit"},
        )
    )["approval"]
    cid = new_id()
    done = a1.ok(a1.post(url, {"id": cid, "approval": tok}))
    assert done["event"] == "order.refunded" and done["result"]["amount"] == dear["price"]
    approved = [body_of(x) for x in journal_rows(store.data, seq) if x[1] == "auth.approved"]
    assert approved == [
        {
            "approver": "m1",
            "staff": "a1",
            "till": "EX2",
            "action": "orders.refund_over_limit",
            "command": cid,
        }
    ]
    # under the limit: no manager needed; a cashier may not exchange at all
    small = sell(c1, cheap["barcodes"][0])
    a1.ok(a1.post(f"/v1/orders/{small['order_id']}/refund", {"id": new_id()}))
    other = sell(c1, cheap["barcodes"][0])
    r = exchange(c1, other, cheap["sku"])
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
