"""A real store server (demo: HQ cloud on loopback, sample data) driven over HTTP.

Sales with mixed tenders, a refund to the original tenders, wallet top-up and spend, the upload to
HQ's cloud (revenue there equals the store's to the minor unit), and actors killed one by one with
SIGKILL: Ray restarts them and they come back with the state the journal gives them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid

import pytest
import requests

from actors.process import StoreProcess


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("e2e") / "store"
    os.environ["KASSA_FLAG_EVERY_S"] = "1"  # score anomalies every second
    os.environ["KASSA_TILL_PLACEMENT"] = "actor"  # one actor per till: a test kills one
    try:
        st = StoreProcess(data, products=500).start()
    finally:
        os.environ.pop("KASSA_FLAG_EVERY_S", None)
        os.environ.pop("KASSA_TILL_PLACEMENT", None)
    yield st
    st.stop()


SESSIONS: dict = {}


def auth(store, till="E0") -> dict:
    """A manager signed in at ``till`` (demo PIN), with the till's business day open."""
    if till not in SESSIONS:
        r = requests.post(
            f"{store.url}/v1/sessions",
            json={"id": str(uuid.uuid4()), "staff": "m1", "pin": "9999", "till": till},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        r = requests.post(
            f"{store.url}/v1/day/open",
            json={"id": str(uuid.uuid4()), "till": till, "float": 0},
            headers=h,
            timeout=30,
        )
        assert r.status_code == 200 or r.json()["error"]["code"] == "day.already_open", r.text
        SESSIONS[till] = h
    return SESSIONS[till]


def cmd(store, till, op, args, cid=None):
    r = requests.post(
        f"{store.url}/v1/tills/{till}/commands",
        json={"id": cid or str(uuid.uuid4()), "op": op, "args": args},
        headers=auth(store, till),
        timeout=30,
    )
    return r.status_code, r.json()


def codes(store, n=5):
    ps = requests.get(
        f"{store.url}/v1/products", params={"q": "885", "limit": n}, headers=auth(store)
    ).json()
    return [p["barcodes"][0] for p in ps]


def test_mixed_tender_sale_refund_and_wallet(store):
    a, b = codes(store, 2)
    before = requests.get(f"{store.url}/v1/members/0823456789", headers=auth(store)).json()[
        "balance"
    ]
    assert cmd(store, "E1", "scan", {"code": a})[0] == 200
    st, res = cmd(store, "E1", "scan", {"code": b, "qty": 2})
    assert st == 200
    total = res["view"]["total"]
    st, res = cmd(
        store,
        "E1",
        "pay",
        {
            "tenders": [
                {"kind": "wallet", "member": "M0002", "amount": 1000},
                {"kind": "card", "amount": 2000, "reference": "TRM-778812", "last4": "4242"},
                {"kind": "cash", "amount": total},
            ]
        },
    )
    assert st == 200, res
    order = res["order"]
    assert order["total"] == total
    assert sum(p["amount"] for p in order["payments"]) == total + order["rounding"]
    cash = next(p for p in order["payments"] if p["kind"] == "cash")
    assert cash["change"] == total - (total - 3000 + order["rounding"])
    after = requests.get(f"{store.url}/v1/members/M0002", headers=auth(store)).json()
    # the wallet view follows the journal's tail: wait for it
    deadline = time.time() + 10
    while after["balance"] != before - 1000 and time.time() < deadline:
        time.sleep(0.1)
        after = requests.get(f"{store.url}/v1/members/M0002", headers=auth(store)).json()
    assert after["balance"] == before - 1000
    # after-sales finds it by number, by member and by the store's business date
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Bangkok")).date().isoformat()
    for q in (order["number"], "M0002", today):
        found = requests.get(f"{store.url}/v1/orders", params={"q": q}, headers=auth(store)).json()
        assert order["order_id"] in [o["order"]["order_id"] for o in found], q
    assert (
        requests.get(
            f"{store.url}/v1/orders", params={"q": "2001-01-01"}, headers=auth(store)
        ).json()
        == []
    )
    # refund line L2 (2 pieces): wallet first, then card, then cash
    r = requests.post(
        f"{store.url}/v1/orders/{order['order_id']}/refund",
        json={"id": str(uuid.uuid4()), "lines": {"L2": 2}, "reason": "damaged"},
        headers=auth(store, "E1"),
    )
    assert r.status_code == 200, r.text
    refund = r.json()["result"]
    line_total = next(ln["total"] for ln in order["lines"] if ln["line_id"] == "L2")
    assert refund["amount"] == line_total
    kinds = [t["kind"] for t in refund["tenders"]]
    assert kinds[0] == "wallet" and refund["tenders"][0]["amount"] == min(1000, line_total)
    # refunding it again is refused, and nothing is journaled for the refusal
    seq = requests.get(f"{store.url}/v1/health").json()["seq"]
    r = requests.post(
        f"{store.url}/v1/orders/{order['order_id']}/refund",
        json={"id": str(uuid.uuid4()), "lines": {"L2": 1}},
        headers=auth(store, "E1"),
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "refund.exceeds_paid"
    assert requests.get(f"{store.url}/v1/health").json()["seq"] == seq
    # a refund right after the sale by the same staff is flagged, and that rule freezes the order
    deadline = time.time() + 30
    while time.time() < deadline:
        view = requests.get(
            f"{store.url}/v1/orders/{order['order_id']}", headers=auth(store)
        ).json()
        if view["frozen"]:
            break
        time.sleep(0.5)
    rules = [f["rule"] for f in view["flags"]]
    assert "refund_soon_same_staff" in rules  # (and topup_cash_refund: M0002 topped up in cash)
    assert all(f["evidence"] for f in view["flags"]) and view["frozen_reason"].startswith("flag: ")
    r = requests.post(
        f"{store.url}/v1/orders/{order['order_id']}/refund",
        json={"id": str(uuid.uuid4()), "lines": {"L1": 1}},
        headers=auth(store, "E1"),
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "order.frozen"


def test_wallet_cannot_go_below_zero(store):
    a = codes(store, 1)[0]
    st, res = cmd(store, "E2", "scan", {"code": a, "qty": 50})
    assert st == 200
    total = res["view"]["total"]
    st, res = cmd(
        store, "E2", "pay", {"tenders": [{"kind": "wallet", "member": "M0003", "amount": total}]}
    )
    assert st == 409 and res["error"]["code"] == "wallet.insufficient_funds"
    assert cmd(store, "E2", "void", {"reason": "customer left"})[0] == 200


def test_events_reach_the_cloud_and_revenue_matches(store):
    a = codes(store, 1)[0]
    cmd(store, "E3", "scan", {"code": a})
    st, res = cmd(store, "E3", "pay", {"tenders": [{"kind": "cash", "amount": 10**6}]})
    assert st == 200
    cfg = json.loads((store.data / "store.json").read_text())
    cloud = cfg["cloud_url"]
    deadline = time.time() + 60
    while time.time() < deadline:
        up = requests.get(f"{store.url}/v1/health").json()["upload"]
        if up["backlog_events"] == 0:
            break
        time.sleep(0.5)
    assert up["backlog_events"] == 0, up
    # HQ's revenue for the store equals the store's own sales, to the minor unit
    events = []
    after = 0
    while True:
        page = requests.get(
            f"{store.url}/v1/events", params={"after": after}, headers=auth(store)
        ).json()
        if not page:
            break
        events += page
        after = page[-1]["seq"]
    sales = sum(e["body"]["total"] for e in events if e["kind"] == "order.completed")
    refunds = sum(e["body"]["amount"] for e in events if e["kind"] == "order.refunded")
    token = (store.data.with_name(store.data.name + "-hq") / "hq_token").read_text().strip()
    rev = requests.get(
        f"{cloud}/v1/revenue",
        params={"store": cfg["store_id"]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["revenue"]
    assert sum(r["sales"] for r in rev) == sales
    assert sum(r["refunded"] for r in rev) == refunds


def actor_pid(store, name: str) -> int:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f"ray::{name}" in line:
            return int(line.split()[0])
    raise AssertionError(f"no process for {name}")


# the ledger is no Ray actor (it lives in the server's process: tests/e2e/test_crash.py kills it)
# HostActor: the stock and wallet read models (with the uploader and licence keeper) share it
@pytest.mark.parametrize("actor", ["TillActor", "HostActor"])
def test_killed_actor_comes_back_with_its_state(store, actor):
    a, b = codes(store, 2)
    cmd(store, "K1", "scan", {"code": a})
    st, res = cmd(store, "K1", "scan", {"code": b})
    assert st == 200
    basket = res["view"]
    stock = requests.get(f"{store.url}/v1/stock", headers=auth(store)).json()["levels"]
    member = requests.get(f"{store.url}/v1/members/M0001", headers=auth(store)).json()
    os.kill(actor_pid(store, actor), signal.SIGKILL)
    # the basket, stock and wallets are as they were, and the till keeps selling
    view = requests.get(
        f"{store.url}/v1/tills/K1/basket", timeout=60, headers=auth(store, "K1")
    ).json()
    assert [ln["sku"] for ln in view["lines"]] == [ln["sku"] for ln in basket["lines"]]
    assert view["total"] == basket["total"]
    assert (
        requests.get(f"{store.url}/v1/stock", timeout=60, headers=auth(store)).json()["levels"]
        == stock
    )
    assert (
        requests.get(f"{store.url}/v1/members/M0001", timeout=60, headers=auth(store)).json()[
            "balance"
        ]
        == member["balance"]
    )
    st, res = cmd(store, "K1", "pay", {"tenders": [{"kind": "cash", "amount": 10**6}]})
    assert st == 200, res


def test_journal_verifies(store):
    out = subprocess.run(
        ["kassa", "journal", "verify", "--data", str(store.data)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout
    assert "chain intact" in out.stdout
