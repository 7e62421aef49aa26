"""The flags inbox over real HTTP on a running store, and ``kassa analytics flags`` while it runs:
a sale outside the store's opening hours is flagged; a manager reads, acknowledges and dismisses
flags (journaled); the after-sales role may neither read the inbox nor unfreeze an order."""

from __future__ import annotations

from csv import DictReader

import pytest

from flagkit import closed_now, flagging_store
from tests.kits.gwkit import body_of, error_code, journal_rows, new_id, sign_in
from tests.kits.storekit import kassa, wait_for


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("flags") / "store"
    with flagging_store(data, auth={"ip_free_failures": 1000}) as proc:
        yield proc


@pytest.fixture(scope="module")
def order(store):
    mgr = sign_in(store.url, "m1", "T1")
    r = mgr.post("/v1/day/open", {"id": new_id(), "till": "T1", "float": 50_000})
    assert r.status_code == 200 or error_code(r) == "day.already_open", r.text
    rows = mgr.ok(mgr.get("/v1/products", q="885", limit=50))
    code = next(p["barcodes"][0] for p in rows if p["unit"] == "each" and p["barcodes"])
    mgr.post("/v1/sessions/current", None)
    c1 = sign_in(store.url, "c1", "T1")
    view = c1.ok(c1.cmd("scan", {"code": code}))["view"]
    paid = c1.ok(c1.cmd("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 10_000}]}))
    return paid["order"]["order_id"]


def test_cli_scores_while_the_store_runs_with_its_own_hours(store, order, tmp_path):
    out = kassa("analytics", "flags", "--data", str(store.data))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "outside_hours" in out.stdout and "snapshot" in out.stderr
    csv = tmp_path / "flags.csv"
    out = kassa("analytics", "flags", "--data", str(store.data), "--out", str(csv))
    assert out.returncode == 0, out.stderr[-2000:]
    rows = list(DictReader(csv.open(encoding="utf-8")))
    (mine,) = [r for r in rows if r["order_id"] == order and r["rule"] == "outside_hours"]
    o, c = closed_now()  # the store's own hours, not the defaults
    assert f"{o // 60:02d}:{o % 60:02d}-{c // 60:02d}:{c % 60:02d}" in mine["evidence"]


def test_manager_reads_acknowledges_and_dismisses_flags(store, order):
    mgr = sign_in(store.url, "m1", "T2")

    def flagged():
        rows = mgr.ok(mgr.get("/v1/flags"))["flags"]
        return [f for f in rows if f["order_id"] == order and f["rule"] == "outside_hours"]

    (flag,) = wait_for(flagged, 120, "the outside-hours flag")
    assert flag["state"] == "open" and flag["staff"] == "c1" and flag["till"] == "T1"
    assert flag["evidence"]["what"] == "sale" and flag["evidence"]["amount"] > 0
    fid = flag["flag_id"]
    r = mgr.post(f"/v1/flags/{fid}/dismiss", {"id": new_id(), "note": ""})
    assert error_code(r) == "flag.note_required"
    mgr.ok(mgr.post(f"/v1/flags/{fid}/acknowledge", {"id": new_id()}))
    (after,) = wait_for(lambda: [f for f in flagged() if f["state"] == "acknowledged"], 60)
    assert after["by"] == "m1"
    mgr.ok(mgr.post(f"/v1/flags/{fid}/dismiss", {"id": new_id(), "note": "stock-take night"}))
    (after,) = wait_for(lambda: [f for f in flagged() if f["state"] == "dismissed"], 60)
    assert after["note"] == "stock-take night"
    kinds = [row[1] for row in journal_rows(store.data)]
    assert "flag.acknowledged" in kinds and "flag.dismissed" in kinds
    dismissed = [body_of(r) for r in journal_rows(store.data) if r[1] == "flag.dismissed"]
    assert dismissed[-1]["flag_id"] == fid
    still_open = mgr.ok(mgr.get("/v1/flags", state="open", rule="outside_hours"))["flags"]
    assert fid not in {f["flag_id"] for f in still_open}
    assert all(f["state"] == "open" and f["rule"] == "outside_hours" for f in still_open)


def test_after_sales_may_not_read_flags_nor_unfreeze(store, order):
    a1 = sign_in(store.url, "a1", "T3")
    mgr = sign_in(store.url, "m1", "T4")
    assert a1.get("/v1/flags").status_code == 403
    r = a1.post(f"/v1/orders/{order}/freeze", {"id": new_id(), "reason": "looks odd"})
    assert r.status_code == 200, r.text
    r = a1.post(f"/v1/orders/{order}/unfreeze", {"id": new_id()})
    assert r.status_code == 403 and error_code(r) == "auth.forbidden"
    r = a1.post(f"/v1/orders/{order}/refund", {"id": new_id()})
    assert error_code(r) == "order.frozen"
    mgr.ok(mgr.post(f"/v1/orders/{order}/unfreeze", {"id": new_id(), "reason": "checked"}))
    assert mgr.ok(mgr.get(f"/v1/orders/{order}"))["frozen"] is False
