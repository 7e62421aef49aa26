"""Crash test on real processes: a burst of checkouts from several tills while the whole store
server (gateway, Ray and every actor) is SIGKILLed at random moments.

After every restart: every acknowledged order is in the journal exactly once, nothing that was not
acknowledged is half there (an order is one event; basket lines belong to a completed, voided or
still-open basket that the till shows again), wallets never went below zero, stock equals what the
journal says, and ``kassa journal verify`` passes.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import msgspec
import pytest
import requests

from actors.process import StoreProcess
from domain.events import decode_body

TILLS = ["C1", "C2", "C3", "C4"]
MEMBERS = ["M0001", "M0002"]
CLIENTS_BUSINESS = {"wallet.insufficient_funds"}  # refusals the server rightly gives a client


class TillClient(threading.Thread):
    """One cashier: scan 1–3 items, pay (cash, or wallet + cash), retry each command with the same
    id until the server answers, and remember what was acknowledged."""

    def __init__(self, till: str, url_box: dict, codes: list[str], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.till, self.box, self.codes, self.stop_ev = till, url_box, codes, stop
        self.rng = random.Random(till)
        self.acked: dict[str, dict] = {}  # order id -> order as answered
        self.refused: list[dict] = []
        self.s = requests.Session()
        self.token = ""  # the till's session (journaled: it survives the restarts)

    def sign_in(self, staff: str = "c1", pin: str = "1111") -> None:
        r = self.s.post(
            f"{self.box['url']}/v1/sessions",
            json={"id": str(uuid.uuid4()), "staff": staff, "pin": pin, "till": self.till},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        self.s.headers["Authorization"] = f"Bearer {self.token}"

    def send(self, op: str, args: dict, cid: str | None = None) -> dict | None:
        cid = cid or str(uuid.uuid4())
        while not self.stop_ev.is_set():
            try:
                r = self.s.post(
                    f"{self.box['url']}/v1/tills/{self.till}/commands",
                    json={"id": cid, "op": op, "args": args},
                    timeout=10,
                )
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if r.status_code == 200:
                return r.json()
            if r.status_code == 503:  # store restarting: same id again
                time.sleep(0.2)
                continue
            self.refused.append({"op": op, "status": r.status_code, "body": r.json()})
            return None
        return None

    def run(self) -> None:
        while not self.stop_ev.is_set():
            view = None
            for _ in range(self.rng.randint(1, 3)):
                res = self.send("scan", {"code": self.rng.choice(self.codes)})
                if res is None:
                    break
                view = res["view"]
            if view is None or not view["lines"]:
                continue
            total = view["total"]
            if self.rng.random() < 0.3 and total > 100:
                tenders = [
                    {"kind": "wallet", "member": self.rng.choice(MEMBERS), "amount": 100},
                    {"kind": "cash", "amount": total + 5_000},
                ]
            else:
                tenders = [{"kind": "cash", "amount": total + 5_000}]
            res = self.send("pay", {"tenders": tenders})
            if (
                res is None
                and not self.stop_ev.is_set()
                and self.refused
                and self.refused[-1]["body"].get("error", {}).get("code") in CLIENTS_BUSINESS
            ):
                # the wallets run dry in a long burst: that refusal is right, the customer pays cash
                res = self.send("pay", {"tenders": [{"kind": "cash", "amount": total + 5_000}]})
            if res is not None:
                self.acked[res["order"]["order_id"]] = res["order"]


def journal_events(data: Path) -> list[tuple]:
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT seq, id, kind, till, agg, body FROM events ORDER BY seq"
        ).fetchall()
    finally:
        con.close()


def check_store(data: Path, url: str, clients: list[TillClient]) -> None:
    rows = journal_events(data)
    # the chain holds
    verify = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "journal", "verify", "--data", str(data)],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # every acknowledged order exactly once, with what the till was told
    completed = Counter()
    orders = {}
    for _, _, kind, _, agg, body in rows:
        if kind == "order.completed":
            completed[agg] += 1
            orders[agg] = decode_body(kind, body)
    for c in clients:
        for order_id, told in c.acked.items():
            assert completed[order_id] == 1, f"order {order_id} present {completed[order_id]} times"
            told = dict(told)
            assert isinstance(told.pop("ts", None), int)  # the commit time, for the receipt
            assert msgspec.json.decode(msgspec.json.encode(orders[order_id])) == told
    assert all(n == 1 for n in completed.values())
    numbers = [o.number for o in orders.values()]
    assert len(numbers) == len(set(numbers)), "order numbers repeat"
    # wallets never negative, replaying in journal order
    bal: dict[str, int] = {}
    for _, _, kind, _, _, body in rows:
        b = decode_body(kind, body)
        if kind == "wallet.topped_up":
            bal[b.member] = bal.get(b.member, 0) + b.amount
        elif kind == "order.completed":
            for p in b.payments:
                if p.kind == "wallet":
                    bal[p.member] = bal.get(p.member, 0) - p.amount
                    assert bal[p.member] >= 0
    # lines of baskets neither completed nor voided are exactly what each till shows again
    open_lines: dict[str, dict[str, list]] = {}
    closed = set(completed)
    closed |= {agg for _, _, kind, _, agg, _ in rows if kind == "basket.voided"}
    for _, _, kind, till, agg, body in rows:
        if kind == "basket.line_added" and agg not in closed:
            open_lines.setdefault(till, {}).setdefault(agg, []).append(decode_body(kind, body).sku)
    tokens = {c.till: c.token for c in clients}
    for till in TILLS:
        view = requests.get(
            f"{url}/v1/tills/{till}/basket",
            timeout=30,
            headers={"Authorization": f"Bearer {tokens[till]}"},
        ).json()
        shown = {}
        if view["basket"]:
            shown[view["basket"]] = [ln["sku"] for ln in view["lines"]]
        for p in view["parked"]:
            shown.setdefault(p["basket"], None)
        expected = open_lines.get(till, {})
        assert set(shown) == set(expected), (till, shown, expected)
        if view["basket"]:
            assert shown[view["basket"]] == expected[view["basket"]]


@pytest.mark.slow
@pytest.mark.timeout(3600)  # 25 whole-server restarts, each up to selling (~2-4 s on 2 cores)
def test_sigkill_store_server_during_checkouts(tmp_path: Path, pytestconfig) -> None:
    kills = pytestconfig.getoption("--kills")
    data = tmp_path / "store"
    store = StoreProcess(data, products=300).start()
    box = {"url": store.url}
    manager = TillClient("CM", box, [], threading.Event())
    manager.sign_in("m1", "9999")  # opens the tills' business days
    for t in TILLS:
        r = manager.s.post(
            store.url + "/v1/day/open",
            json={"id": str(uuid.uuid4()), "till": t, "float": 0},
            timeout=60,
        )
        assert r.status_code == 200, r.text
    products = manager.s.get(store.url + "/v1/products", params={"q": "885", "limit": 60}).json()
    codes = [p["barcodes"][0] for p in products]
    stop = threading.Event()
    clients = [TillClient(t, box, codes, stop) for t in TILLS]
    for c in clients:
        c.sign_in()
        c.start()
    rng = random.Random(2026)
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 2.0))
            store.kill()
            store = StoreProcess(data, port=store.port, demo=False)
            # the tills need only the selling path (the ledger and the gateway, up before Ray):
            # the next kill may land while Ray still starts, as a real crash may
            store.start(all_actors=False)
        time.sleep(1.0)
    finally:
        stop.set()
        for c in clients:
            c.join(120)
    try:
        store.wait_up(timeout=300, all_actors=True)  # the checks read stock: every actor up
        # a client still in a request would commit after the journal is read below (under heavy
        # load a 30 s join was not enough: an in-flight pay completed a basket the check had
        # just read as open)
        assert not any(c.is_alive() for c in clients), "a till client did not stop"
        acked = sum(len(c.acked) for c in clients)
        assert acked > kills, f"only {acked} orders acknowledged across {kills} kills"
        # the server promises answers, not that every payment goes through: a wallet that ran dry
        # (tills race for one member's wallet) is the customer's business, and the till pays cash
        broken = [
            r
            for c in clients
            for r in c.refused
            if r["body"].get("error", {}).get("code") not in CLIENTS_BUSINESS
        ]
        assert not broken, broken[:5]
        check_store(data, store.url, clients)
        # and the read models rebuilt from the journal agree with it
        stock = manager.s.get(store.url + "/v1/stock", timeout=30).json()
        sold: Counter = Counter()
        for _, _, kind, _, _, body in journal_events(data):
            b = decode_body(kind, body)
            if kind == "order.completed":
                for ln in b.lines:
                    sold[ln.sku] -= ln.qty
            elif kind == "stock.received":
                sold[b.sku] += b.qty
        assert {k: v for k, v in stock["levels"].items() if v} == {
            k: v for k, v in sold.items() if v
        }
    finally:
        store.stop()
