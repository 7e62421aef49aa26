"""One poison value must not stall the reports: bounds at every entry point over real HTTP, and an
event an old journal may carry (a price of 2**63, written straight into the journal file)
quarantined by the store's analytics copy and by HQ's warehouse while every other event flows, with
an alert and a Z report that counts every good order and says an event is missing from it."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import polars as pl
import pytest
import requests

from actors.process import StoreProcess
from gwkit import Api, error_code, journal_rows, journal_seq, new_id, running_store, sign_in

pytestmark = pytest.mark.ray

POISON = 2**63
TILL = "PZ"
LIMITS = {
    "max_unit_price": 10_000_000_00,
    "max_line_qty": 10_000,
    "max_topup": 1_000_000_00,
    "max_stock_qty": 10_000_000,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with running_store(tmp_path_factory.mktemp("poison") / "store") as proc:
        yield proc


@pytest.fixture(scope="module")
def m1(store):
    api = sign_in(store.url, "m1", TILL)
    api.ok(api.post("/v1/day/open", {"id": new_id(), "till": TILL, "float": 100_000}))
    return api


@pytest.fixture(scope="module")
def goods(m1):
    """Two products of our own: one at the largest price allowed, one sold by weight."""
    m1.ok(
        m1.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [
                    {
                        "sku": "PZ-MAX",
                        "names": {"en": "At the price limit"},
                        "price": LIMITS["max_unit_price"],
                    },
                    {
                        "sku": "PZ-KG",
                        "names": {"en": "Rice by weight"},
                        "price": 40_00,
                        "unit": "kg",
                    },
                    {"sku": "PZ-ONE", "names": {"en": "A small thing"}, "price": 20_00},
                ],
            },
        )
    )
    return {"max": "PZ-MAX", "kg": "PZ-KG", "one": "PZ-ONE"}


def mine_after(store: StoreProcess, seq: int) -> list[tuple]:
    """Events journaled after ``seq`` by m1 (the licence and the flagger journal on their own)."""
    return [r for r in journal_rows(store.data, seq) if r[2] == "m1"]


def refused(r: requests.Response, code: str, status: int = 400) -> dict:
    assert (r.status_code, error_code(r)) == (status, code), r.text[:500]
    return r.json()["error"]


def sell(api: Api, sku: str, qty: int = 1) -> dict:
    view = api.ok(api.cmd("scan", {"code": sku, "qty": qty}))["view"]
    return api.ok(
        api.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 10_000}]})
    )["order"]


# ---------------------------------------------------------------- bounds at every entry point


def test_config_tells_the_kiosks_the_limits(store):
    cfg = requests.get(store.url + "/v1/config", timeout=30).json()
    for k, v in LIMITS.items():
        assert cfg["limits"][k] == v


def test_an_import_with_a_2_63_price_is_refused_row_by_row_and_journals_nothing(store, m1):
    seq = journal_seq(store.data)
    err = refused(
        m1.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [
                    {"sku": "PZ-GOOD", "names": {"en": "fine"}, "price": 100},
                    {"sku": "PZ-POISON", "names": {"en": "2**63 satang"}, "price": POISON},
                    {
                        "sku": "PZ-OVER",
                        "names": {"en": "just over"},
                        "price": LIMITS["max_unit_price"] + 1,
                    },
                    {"sku": "PZ-HUGE", "names": {"en": "huge"}, "price": 10**40},
                ],
            },
        ),
        "amount.too_large",
    )
    # a JSON number beyond 64 bits reaches the server as a float: not a price at all
    assert [(r["row"], r["code"]) for r in err["details"]["rows"]] == [
        (2, "amount.too_large"),
        (3, "amount.too_large"),
        (4, "product.bad_price"),
    ]
    assert not mine_after(store, seq)
    for sku in ("PZ-GOOD", "PZ-POISON"):
        assert m1.get(f"/v1/products/{sku}").status_code == 404


def test_absurd_quantities_prices_and_tenders_at_the_till_are_refused(store, m1, goods):
    seq = journal_seq(store.data)
    for args in (
        {"code": goods["one"], "qty": POISON},
        {"code": goods["one"], "qty": 10**9},
        {"code": goods["one"], "qty": LIMITS["max_line_qty"] + 1},
        {"code": goods["kg"], "weight_g": 1_000_001},
    ):
        refused(m1.cmd("scan", args), "quantity.too_large")
    refused(m1.cmd("add", {"sku": goods["one"], "qty": POISON}), "quantity.too_large")
    # two lines at the largest price are more than the largest order
    refused(m1.cmd("scan", {"code": goods["max"], "qty": 2}), "amount.too_large")
    assert not mine_after(store, seq)
    # a line that is fine, then a quantity change and a tender that are not
    view = m1.ok(m1.cmd("scan", {"code": goods["one"]}))["view"]
    seq = journal_seq(store.data)
    line = view["lines"][0]["line_id"]
    refused(m1.cmd("quantity", {"line_id": line, "qty": POISON}), "quantity.too_large")
    refused(m1.cmd("pay", {"tenders": [{"kind": "cash", "amount": POISON}]}), "amount.too_large")
    refused(m1.cmd("pay", {"tenders": [{"kind": "cash", "amount": 10**12}]}), "amount.too_large")
    assert not mine_after(store, seq)
    m1.ok(m1.cmd("void", {"reason": "test"}))


def test_top_ups_stock_moves_and_cash_counts_above_the_limits_are_refused(store, m1, goods):
    member = "PZ-" + uuid.uuid4().hex[:8]
    m1.ok(m1.post("/v1/members", {"id": new_id(), "member": member, "name": "Poison tester"}))
    seq = journal_seq(store.data)
    for amount in (POISON, LIMITS["max_topup"] + 1):
        refused(
            m1.post(f"/v1/members/{member}/topup", {"id": new_id(), "amount": amount}),
            "amount.too_large",
        )
    refused(
        m1.post("/v1/stock/receive", {"id": new_id(), "sku": goods["one"], "qty": POISON}),
        "quantity.too_large",
    )
    refused(
        m1.post(
            "/v1/stock/adjust",
            {"id": new_id(), "sku": goods["one"], "delta": -POISON, "reason": "x"},
        ),
        "quantity.too_large",
    )
    refused(
        m1.post(
            "/v1/stock/count",
            {"id": new_id(), "sku": goods["one"], "counted": LIMITS["max_stock_qty"] + 1},
        ),
        "quantity.too_large",
    )
    refused(
        m1.post("/v1/day/open", {"id": new_id(), "till": "PZ2", "float": POISON}),
        "amount.too_large",
    )
    refused(
        m1.post("/v1/day/close", {"id": new_id(), "till": TILL, "counted_cash": POISON}),
        "amount.too_large",
    )
    assert not mine_after(store, seq)
    assert m1.ok(m1.get(f"/v1/members/{member}"))["balance"] == 0
    m1.ok(m1.post(f"/v1/members/{member}/topup", {"id": new_id(), "amount": LIMITS["max_topup"]}))


def test_a_report_states_as_of_which_journal_seq_it_is(store, m1, goods):
    sell(m1, goods["one"])
    x = m1.ok(m1.get("/v1/reports/x", till=TILL))
    assert x["as_of_seq"] >= x["totals"]["orders"] and x["lagging"] is False
    assert x["journal_seq"] == x["as_of_seq"] and x["quarantined"] == 0
    h = requests.get(store.url + "/v1/health", timeout=60).json()
    assert h["analytics"]["journal_seq"] >= x["journal_seq"] and h["alerts"] == []


# ---------------------------------------------------------------- a poison event in the journal


def _append_poison(data: Path) -> int:
    """Append an order of 2**63 satang straight to the journal file, chained like any event (as
    an old journal written before the bounds might hold it). The server must be stopped."""
    from actors.journal import Journal, Pending
    from domain.events import OrderCompleted, OrderLine, Payment, encode_body

    oid = str(uuid.uuid4())
    line = OrderLine(
        line_id="L1",
        sku="PZ-ONE",
        names={"en": "poison"},
        category="",
        unit="each",
        qty=1,
        unit_price=POISON,
        base=POISON,
        discount=0,
        amount=POISON,
        tax=0,
        total=POISON,
        tax_class="std",
        rate_bp=700,
    )
    body = OrderCompleted(
        order_id=oid,
        number=f"{TILL}-999999",
        currency="THB",
        prices_include_tax=True,
        lines=(line,),
        subtotal=POISON,
        discount=0,
        tax=0,
        total=POISON,
        rounding=0,
        payments=(Payment(kind="card", amount=POISON, reference="OLD", last4="0000"),),
    )
    j = Journal(data / "journal.sqlite")
    try:
        env = j.append(
            [
                Pending(
                    id=oid,
                    cmd=b"old",
                    ts=time.time_ns() // 1000,
                    kind="order.completed",
                    v=1,
                    staff="m1",
                    till=TILL,
                    ip="127.0.0.1",
                    agg=oid,
                    body=encode_body(body),
                )
            ]
        )[0]
    finally:
        j.close()
    return env.seq


def _hq_state(hq: Path) -> tuple[int, list[tuple], list[tuple]]:
    ev = hq / "stores" / "S001" / "events.sqlite"
    if not ev.exists():
        return 0, [], []
    con = sqlite3.connect(f"file:{ev}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'exported'").fetchone()
        try:
            quarantined = con.execute("SELECT seq, kind FROM quarantine").fetchall()
        except sqlite3.OperationalError:
            quarantined = []
    except sqlite3.OperationalError:
        return 0, [], []
    finally:
        con.close()
    reg = sqlite3.connect(f"file:{hq / 'cloud.sqlite'}?mode=ro", uri=True)
    try:
        alerts = reg.execute("SELECT code, seq FROM alerts WHERE store = 'S001'").fetchall()
    finally:
        reg.close()
    return int(row[0]) if row else 0, quarantined, alerts


def test_a_poison_event_is_quarantined_while_every_other_event_flows(store, m1, goods):
    orders = [sell(m1, goods["one"])["order_id"] for _ in range(3)]
    before = m1.ok(m1.get("/v1/reports/x", till=TILL))["totals"]["orders"]
    store.stop()
    poison = _append_poison(store.data)
    store.start()
    m = sign_in(store.url, "m1", TILL)
    orders += [sell(m, goods["one"])["order_id"] for _ in range(5)]

    # the store's analytics copy: every good order counts, the poison is named, nothing lags
    x = m.ok(m.get("/v1/reports/x", till=TILL))
    assert x["totals"]["orders"] == before + 5
    assert x["quarantined"] == 1 and x["quarantined_events"][0]["seq"] == poison
    assert x["lagging"] is False and x["as_of_seq"] == x["journal_seq"] > poison
    h = requests.get(store.url + "/v1/health", timeout=60).json()
    assert "analytics.quarantined" in h["alerts"] and h["analytics"]["quarantined"] == 1

    # the Z report at close counts the same and says an event is missing from it
    closed = m.ok(m.post("/v1/day/close", {"id": new_id(), "till": TILL, "counted_cash": 0}))
    z = closed["z_report"]
    assert z["totals"]["orders"] == before + 5 and z["quarantined"] == 1
    assert z["as_of_seq"] >= closed["seq"] and z["lagging"] is False

    # HQ's warehouse: the poison recorded and alerted, every other event exported
    hq = store.data.with_name(store.data.name + "-hq")
    last = journal_seq(store.data)
    end = time.time() + 180
    while time.time() < end:
        exported, quarantined, alerts = _hq_state(hq)
        if exported >= last and quarantined:
            break
        time.sleep(1)
    assert exported >= last, "the warehouse stalled"
    assert quarantined == [(poison, "order.completed")]
    assert ("warehouse.quarantined", poison) in alerts
    files = list((hq / "warehouse" / "orders").rglob("seq-*.parquet"))
    exported_orders = set(pl.concat([pl.read_parquet(f) for f in files])["order_id"].to_list())
    assert set(orders) <= exported_orders
