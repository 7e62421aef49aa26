"""``GET /v1/audit`` over real HTTP on loopback, as the manager counter's operation log uses it:
newest first and paged back (``order=newest``, ``before``, ``next_before``), filtered by staff,
till, address, several kind prefixes, a time range and free text over what a row shows; a row
says who, where, from which address, and the plain details (refund number, amount, reason) —
never a session or PIN hash; a cashier is refused (403)."""

from __future__ import annotations

import pytest

from auditkit import REFUND_IP, refund_scene, signed_in
from gwkit import error_code, running_store, write_auth

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("audit") / "store"
    write_auth(data)
    with running_store(data) as proc:
        yield proc


@pytest.fixture(scope="module")
def scene(store):
    return refund_scene(store.url)


@pytest.fixture(scope="module")
def m1(store):
    return signed_in(store.url, "m1", "A3")


def _audit(api, **q):
    return api.ok(api.get("/v1/audit", **q))


def test_newest_first_and_paged_back_without_gaps_or_repeats(store, scene, m1):
    whole = _audit(m1, order="newest", limit=1000)
    seqs = [r["seq"] for r in whole["events"]]
    assert whole["done"] and len(seqs) > 10
    assert seqs == sorted(seqs, reverse=True) and seqs[-1] == 1
    paged: list[int] = []
    before = 0
    while True:
        page = _audit(m1, order="newest", limit=4, before=before)
        paged += [r["seq"] for r in page["events"]]
        assert len(page["events"]) <= 4
        if page["done"] or not page["events"]:
            break
        before = page["next_before"]
    # the pages are the journal read backwards (events after the first page's start excluded)
    assert paged == [s for s in seqs if s <= paged[0]]
    # the old order still works for existing callers
    old = _audit(m1, limit=3)
    assert [r["seq"] for r in old["events"]] == [1, 2, 3] and old["next_after"] == 3


def test_filters_staff_till_address_kinds_time_and_text(store, scene, m1):
    mine = _audit(m1, order="newest", staff="a1", limit=1000)["events"]
    assert mine and all(r["staff"] == "a1" for r in mine)
    refund = next(r for r in mine if r["kind"] == "order.refunded")
    assert refund["till"] == "A2" and refund["ip"] == REFUND_IP
    d = refund["details"]
    assert d["amount"] == scene["total"] and d["currency"] == "THB"
    assert d["reason"] == "damaged box" and d["number"].startswith("R-")
    assert d["order_id"] == scene["order"]["order_id"]
    assert d["order_number"] == scene["order"]["number"]  # the receipt's number, not the id
    signed = next(r for r in mine if r["kind"] == "auth.signed_in")
    assert "session" not in signed["details"] and "pin_hash" not in str(mine)
    # by address: only what came from 127.0.0.2 (a1's sign-in and refund)
    by_ip = _audit(m1, order="newest", ip=REFUND_IP, limit=1000)["events"]
    assert {r["staff"] for r in by_ip} == {"a1"} and refund["seq"] in [r["seq"] for r in by_ip]
    # by till, and several kind prefixes at once
    a1_till = _audit(m1, order="newest", till="A1", kind="order.,basket.", limit=1000)["events"]
    kinds = {r["kind"] for r in a1_till}
    assert kinds == {"order.completed", "basket.line_added"}, kinds
    assert all(r["till"] == "A1" for r in a1_till)
    # time range [since, until): from the refund on / up to it
    ts = refund["ts"]
    after = _audit(m1, order="newest", since=ts, limit=1000)["events"]
    assert (
        after and all(r["ts"] >= ts for r in after) and refund["seq"] in [r["seq"] for r in after]
    )
    upto = _audit(m1, order="newest", until=ts, limit=1000)["events"]
    assert upto and all(r["ts"] < ts for r in upto)
    assert refund["seq"] not in [r["seq"] for r in upto]
    # free text over what a row shows: the refund number, the reason (any case)
    for text in (d["number"], "DAMAGED"):
        hits = _audit(m1, order="newest", q=text, limit=1000)["events"]
        assert [r["seq"] for r in hits] == [refund["seq"]], (text, hits)
    assert _audit(m1, order="newest", q="no such words", limit=1000)["events"] == []


def test_a_cashier_may_not_read_the_log(store, scene):
    c1 = signed_in(store.url, "c1", "A1")
    r = c1.get("/v1/audit", order="newest")
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
    bad = signed_in(store.url, "m1", "A3").get("/v1/audit", order="sideways")
    assert bad.status_code == 400
