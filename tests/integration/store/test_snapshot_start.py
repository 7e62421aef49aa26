"""A real store restarts from its ledger snapshot: sell, let the ledger snapshot (its own process,
every few events here), stop, start → the same orders, balances and numbers, and the ledger says
in health that it started from the snapshot and replayed only the tail, not the journal from
genesis. An order older than the snapshot (out of the ledger's memory: it keeps only the newest
two here) is still found by its number and refunded exactly: by line, then the rest, then refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from actors.process import StoreProcess
from actors.snapshots import list_snapshots
from domain.money import div_round
from gwkit import Api, error_code, new_id, sign_in, write_auth
from storekit import kassa, wait_for

pytestmark = pytest.mark.ray

SETTINGS = {"KASSA_SNAPSHOT_EVERY_EVENTS": "12", "KASSA_SNAPSHOT_KEEP_ORDERS": "2"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("snapstart") / "store"
    write_auth(data)
    r = kassa("demo", "--no-till", "--data", str(data), "--products", "200", "--exit-after-setup")
    assert r.returncode == 0, r.stdout + r.stderr
    saved = {k: os.environ.get(k) for k in SETTINGS}
    os.environ.update(SETTINGS)  # the server's processes inherit them
    st = StoreProcess(data, demo=False).start()
    try:
        yield {"data": data, "store": st}
    finally:
        st.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def open_day(admin: Api, till: str) -> None:
    r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": 50_000})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text


def sell(api: Api, codes: list[str]) -> dict:
    view = None
    for code in codes:
        view = api.ok(api.cmd("scan", {"code": code}))["view"]
    assert view is not None
    card = {"kind": "card", "amount": view["total"], "reference": new_id()[:12], "last4": "4242"}
    pay = {"tenders": [card]}
    return api.ok(api.cmd("pay", pay))["order"]


def health(st: StoreProcess) -> dict:
    return Api(st.url).ok(Api(st.url).get("/v1/health"))


def test_restart_loads_the_snapshot_and_refunds_an_old_order_exactly(world):
    st, data = world["store"], world["data"]
    admin = sign_in(st.url, "admin", "ADM")
    for till in ("Q1", "Q2"):
        open_day(admin, till)
    rows = admin.ok(admin.get("/v1/products", q="885", limit=100))
    codes = [p["barcodes"][0] for p in rows if p["unit"] == "each" and p["barcodes"]][:6]
    assert len(codes) >= 3
    cashier = sign_in(st.url, "c1", "Q1")
    orders = [sell(cashier, [codes[i % 3], codes[(i + 1) % 3], codes[i % 3]]) for i in range(8)]
    before = [admin.ok(admin.get(f"/v1/orders/{o['order_id']}")) for o in orders]
    seqs = [b["seq"] for b in before]
    # the ledger's snapshot process (every 12 events here) ran past the sixth order
    wait_for(
        lambda: any(s >= seqs[5] for s, _ in list_snapshots(data, "ledger")),
        timeout=120,
        what="a ledger snapshot",
    )
    h0 = health(st)
    st.stop()

    st.start()
    h1 = health(st)
    start = h1["ledger_start"]
    assert start["snapshot_seq"] >= seqs[5], start  # it did not replay from genesis
    # it replayed just the tail: what the journal held at the stop, past the snapshot (the
    # server's own start may journal an event or two after the load: h1 can be further on)
    loaded = start["snapshot_seq"] + start["replayed"]
    assert h0["seq"] <= loaded <= h1["seq"] and start["replayed"] < loaded, (start, h0, h1)
    assert h1["orders"] == h0["orders"]  # all of them, though only the newest are in memory:
    assert start["orders_in_memory"] < len(orders)  # (2 here) and those of the tail
    assert (h1["members"], h1["open_baskets"]) == (h0["members"], h0["open_baskets"])

    # the oldest order, older than the snapshot and out of memory: found by its number
    first = orders[0]
    admin = sign_in(st.url, "admin", "ADM")
    found = admin.ok(admin.get("/v1/orders", q=first["number"].lower()))
    assert [o["order"]["order_id"] for o in found] == [first["order_id"]]
    # refunded exactly: one piece of its first line, then the rest, then nothing is left
    manager = sign_in(st.url, "m1", "Q2")
    line = first["lines"][0]
    url = f"/v1/orders/{first['order_id']}/refund"
    one = manager.ok(manager.post(url, {"id": new_id(), "lines": {line["line_id"]: 1}}))
    assert one["result"]["amount"] == div_round(line["total"], line["qty"])
    rest = manager.ok(manager.post(url, {"id": new_id(), "reason": "all back"}))
    assert one["result"]["amount"] + rest["result"]["amount"] == first["total"]
    r = manager.post(url, {"id": new_id()})
    assert r.status_code == 409 and error_code(r) == "refund.nothing_left"
    again = admin.ok(admin.get(f"/v1/orders/{first['order_id']}"))
    assert again["refunded_total"] == first["total"] and again["seq"] == seqs[0]
    # every order reads as it did before the restart, bar the refunds just made
    for o, was in zip(orders[1:], before[1:], strict=True):
        assert admin.ok(admin.get(f"/v1/orders/{o['order_id']}")) == was
