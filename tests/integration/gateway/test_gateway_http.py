"""The gateway over real HTTP on loopback, one demo store server for the module: every role's
allowed actions succeed and the others are refused with a clear code and nothing journaled; a day
of trading whose Z report equals a hand computation; approvals, lock-out, audit, live events."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from actors.process import StoreProcess
from domain.money import div_round, round_cash
from gwkit import (
    Api,
    body_of,
    error_code,
    journal_rows,
    journal_seq,
    new_id,
    sign_in,
    write_auth,
)

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("gw") / "store"
    write_auth(data, max_failures=5)
    proc = StoreProcess(data, products=300).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def admin(store):
    return sign_in(store.url, "admin", "ADM")


@pytest.fixture(scope="module")
def products(admin):
    """Sellable 'each' products priced in whole 25-satang steps, and their barcodes."""
    rows = admin.ok(admin.get("/v1/products", q="885", limit=200))
    good = [
        p
        for p in rows
        if p["unit"] == "each" and p["barcodes"] and p["sellable"] and p["tax_class"] == "std"
    ]
    assert len(good) >= 6
    return good


def open_day(admin: Api, till: str, float_: int = 50_000) -> dict:
    r = admin.post("/v1/day/open", {"id": new_id(), "till": till, "float": float_})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    return r.json()


def sell(api: Api, codes: list[str], tenders: list[dict] | None = None) -> dict:
    view = None
    for code in codes:
        view = api.ok(api.cmd("scan", {"code": code}))["view"]
    total = view["total"]
    res = api.ok(
        api.cmd("pay", {"tenders": tenders or [{"kind": "cash", "amount": total + 10_000}]})
    )
    return res["order"]


# ---------------------------------------------------------------- sessions


def test_health_config_and_openapi_are_public(store):
    h = requests.get(store.url + "/v1/health", timeout=30).json()
    for key in ("store_open", "seq", "upload", "licence", "disk_free_bytes", "open_tills"):
        assert key in h
    assert h["staff_accounts"] >= 6 and h["licence"]["ok"]
    spec = requests.get(store.url + "/v1/openapi.json", timeout=30).json()
    assert spec["openapi"].startswith("3.") and "/v1/sessions" in spec["paths"]


def test_everything_else_needs_a_session(store):
    anon = Api(store.url, "T1")
    seq = journal_seq(store.data)
    for method, path in [
        ("GET", "/v1/products"),
        ("POST", "/v1/tills/T1/commands"),
        ("GET", "/v1/stock"),
        ("GET", "/v1/events"),
        ("GET", "/v1/audit"),
        ("POST", "/v1/day/open"),
        ("GET", "/v1/reports/x"),
    ]:
        r = anon.call(method, path, {"id": new_id(), "op": "scan", "args": {"code": "1"}})
        assert r.status_code == 401 and error_code(r) == "auth.required", (path, r.text)
    bad = Api(store.url, "T1", token="not-a-token")
    r = bad.get("/v1/products", q="a")
    assert r.status_code == 401 and error_code(r) == "auth.session_expired"
    # the old X-Staff / X-Role headers mean nothing any more
    r = requests.post(
        store.url + "/v1/tills/T1/commands",
        headers={"X-Staff": "m1", "X-Role": "admin"},
        json={"id": new_id(), "op": "scan", "args": {}},
        timeout=30,
    )
    assert r.status_code == 401
    assert journal_seq(store.data) == seq


def test_sign_in_answers_role_language_permissions_and_is_retry_safe(store):
    cid = new_id()
    body = {"id": cid, "staff": "c2", "pin": "2222", "till": "S2"}
    r1 = requests.post(store.url + "/v1/sessions", json=body, timeout=30).json()
    r2 = requests.post(store.url + "/v1/sessions", json=body, timeout=30).json()
    assert r1["token"] == r2["token"] and r2["duplicate"] and not r1["duplicate"]
    assert r1["staff"] == {
        "staff": "c2",
        "name": "收银员二",
        "role": "cashier",
        "language": "zh_CN",
    }
    assert "sale.sell" in r1["permissions"] and "orders.refund" not in r1["permissions"]
    assert r1["discount_limit_bp"] == 1000
    # the same id with another till is a different command
    r3 = requests.post(store.url + "/v1/sessions", json={**body, "till": "S3"}, timeout=30)
    assert r3.status_code == 409 and error_code(r3) == "command.id_reused"
    api = Api(store.url, "S2", r1["token"])
    me = api.ok(api.get("/v1/sessions/current"))
    assert me["staff"]["staff"] == "c2" and me["till"] == "S2"
    # a session is bound to its till
    r = api.post("/v1/tills/S3/commands", {"id": new_id(), "op": "scan", "args": {"code": "1"}})
    assert r.status_code == 403 and error_code(r) == "auth.wrong_till"
    # signing out ends the session
    assert api.call("DELETE", "/v1/sessions/current").status_code == 200
    r = api.get("/v1/sessions/current")
    assert r.status_code == 401 and error_code(r) == "auth.session_expired"
    rows = journal_rows(store.data)
    kinds = [(k, s, t) for _, k, s, t, _, _ in rows if k.startswith("auth.") and s == "c2"]
    assert ("auth.signed_in", "c2", "S2") in kinds and ("auth.signed_out", "c2", "S2") in kinds
    # the journal keeps only the token's hash
    assert all(r1["token"].encode() not in bytes(row[5] or b"") for row in rows)


def test_signing_in_again_at_a_till_replaces_the_session_there(store):
    a = sign_in(store.url, "c3", "S4")
    b = sign_in(store.url, "c1", "S4")
    assert a.get("/v1/sessions/current").status_code == 401
    assert b.get("/v1/sessions/current").status_code == 200


def test_wrong_pins_lock_the_account_and_a_manager_unlocks_it(store):
    m = sign_in(store.url, "m1", "L9")
    before = journal_seq(store.data)
    codes = []
    for _ in range(5):
        r = requests.post(
            store.url + "/v1/sessions",
            json={"id": new_id(), "staff": "c3", "pin": "0000", "till": "L1"},
            timeout=30,
        )
        codes.append((r.status_code, error_code(r)))
    assert codes == [(401, "auth.bad_credentials")] * 5
    # even the right PIN is refused now, and nothing more is journaled for it
    seq = journal_seq(store.data)
    r = requests.post(
        store.url + "/v1/sessions",
        json={"id": new_id(), "staff": "c3", "pin": "3333", "till": "L1"},
        timeout=30,
    )
    assert r.status_code == 403 and error_code(r) == "auth.locked"
    assert journal_seq(store.data) == seq
    fails = [body_of(x) for x in journal_rows(store.data, before) if x[1] == "auth.pin_attempt"]
    assert [f["failures"] for f in fails] == [1, 2, 3, 4, 5]
    staff = {s["staff"]: s for s in m.ok(m.get("/v1/staff"))["staff"]}
    assert staff["c3"]["failures"] == 5 and "pin_hash" not in staff["c3"]
    m.ok(m.post("/v1/staff/c3/unlock", {"id": new_id(), "reason": "forgot PIN"}))
    sign_in(store.url, "c3", "L1")
    # unknown staff: refused, nothing journaled
    seq = journal_seq(store.data)
    r = requests.post(
        store.url + "/v1/sessions",
        json={"id": new_id(), "staff": "nobody", "pin": "1234", "till": "L1"},
        timeout=30,
    )
    assert r.status_code == 401 and error_code(r) == "auth.bad_credentials"
    assert journal_seq(store.data) == seq


def test_a_manager_locks_an_account_which_signs_it_out(store):
    m = sign_in(store.url, "m1", "L8")
    c = sign_in(store.url, "c2", "L7")
    m.ok(m.post("/v1/staff/c2/lock", {"id": new_id(), "reason": "left the company"}))
    r = c.get("/v1/sessions/current")
    assert r.status_code == 401
    r = requests.post(
        store.url + "/v1/sessions",
        json={"id": new_id(), "staff": "c2", "pin": "2222", "till": "L7"},
        timeout=30,
    )
    assert r.status_code == 403 and error_code(r) == "auth.locked"
    r = m.post("/v1/staff/m1/lock", {"id": new_id()})
    assert r.status_code == 409 and error_code(r) == "staff.self_lock"
    r = m.post("/v1/staff/admin/lock", {"id": new_id()})
    assert r.status_code == 403 and error_code(r) == "staff.admin_only"
    m.ok(m.post("/v1/staff/c2/unlock", {"id": new_id()}))
    sign_in(store.url, "c2", "L7")


# ---------------------------------------------------------------- roles

ROLE_TILLS = {"c1": "R1", "a1": "R2", "m1": "R3", "admin": "R4"}


@pytest.fixture(scope="module")
def roles(store, admin, products):
    for t in ROLE_TILLS.values():
        open_day(admin, t)
    apis = {s: sign_in(store.url, s, t) for s, t in ROLE_TILLS.items()}
    # orders to refund and freeze, sold by the manager at R3
    orders = [sell(apis["m1"], [products[i % 3]["barcodes"][0]]) for i in range(8)]
    return apis, orders


def actions(products, orders):
    """(action, needs) → a function(api, i) making one request of that action."""
    sku = products[0]["sku"]
    return {
        "sale.sell": lambda a, i: a.cmd("scan", {"code": products[0]["barcodes"][0]}),
        "orders.view": lambda a, i: a.get(f"/v1/orders/{orders[0]['order_id']}"),
        "orders.refund": lambda a, i: a.post(
            f"/v1/orders/{orders[i]['order_id']}/refund", {"id": new_id(), "reason": "test"}
        ),
        "orders.freeze": lambda a, i: a.post(
            f"/v1/orders/{orders[4 + i]['order_id']}/freeze", {"id": new_id(), "reason": "check"}
        ),
        "wallet.topup": lambda a, i: a.post(
            "/v1/members/M0002/topup", {"id": new_id(), "amount": 1000}
        ),
        "members.view": lambda a, i: a.get("/v1/members/M0002"),
        "stock.view": lambda a, i: a.get("/v1/stock"),
        "stock.change": lambda a, i: a.post(
            "/v1/stock/receive", {"id": new_id(), "sku": sku, "qty": 5}
        ),
        "products.import": lambda a, i: a.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [{"sku": f"IMP{i}", "names": {"en": f"Imported {i}"}, "price": 1000}],
            },
        ),
        "reports.view": lambda a, i: a.get("/v1/reports/x", scope="store"),
        "day.open": lambda a, i: a.post(
            "/v1/day/open", {"id": new_id(), "till": f"Q{i}", "float": 1000}
        ),
        "staff.view": lambda a, i: a.get("/v1/staff"),
        "staff.manage": lambda a, i: a.post(
            "/v1/staff",
            {
                "id": new_id(),
                "staff": f"new{i}",
                "name": "New",
                "role": "cashier",
                "language": "th",
                "pin": "5678",
            },
        ),
        "permissions.manage": lambda a, i: a.post(
            "/v1/permissions",
            {
                "id": new_id(),
                "action": "members.register",
                "roles": ["cashier", "aftersales", "manager"],
            },
        ),
        "audit.view": lambda a, i: a.get("/v1/audit", limit=5),
        "events.read": lambda a, i: a.get("/v1/events", after=0),
    }


ALLOWED = {
    "c1": {"sale.sell", "wallet.topup", "members.view"},
    "a1": {"orders.view", "orders.refund", "orders.freeze", "wallet.topup", "members.view"},
    "m1": None,  # everything
    "admin": None,
}


@pytest.mark.parametrize("staff", list(ROLE_TILLS))
def test_each_role_may_do_its_actions_and_nothing_else(store, roles, products, staff):
    apis, orders = roles
    api = apis[staff]
    i = list(ROLE_TILLS).index(staff)
    for action, call in actions(products, orders).items():
        allowed = ALLOWED[staff] is None or action in ALLOWED[staff]
        seq = journal_seq(store.data)
        r = call(api, i)
        if allowed:
            assert r.status_code == 200, (staff, action, r.status_code, r.text[:300])
        else:
            assert r.status_code == 403 and error_code(r) == "auth.forbidden", (
                staff,
                action,
                r.status_code,
                r.text[:300],
            )
            assert r.json()["error"]["details"]["action"] == action
            new = [x for x in journal_rows(store.data, seq) if x[2] == staff]
            assert new == [], (staff, action, new)


def test_the_sale_counter_sees_sellable_products_only(store, roles, admin):
    apis, _ = roles
    admin.ok(
        admin.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [
                    {
                        "sku": "HIDDEN1",
                        "names": {"en": "Hidden thing"},
                        "price": 500,
                        "sellable": False,
                        "barcodes": [],
                    }
                ],
            },
        )
    )
    assert [p["sku"] for p in apis["a1"].ok(apis["a1"].get("/v1/products", q="Hidden"))] == [
        "HIDDEN1"
    ]
    assert apis["c1"].ok(apis["c1"].get("/v1/products", q="Hidden")) == []
    r = apis["c1"].get("/v1/products/HIDDEN1")
    assert r.status_code == 404 and error_code(r) == "product.not_found"


def test_a_manager_approves_one_action_at_another_counter(store, roles, products):
    apis, orders = roles
    c = apis["c1"]
    order = orders[0]  # neither refunded nor frozen by the role test
    seq = journal_seq(store.data)
    # wrong PIN: refused, counted as a failure of the manager's account
    r = c.post(
        f"/v1/orders/{order['order_id']}/refund",
        {"id": new_id(), "approval": {"staff": "m1", "pin": "1234"}},
    )
    assert r.status_code == 403 and error_code(r) == "auth.approval_refused"
    # a cashier cannot approve
    r = c.post(
        f"/v1/orders/{order['order_id']}/refund",
        {"id": new_id(), "approval": {"staff": "c3", "pin": "3333"}},
    )
    assert r.status_code == 403 and error_code(r) == "auth.approval_refused"
    assert not [x for x in journal_rows(store.data, seq) if x[1] == "order.refunded"]
    cid = new_id()
    res = c.ok(
        c.post(
            f"/v1/orders/{order['order_id']}/refund",
            {"id": cid, "approval": {"staff": "m1", "pin": "9999"}},
        )
    )
    assert res["event"] == "order.refunded"
    rows = journal_rows(store.data, seq)
    refund = [x for x in rows if x[1] == "order.refunded"][0]
    assert refund[2:4] == ("c1", "R1")
    approved = [body_of(x) for x in rows if x[1] == "auth.approved"]
    assert approved == [
        {"approver": "m1", "staff": "c1", "till": "R1", "action": "orders.refund", "command": cid}
    ]
    # the failed approval PIN counted against m1 and success at sign-in resets it
    sign_in(store.url, "m1", "R3x")
    # a one-time approval token for a discount over the cashier's limit
    c.ok(c.cmd("scan", {"code": products[1]["barcodes"][0]}))
    r = c.cmd("discount_order", {"kind": "pct", "value": 5000})
    assert r.status_code == 403 and error_code(r) == "discount.over_limit"
    tok = c.ok(
        c.post(
            "/v1/approvals", {"staff": "m1", "pin": "9999", "action": "sale.discount_over_limit"}
        )
    )["approval"]
    res = c.ok(c.cmd("discount_order", {"kind": "pct", "value": 5000}, approval=tok))
    assert res["result"]["approved_by"] == "m1"
    r = c.cmd("discount_order", {"kind": "pct", "value": 4000}, approval=tok)
    assert r.status_code == 403 and error_code(r) == "auth.approval_invalid"  # used once
    c.ok(c.cmd("void", {"reason": "test"}))


def test_permissions_are_edited_by_a_manager_and_journaled(store, roles):
    apis, _ = roles
    m, a = apis["m1"], apis["a1"]
    assert a.get("/v1/stock").status_code == 403
    m.ok(
        m.post(
            "/v1/permissions",
            {"id": new_id(), "action": "stock.view", "roles": ["aftersales", "manager"]},
        )
    )
    assert a.get("/v1/stock").status_code == 200
    table = m.ok(m.get("/v1/permissions"))["actions"]
    assert table["stock.view"]["roles"] == ["admin", "aftersales", "manager"]
    m.ok(m.post("/v1/permissions", {"id": new_id(), "action": "stock.view", "roles": ["manager"]}))
    assert a.get("/v1/stock").status_code == 403
    r = m.post(
        "/v1/permissions", {"id": new_id(), "action": "permissions.manage", "roles": ["admin"]}
    )
    assert r.status_code == 409 and error_code(r) == "permissions.self_lockout"
    kinds = [x[1] for x in journal_rows(store.data) if x[1] == "permissions.changed"]
    assert len(kinds) >= 2


def test_every_event_records_staff_till_and_ip_and_the_audit_lists_them(store, roles):
    apis, _ = roles
    m = apis["m1"]
    rows = journal_rows(store.data)
    mine = [x for x in rows if x[2] in ROLE_TILLS and not x[1].startswith("auth.sign_in_failed")]
    assert mine and all(x[4] == "127.0.0.1" for x in mine)
    assert all(
        x[3]
        for x in mine
        if x[1] in ("order.completed", "order.refunded", "basket.line_added", "wallet.topped_up")
    )
    out = m.ok(m.get("/v1/audit", staff="c1", limit=1000, scan=200000))
    assert out["events"] and all(
        e["staff"] == "c1" and e["ip"] == "127.0.0.1" for e in out["events"]
    )
    assert {"staff": "c1", "ip": "127.0.0.1", "till": "R1"} in [
        {k: s[k] for k in ("staff", "ip", "till")} for s in out["summary"]
    ]
    approved = m.ok(m.get("/v1/audit", kind="auth.approved", limit=1000, scan=200000))["events"]
    assert approved and approved[0]["approved_by"] == "m1"
    # PIN hashes and session hashes never leave the store server
    evs = m.ok(m.get("/v1/events", after=0))
    assert not any("argon2" in json.dumps(e) for e in evs)


def test_live_event_stream_works_under_auth(store, roles, products):
    apis, _ = roles
    c, listener = apis["c1"], apis["m1"]  # the full feed is a manager's (a cashier's: 403)
    seq = journal_seq(store.data)
    r = requests.get(store.url + "/v1/events/stream", params={"after": seq}, timeout=5)
    assert r.status_code == 401
    got: list[str] = []

    def listen() -> None:
        with requests.get(
            store.url + "/v1/events/stream",
            params={"after": seq, "token": listener.token},
            stream=True,
            timeout=20,
        ) as resp:
            for line in resp.iter_lines():
                if line.startswith(b"event: "):
                    got.append(line[7:].decode())
                    if "basket.line_added" in got:
                        return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    time.sleep(0.5)
    c.ok(c.cmd("scan", {"code": products[2]["barcodes"][0]}))
    t.join(20)
    assert "basket.line_added" in got
    c.ok(c.cmd("void", {"reason": "stream test"}))


# ---------------------------------------------------------------- the business day


def test_selling_is_refused_while_the_day_is_closed(store, products):
    c = sign_in(store.url, "c1", "CL1")
    seq = journal_seq(store.data)
    r = c.cmd("scan", {"code": products[0]["barcodes"][0]})
    assert r.status_code == 409 and error_code(r) == "day.closed"
    r = c.post("/v1/members/M0001/topup", {"id": new_id(), "amount": 100})
    assert r.status_code == 409 and error_code(r) == "day.closed"
    assert journal_seq(store.data) == seq


def test_a_day_of_trading_and_its_z_report(store, admin, products):
    """Open with a float, sell (cash with change and rounding, card), refund one line (cash) and a
    whole order (card, with a manager's approval), top up a wallet in cash, close with a counted
    amount 1.00 short: the recorded Z report equals the hand computation to the satang."""
    m = sign_in(store.url, "m1", "DM")
    till = "D1"
    float_ = 100_000
    opened = m.ok(m.post("/v1/day/open", {"id": new_id(), "till": till, "float": float_}))
    assert opened["licence"]["ok"] and opened["result"]["float"] == float_
    c = sign_in(store.url, "c2", till)
    p1, p2, p3 = products[3], products[4], products[5]

    # order A: 2 × p1 + 1 × p2, paid in cash with 500.00 more than due
    tendered = round_cash(2 * p1["price"] + p2["price"], 25) + 50_000
    order_a = sell(
        c,
        [p1["barcodes"][0], p1["barcodes"][0], p2["barcodes"][0]],
        [{"kind": "cash", "amount": tendered}],
    )
    # order B: 1 × p3, card
    view = c.ok(c.cmd("scan", {"code": p3["barcodes"][0]}))["view"]
    order_b = c.ok(
        c.cmd(
            "pay",
            {
                "tenders": [
                    {"kind": "card", "amount": view["total"], "reference": "T-99", "last4": "4242"}
                ]
            },
        )
    )["order"]

    # hand computation (prices include 7 % tax; tax per line; cash rounded to 0.25 half up)
    def tax(amount: int) -> int:
        return amount - div_round(amount * 10000, 10700)

    line_a1, line_a2, line_b = 2 * p1["price"], p2["price"], p3["price"]
    total_a, total_b = line_a1 + line_a2, line_b
    cash_a = round_cash(total_a, 25)
    assert order_a["total"] == total_a and order_b["total"] == total_b
    assert order_a["tax"] == tax(line_a1) + tax(line_a2)

    # refund one p1 of order A (cash back) by the after-sales counter's rules: the cashier asks,
    # the manager approves with their PIN
    a_line = next(ln for ln in order_a["lines"] if ln["sku"] == p1["sku"])
    ref_a = c.ok(
        c.post(
            f"/v1/orders/{order_a['order_id']}/refund",
            {
                "id": new_id(),
                "lines": {a_line["line_id"]: 1},
                "reason": "broken",
                "approval": {"staff": "m1", "pin": "9999"},
            },
        )
    )["result"]
    refund_a = div_round(line_a1 * 1, 2)  # half of the 2-piece line
    cash_back_a = round_cash(refund_a, 25)
    assert ref_a["amount"] == refund_a and sum(t["amount"] for t in ref_a["tenders"]) == cash_back_a
    # refund order B whole (card)
    c.ok(
        c.post(
            f"/v1/orders/{order_b['order_id']}/refund",
            {"id": new_id(), "reason": "changed mind", "approval": {"staff": "m1", "pin": "9999"}},
        )
    )
    # a wallet top-up paid in cash
    c.ok(c.post("/v1/members/M0003/topup", {"id": new_id(), "amount": 50_000, "tender": "cash"}))

    expected_cash = float_ + cash_a - cash_back_a + 50_000
    counted = expected_cash - 100
    cid = new_id()
    closed = m.ok(m.post("/v1/day/close", {"id": cid, "till": till, "counted_cash": counted}))
    z = closed["z_report"]
    t = z["totals"]
    assert z["kind"] == "Z" and z["till"] == till
    want = {
        "orders": 2,
        "gross_sales": total_a + total_b,
        "discounts": 0,
        "net_sales": total_a + total_b,
        "tax": tax(line_a1) + tax(line_a2) + tax(line_b),
        "rounding": cash_a - total_a,
        "refunds": 2,
        "refunded": refund_a + total_b,
        "net_after_refunds": total_a + total_b - refund_a - total_b,
        "cash_sales": cash_a,
        "card_sales": total_b,
        "wallet_sales": 0,
        "cash_refunds": cash_back_a,
        "card_refunds": total_b,
        "wallet_refunds": 0,
        "cash_tendered": tendered,
        "change_given": tendered - cash_a,
        "topups": 50_000,
        "topups_cash": 50_000,
        "topups_card": 0,
        "cash_topups": 50_000,
        "voids": 0,
        "voided_amount": 0,
        "opening_float": float_,
        "expected_cash": expected_cash,
        "counted_cash": counted,
        "cash_difference": -100,
    }
    assert {k: t[k] for k in want} == want
    # the close and the Z report are events; the retry answers the same
    rows = journal_rows(store.data)
    closes = [body_of(x) for x in rows if x[1] == "day.closed" and body_of(x)["till"] == till]
    assert closes == [
        {
            "till": till,
            "counted_cash": counted,
            "business_day": z["business_day"],
            "opening_float": float_,
        }
    ]
    zs = [body_of(x) for x in rows if x[1] == "day.z_report" and body_of(x)["till"] == till]
    assert len(zs) == 1 and zs[0]["report"]["totals"] == t
    again = m.ok(m.post("/v1/day/close", {"id": cid, "till": till, "counted_cash": counted}))
    assert again["duplicate"] and again["z_report"]["totals"] == t
    # selling is refused again; the till's X report now equals the Z
    r = c.cmd("scan", {"code": p1["barcodes"][0]})
    assert r.status_code == 409 and error_code(r) == "day.closed"
    x = m.ok(m.get("/v1/reports/x", till=till, day=z["business_day"]))
    assert x["totals"] == t
    # closing a closed day is refused
    r = m.post("/v1/day/close", {"id": new_id(), "till": till, "counted_cash": 0})
    assert r.status_code == 409 and error_code(r) == "day.not_open"


def test_closing_with_an_open_basket_is_refused(store, admin, products):
    open_day(admin, "OB1")
    c = sign_in(store.url, "c1", "OB1")
    c.ok(c.cmd("scan", {"code": products[0]["barcodes"][0]}))
    r = admin.post("/v1/day/close", {"id": new_id(), "till": "OB1", "counted_cash": 0})
    assert r.status_code == 409 and error_code(r) == "day.baskets_open"
    c.ok(c.cmd("void", {"reason": "closing"}))
    admin.ok(admin.post("/v1/day/close", {"id": new_id(), "till": "OB1", "counted_cash": 50_000}))


def test_an_imported_product_sells_at_once_at_a_till_already_selling(store, admin, products):
    """The tills live in the gateway's process (the default placement) and keep a catalogue
    copy: an import must reach them before the next scan, new product and new price alike."""
    open_day(admin, "IMP")
    api = sign_in(store.url, "c1", "IMP")
    old = products[0]
    api.ok(api.cmd("scan", {"code": old["barcodes"][0]}))  # the till is up, its catalogue loaded
    admin.ok(
        admin.post(
            "/v1/products/import",
            {
                "id": new_id(),
                "products": [
                    {
                        "sku": "NEW-IMP-1",
                        "names": {"en": "Fresh import"},
                        "price": 1_234,
                        "barcodes": ["2900000000001"],
                    },
                    {
                        **{k: old[k] for k in ("sku", "names", "barcodes", "tax_class", "unit")},
                        "price": old["price"] + 100,
                    },
                ],
            },
        )
    )
    view = api.ok(api.cmd("scan", {"code": "2900000000001"}))["view"]
    assert view["lines"][-1]["sku"] == "NEW-IMP-1" and view["lines"][-1]["unit_price"] == 1_234
    view = api.ok(api.cmd("scan", {"code": old["barcodes"][0]}))["view"]
    assert view["lines"][-1]["unit_price"] == old["price"] + 100
    api.ok(api.cmd("void", {"reason": "test"}))
