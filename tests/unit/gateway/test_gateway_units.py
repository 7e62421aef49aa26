"""Without Ray: the OpenAPI description matches the app's routes; staff and day rules of the book;
argon2id parameters; the gateway's session checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import Type, extract_parameters

from actors.gateway import TILL_OPS, make_gateway
from actors.openapi import SPEC, operations
from actors.staff import Directory, hash_pin, make_token, token_hash, verify_pin
from domain.book import Book, BookRules
from domain.day import DayClosed, DayOpened, ZReportRecorded, business_day_of
from domain.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from domain.events import LineAdded, WalletToppedUp, decode_body, encode_body
from domain.staff import (
    ACTIONS,
    SEALED_PREFIX,
    Permissions,
    PermissionsChanged,
    SignedIn,
    SignedOut,
    SignInFailed,
    StaffCreated,
    StaffLocked,
    StaffUnlocked,
)
from domain.store import StoreConfig


@dataclass
class FakeHandles:
    data_dir: Path
    config: StoreConfig


def test_openapi_describes_exactly_the_routes_of_the_app(tmp_path):
    app = make_gateway(FakeHandles(tmp_path, StoreConfig()))
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    described = {(m, p) for m, p, _ in operations()}
    assert routes == described
    for m, p, op in operations():
        action = op.get("x-kassa-action")
        assert action is None or action in ACTIONS, (m, p)
    assert set(TILL_OPS.values()) <= set(ACTIONS)
    assert SPEC["paths"]["/v1/tills/{till}/commands"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]["op"]["enum"] == sorted(TILL_OPS, key=list(TILL_OPS).index)


def test_pins_are_argon2id_with_at_least_owasp_parameters():
    h = hash_pin("1234")
    p = extract_parameters(h)
    assert p.type is Type.ID and p.memory_cost >= 19 * 1024 and p.time_cost >= 2
    assert verify_pin(h, "1234") and not verify_pin(h, "1235") and not verify_pin("junk", "1234")
    with pytest.raises(InvalidInput):
        hash_pin("12")


def test_session_tokens_repeat_for_a_retried_sign_in_only():
    s = b"k" * 32
    assert make_token(s, "id-1", "c1", "T1") == make_token(s, "id-1", "c1", "T1")
    assert make_token(s, "id-1", "c1", "T1") != make_token(s, "id-2", "c1", "T1")
    assert len(token_hash("x")) == 64


H = SEALED_PREFIX + "c2VhbGVk"  # new PIN hashes are journaled sealed (actors.staff)
PLAIN = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"  # journals from before sealing


def staffed_book() -> Book:
    b = Book()
    for staff, role in (("c1", "cashier"), ("m1", "manager")):
        b.apply(b.check(StaffCreated(staff, staff, role, "en", H), ""), "", "", 1, 1)
    return b


def test_book_staff_rules_and_sessions():
    b = staffed_book()
    with pytest.raises(Conflict):
        b.check(StaffCreated("c1", "x", "cashier", "en", H), "")
    with pytest.raises(InvalidInput):
        b.check(StaffCreated("c9", "x", "boss", "en", H), "")
    with pytest.raises(InvalidInput):
        b.check(StaffCreated("c9", "x", "cashier", "en", "plain-pin"), "")
    with pytest.raises(InvalidInput):  # a plain hash would reach HQ with the journal
        b.check(StaffCreated("c9", "x", "cashier", "en", PLAIN), "")
    b.apply(StaffCreated("old", "x", "cashier", "en", PLAIN), "", "", 2, 2)  # old journals load
    assert b.staff.account("old").pin_hash == PLAIN
    ev = b.check(SignedIn("c1", "T1", "s1"), "T1")
    assert ev.role == "cashier"
    b.apply(ev, "c1", "T1", 10, 2)
    b.apply(b.check(SignedIn("m1", "T1", "s2"), "T1"), "m1", "T1", 11, 3)
    assert set(b.staff.sessions) == {"s2"}  # one person per till
    b.apply(LineAdded("b", "L1", "S1", {"en": "x"}, "each", 1, 100, "std", 700), "m1", "T1", 50, 4)
    assert b.staff.sessions["s2"].last_ts == 50
    fail = b.check(SignInFailed("c1", "T2", "bad_pin"), "T2")
    assert fail.failures == 1
    b.apply(fail, "c1", "T2", 60, 5)
    b.apply(b.check(StaffLocked("m1", "left"), ""), "", "", 70, 6)
    assert b.staff.sessions == {}
    with pytest.raises(Forbidden):
        b.check(SignedIn("m1", "T1", "s3"), "T1")
    b.apply(b.check(StaffUnlocked("m1"), ""), "", "", 80, 7)
    with pytest.raises(Conflict):
        b.check(StaffUnlocked("m1"), "")
    with pytest.raises(Conflict):
        b.check(SignedOut("m1", "T1", "nope"), "T1")
    b.apply(b.check(PermissionsChanged("stock.view", ("cashier",)), ""), "", "", 90, 8)
    assert b.staff.permissions.allows("cashier", "stock.view")
    assert b.staff.permissions.allows("admin", "stock.view")
    assert not b.staff.permissions.allows("manager", "stock.view")


def test_book_refuses_selling_while_the_day_is_closed_when_required():
    b = Book(BookRules(require_open_day=True))
    line = LineAdded("b1", "L1", "S1", {"en": "x"}, "each", 1, 100, "std", 700)
    with pytest.raises(Conflict) as e:
        b.check(line, "T1")
    assert e.value.code == "day.closed"
    with pytest.raises(Conflict):
        b.check(WalletToppedUp("M1", 100, "cash"), "T1")
    opened = b.check(DayOpened("T1", "2026-01-02", 5000), "")
    b.apply(opened, "m1", "", 1, 1)
    with pytest.raises(Conflict):
        b.check(DayOpened("T1", "2026-01-02", 5000), "")
    b.check(line, "T1")
    b.apply(line, "c1", "T1", 2, 2)
    with pytest.raises(Conflict) as e:
        b.check(DayClosed("T1", 5000), "")
    assert e.value.code == "day.baskets_open"
    b.open_baskets.clear()
    closed = b.check(DayClosed("T1", 4900), "")
    assert closed.business_day == "2026-01-02" and closed.opening_float == 5000
    with pytest.raises(Conflict):
        b.check(ZReportRecorded("till", "T1", "2026-01-02", {}), "")  # not closed yet
    b.apply(closed, "m1", "", 3, 3)
    with pytest.raises(Conflict):
        b.check(line, "T1")
    z = b.check(ZReportRecorded("till", "T1", "2026-01-02", {"totals": {}}), "")
    b.apply(z, "m1", "", 4, 4)
    with pytest.raises(Conflict):
        b.check(ZReportRecorded("till", "T1", "2026-01-02", {}), "")
    with pytest.raises(InvalidInput):
        b.check(DayOpened("T1", "02/01/2026", 5000), "")
    with pytest.raises(InvalidInput):
        b.check(DayOpened("T1", "2026-01-03", -1), "")


def test_day_events_decode_as_analytics_reads_them():
    raw = encode_body(DayOpened("T1", "2026-01-02", 5000))
    assert decode_body("day.opened", raw) == DayOpened("T1", "2026-01-02", 5000)
    import orjson

    assert orjson.loads(raw)["float"] == 5000
    assert business_day_of(1_767_225_600_000_000, "Asia/Bangkok") == "2026-01-01"


def test_directory_idle_and_lock_rules():
    now = [1000.0]
    d = Directory(idle_timeout_s=60, lock_s=300, max_failures=3, clock=lambda: now[0])
    d.load(
        {
            "accounts": {
                "c1": {
                    "staff": "c1",
                    "role": "cashier",
                    "pin_hash": H,
                    "failures": 3,
                    "last_failure_ts": int(990 * 1e6),
                },
                "c2": {"staff": "c2", "role": "cashier", "pin_hash": H},
            },
            "permissions": {},
            "days": {},
            "sessions": {
                token_hash("tok"): {"staff": "c2", "till": "T1", "ts": 0, "last_ts": 0},
                token_hash("tok1"): {"staff": "c1", "till": "T2", "ts": 0, "last_ts": 0},
            },
        }
    )
    with pytest.raises(Unauthorized):
        d.session("tok1")  # an account locked by failures has no session
    s = d.session("tok")
    assert not d.idle(s)  # a fresh window after a (re)start
    now[0] += 61
    assert d.idle(s)
    with pytest.raises(Unauthorized):
        d.session("other")
    with pytest.raises(Unauthorized):
        d.session("")
    with pytest.raises(Forbidden):
        d.may_try("c1")  # 3 failures, the last 71 s ago: locked for 300 s
    now[0] += 300
    assert d.may_try("c1")["staff"] == "c1"
    t = d.grant_approval("m1", "orders.refund", "T1")
    with pytest.raises(Forbidden):
        d.use_approval(t, "orders.freeze", "T1")
    assert d.use_approval(t, "orders.refund", "T1") == "m1"
    with pytest.raises(Forbidden):
        d.use_approval(t, "orders.refund", "T1")


def test_permissions_defaults_and_admin_always():
    p = Permissions({"day.open": ("cashier",)})
    assert p.allows("cashier", "day.open") and not p.allows("manager", "day.open")
    assert p.allows("admin", "day.open")
    assert p.roles("sale.sell") == ("admin", "cashier", "manager")
