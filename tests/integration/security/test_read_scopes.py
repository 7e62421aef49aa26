"""Who may read what, over a real store server: a table of endpoints × roles (allowed, or 403
``auth.forbidden`` naming the action), and which fields each role sees — a cashier sees what selling
needs and no event feed; the big screen (a ``display`` account) sees sales figures only, never a
member, a staff member, an IP, a PIN hash or an audit record."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from actors.openapi import SPEC, operations
from actors.process import StoreProcess
from gwkit import Api, error_code, new_id, sign_in

pytestmark = pytest.mark.ray

TILLS = {"c1": "RS1", "a1": "RS2", "m1": "RS3", "admin": "RS4", "big1": "BIG1"}
DISPLAY_PIN = "display-7391"
MEMBER = {"member": "M0002"}  # a demo member with a name, phone and card


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("scopes") / "store"
    proc = StoreProcess(data, products=300).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def world(store):
    """Everyone signed in at their own till, the big screen too; a member sale and a top-up made
    by the cashier."""
    admin = sign_in(store.url, "admin", TILLS["admin"])
    admin.ok(
        admin.post(
            "/v1/staff",
            {
                "id": new_id(),
                "staff": "big1",
                "name": "Big screen",
                "role": "display",
                "language": "en",
                "pin": DISPLAY_PIN,
            },
        )
    )
    for t in ("RS1", "RS2", "RS3", "RS4"):
        admin.ok(admin.post("/v1/day/open", {"id": new_id(), "till": t, "float": 1000}))
    apis = {
        s: sign_in(store.url, s, t, DISPLAY_PIN if s == "big1" else None)
        for s, t in TILLS.items()
        if s != "admin"
    }
    apis["admin"] = admin
    c = apis["c1"]
    member = c.ok(c.get("/v1/members/M0002"))
    full = apis["a1"].ok(apis["a1"].get("/v1/members/M0002"))
    products = [
        p
        for p in c.ok(c.get("/v1/products", q="885", limit=50))
        if p["unit"] == "each" and p["barcodes"]
    ]
    view = c.ok(c.cmd("scan", {"code": products[0]["barcodes"][0]}))["view"]
    order = c.ok(
        c.cmd(
            "pay",
            {
                "member": "M0002",
                "tenders": [{"kind": "wallet", "amount": view["total"], "member": "M0002"}],
            },
        )
    )["order"]
    c.ok(c.post("/v1/members/M0002/topup", {"id": new_id(), "amount": 700}))
    return {"apis": apis, "member": member, "full": full, "order": order, "products": products}


def _get(path: str, **q):
    return lambda a, w: a.get(path.format(**w, till=a.till), **q)


def _post(path: str, body: dict):
    return lambda a, w: a.post(path.format(**w, till=a.till), {"id": new_id(), **body})


# endpoint -> (how to call it, roles allowed). Every other role gets 403 auth.forbidden naming
# the action in the third column.
TABLE = {
    "GET /v1/events": (_get("/v1/events", after=0), {"m1", "admin", "big1"}, "events.read"),
    "GET /v1/events?scope=all": (
        _get("/v1/events", after=0, scope="all"),
        {"m1", "admin"},
        "events.read",
    ),
    "GET /v1/events?scope=sales": (
        _get("/v1/events", after=0, scope="sales"),
        {"m1", "admin", "big1"},
        "events.sales",
    ),
    "GET /v1/audit": (_get("/v1/audit", limit=5), {"m1", "admin"}, "audit.view"),
    "GET /v1/staff": (_get("/v1/staff"), {"m1", "admin"}, "staff.view"),
    "GET /v1/stock": (_get("/v1/stock"), {"m1", "admin"}, "stock.view"),
    "GET /v1/replenish/suggestions": (
        _get("/v1/replenish/suggestions"),
        {"m1", "admin"},
        "stock.view",
    ),
    "GET /metrics": (_get("/metrics"), {"m1", "admin"}, "health.view"),
    "GET /v1/alerts": (_get("/v1/alerts"), {"m1", "admin"}, "health.view"),
    "GET /v1/reports/x?scope=store": (
        _get("/v1/reports/x", scope="store"),
        {"m1", "admin"},
        "reports.view",
    ),
    "GET /v1/reports/z?scope=till": (
        _get("/v1/reports/z", scope="till"),
        {"m1", "admin"},
        "reports.view",
    ),
    "GET /v1/reports/cashier (own)": (
        _get("/v1/reports/cashier"),
        {"c1", "a1", "m1", "admin"},
        "reports.own",
    ),
    "GET /v1/orders?q=": (
        lambda a, w: a.get("/v1/orders", q=w["order"]["number"]),
        {"a1", "m1", "admin"},
        "orders.view",
    ),
    "GET /v1/orders/{id}": (
        lambda a, w: a.get(f"/v1/orders/{w['order']['order_id']}"),
        {"a1", "m1", "admin"},
        "orders.view",
    ),
    "GET /v1/members/{key}": (
        _get("/v1/members/M0002"),
        {"c1", "a1", "m1", "admin"},
        "members.view",
    ),
    "GET /v1/products": (
        _get("/v1/products", q="885"),
        {"c1", "a1", "m1", "admin"},
        "products.view",
    ),
    "GET /v1/tills/{own}/basket": (
        _get("/v1/tills/{till}/basket"),
        {"c1", "m1", "admin"},
        "sale.sell",
    ),
    "POST /v1/tills/{own}/commands": (
        lambda a, w: a.cmd("scan", {"code": w["products"][1]["barcodes"][0]}),
        {"c1", "m1", "admin"},
        "sale.sell",
    ),
    "POST /v1/feedback": (
        _post("/v1/feedback", {"kind": "other", "message": "scope test"}),
        {"c1", "a1", "m1", "admin"},
        "feedback.report",
    ),
    "POST /v1/tills/{own}/devices": (
        _post("/v1/tills/{till}/devices", {"printer": "ok"}),
        {"c1", "a1", "m1", "admin"},
        "devices.report",
    ),
    "POST /v1/approvals": (
        _post("/v1/approvals", {"staff": "m1", "pin": "9999", "action": "sale.void"}),
        {"c1", "a1", "m1", "admin"},
        "approvals.request",
    ),
}


@pytest.mark.parametrize("staff", list(TILLS))
def test_each_role_reads_only_its_scope(world, staff):
    api = world["apis"][staff]
    wrong = []
    for name, (call, allowed, action) in TABLE.items():
        r = call(api, world)
        if staff in allowed:
            if r.status_code != 200:
                wrong.append((name, "expected 200", r.status_code, r.text[:200]))
        elif (
            r.status_code != 403
            or error_code(r) != "auth.forbidden"
            or r.json()["error"]["details"].get("action") != action
        ):
            wrong.append(
                (name, f"expected 403 auth.forbidden {action}", r.status_code, r.text[:200])
            )
    api.cmd("void", {"reason": "scope test"})  # the basket the scan above opened, if any
    assert wrong == [], wrong


def test_every_read_names_its_scope_and_every_endpoint_a_permission_or_session():
    for method, path, op in operations():
        if method == "GET":
            assert op.get("x-kassa-read-scope"), path
        public = op.get("security") == []
        assert (
            public
            or op.get("x-kassa-action")
            or path in ("/v1/sessions/current", "/v1/day", "/v1/permissions")
        ), (method, path)
    assert "display" in SPEC["x-kassa-actions"]["events.sales"]["roles"]
    assert "display" not in SPEC["x-kassa-actions"]["products.view"]["roles"]


def test_the_sale_counter_sees_the_member_it_pays_with_and_no_more(world):
    m, full = world["member"], world["full"]
    assert set(m) == {"member", "name", "balance", "as_of_seq"}, m
    assert m["member"] == "M0002" and m["name"] and isinstance(m["balance"], int)
    # after-sales (and managers) see the details: the same member, with phone and card
    assert full["phone"] and full["card"] and "history" in full
    assert full["phone"] not in json.dumps(m) and full["card"] not in json.dumps(m)


def test_the_day_of_other_tills_is_for_managers(world):
    c, m = world["apis"]["c1"], world["apis"]["m1"]
    mine = c.ok(c.get("/v1/day"))
    assert mine["this_till"]["open"] and "tills" not in mine
    assert {"RS1", "RS2", "RS3"} <= set(m.ok(m.get("/v1/day"))["tills"])


def _personal(world) -> list[str]:
    full = world["full"]
    return [
        full["name"],
        full["phone"],
        full["card"],
        "M0002",
        "127.0.0.1",
        "argon2",
        "c1",
        "Cashier One",
        world["order"]["order_id"],
        "pin_hash",
        "session",
    ]


def test_the_display_sees_sales_figures_and_nothing_personal(world):
    d, m = world["apis"]["big1"], world["apis"]["m1"]
    feed = d.ok(d.get("/v1/events", after=0))
    kinds = {e["kind"] for e in feed}
    assert "order.completed" in kinds
    assert kinds <= {"order.completed", "order.refunded", "day.opened", "day.closed"}, kinds
    for e in feed:
        assert set(e) == {"seq", "ts", "kind", "till", "body"}, e
    text = json.dumps(feed, ensure_ascii=False)
    leaks = [p for p in _personal(world) if p in text]
    assert leaks == [], leaks
    sale = [e for e in feed if e["kind"] == "order.completed" and e["till"] == "RS1"][-1]
    assert sale["body"]["total"] == world["order"]["total"]
    # the manager's full feed does carry what the display is spared (so the check above bites)
    full = json.dumps(m.ok(m.get("/v1/events", after=0)), ensure_ascii=False)
    assert "M0002" in full and "127.0.0.1" in full
    # a filtered page that hides everything still moves on
    last = max(e["seq"] for e in feed)
    r = d.get("/v1/events", after=last)
    assert r.status_code == 200 and int(r.headers["X-Kassa-Next-After"]) >= last


def _listen(
    url: str, token: str, after: int, until: str, got: list[dict], scope: str | None = None
) -> None:
    params = {"after": after, "token": token}
    if scope:
        params["scope"] = scope
    with requests.get(url + "/v1/events/stream", params=params, stream=True, timeout=30) as resp:
        for line in resp.iter_lines():
            if line.startswith(b"data: "):
                got.append(json.loads(line[6:]))
                if got[-1]["kind"] == until:
                    return


def test_the_display_stream_carries_sales_only(store, world):
    d, c = world["apis"]["big1"], world["apis"]["c1"]
    after = max(e["seq"] for e in d.ok(d.get("/v1/events", after=0)))
    got: list[dict] = []
    t = threading.Thread(
        target=_listen, args=(store.url, d.token, after, "order.completed", got), daemon=True
    )
    t.start()
    time.sleep(0.5)
    view = c.ok(c.cmd("scan", {"code": world["products"][2]["barcodes"][0]}))["view"]
    c.ok(
        c.cmd(
            "pay",
            {
                "member": "M0002",
                "tenders": [{"kind": "wallet", "amount": view["total"], "member": "M0002"}],
            },
        )
    )
    t.join(30)
    assert got and got[-1]["kind"] == "order.completed", got
    assert {e["kind"] for e in got} <= {
        "order.completed",
        "order.refunded",
        "day.opened",
        "day.closed",
    }, got  # no basket, no member, no sign-in
    assert got[-1]["body"]["total"] == view["total"]
    text = json.dumps(got, ensure_ascii=False)
    assert [p for p in _personal(world) if p in text] == []


@pytest.mark.parametrize("staff", ["c1", "a1"])
def test_the_counters_get_no_event_stream(store, world, staff):
    api = world["apis"][staff]
    r = requests.get(
        store.url + "/v1/events/stream",
        params={"after": 0, "token": api.token},
        stream=True,
        timeout=30,
    )
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
    assert r.json()["error"]["details"]["action"] == "events.read"
    r = requests.get(
        store.url + "/v1/events/stream",
        params={"after": 0, "token": api.token, "scope": "sales"},
        stream=True,
        timeout=30,
    )
    assert r.status_code == 403 and r.json()["error"]["details"]["action"] == "events.sales"


def test_a_display_account_cannot_sell_or_be_given_more_by_a_cashier(world):
    d = world["apis"]["big1"]
    assert set(d.me["permissions"]) == {"events.sales"}
    c = world["apis"]["c1"]
    r = c.post("/v1/permissions", {"id": new_id(), "action": "events.read", "roles": ["cashier"]})
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
    anon = Api(d.url, "BIG1")
    assert anon.get("/v1/events", scope="sales").status_code == 401
