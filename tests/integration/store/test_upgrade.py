"""Upgrade without closing (issue 16).

* The previous release's data folder (``tests/integration/fixtures/store-format-1``, written
  by that release's code: ``make_store_format_1.py``) starts under this code: it is backed up,
  migrated to this format, and every order, refund and wallet reads as it did.
* Tills selling through ``kassa store upgrade`` (a new server process takes the store over from the
  running one) see no refused sale, every acknowledged sale is in the journal exactly once, and
  the longest a scan waited during the switch is measured.
* A folder written by a newer kassa is refused with ``store.format_too_new`` and the version that
  wrote it; the running server keeps serving when the new one refuses."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from actors.migrate import FORMAT
from actors.process import StoreProcess
from gwkit import sign_in
from sellkit import SellingTill, longest_wait_during, server_pid, stop_server, upgrade

pytestmark = pytest.mark.ray
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-format-1"


def _rows(data: Path, kind: str) -> list[tuple[str, dict]]:
    con = sqlite3.connect(f"file:{data / 'journal.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT agg, body FROM events WHERE kind = ? ORDER BY seq", (kind,))
        return [(agg, msgspec.json.decode(body)) for agg, body in rows]
    finally:
        con.close()


def _verify(data: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "journal", "verify", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_previous_release_folder_is_backed_up_migrated_and_reads_the_same(tmp_path):
    assert not (FIXTURE / "format.json").exists()  # as the previous release left it
    data = tmp_path / "store"
    shutil.copytree(FIXTURE, data)
    before = (data / "journal.sqlite").read_bytes()
    orders = _rows(data, "order.completed")
    refunds = _rows(data, "order.refunded")
    st = StoreProcess(data, demo=False).start()
    try:
        doc = json.loads((data / "format.json").read_text())
        assert doc["format"] == FORMAT and doc["steps"], doc
        backups = list((tmp_path / "kassa-backups").iterdir())
        assert len(backups) == 1 and doc["steps"][0]["backup"] == str(backups[0])
        m = sign_in(st.url, "m1", "T1")
        refunded: Counter[str] = Counter()
        for _, r in refunds:
            refunded[r["order_id"]] += r["amount"]
        assert len(orders) == 17 and len(refunds) == 2
        for order_id, body in orders:
            got = m.ok(m.get(f"/v1/orders/{order_id}"))
            assert got["order"]["total"] == body["total"]
            assert got["order"]["number"] == body["number"]
            assert got["refunded_total"] == refunded[order_id], got
        wallet: Counter[str] = Counter()
        for _, t in _rows(data, "wallet.topped_up"):
            wallet[t["member"]] += t["amount"]
        for _, o in orders:
            for p in o["payments"]:
                if p["kind"] == "wallet":
                    wallet[p["member"]] -= p["amount"]
        for _, r in refunds:
            for p in r["tenders"]:
                if p["kind"] == "wallet":
                    wallet[p["member"]] += p["amount"]
        for member, balance in wallet.items():
            assert m.ok(m.get(f"/v1/members/{member}"))["balance"] == balance
    finally:
        st.stop()
    _verify(data)
    after = (data / "journal.sqlite").read_bytes()
    assert len(after) >= len(before)


def test_tills_selling_through_store_upgrade_see_no_refused_sale(tmp_path):
    data = tmp_path / "store"
    st = StoreProcess(data, products=300).start()
    new_pid = 0
    tills: list[SellingTill] = []
    try:
        m = sign_in(st.url, "m1", "T1")
        for t in ("T2", "T3"):
            m.ok(m.post("/v1/day/open", {"id": f"open-day-{t}-0001", "till": t, "float": 0}))
        codes = [
            p["barcodes"][0]
            for p in m.ok(m.get("/v1/products", q="885", limit=40))
            if p["unit"] == "each" and p["barcodes"] and p["sellable"]
        ]
        for till, staff in (("T1", "c1"), ("T2", "c2"), ("T3", "c3")):
            tills.append(SellingTill(st.url, till, sign_in(st.url, staff, till).token, codes))
        for t in tills:
            t.start()
        while sum(len(t.acked) for t in tills) < 6:
            time.sleep(0.05)
        old_pid = st.proc.pid
        t0 = time.monotonic()
        r = upgrade(data)
        t1 = time.monotonic()
        assert r.returncode == 0, r.stdout + r.stderr
        new_pid = server_pid(data)
        assert new_pid != old_pid
        assert st.proc.wait(60) == 0  # the old server handed over and stopped cleanly
        sold = sum(len(t.acked) for t in tills)
        while sum(len(t.acked) for t in tills) < sold + 6:  # and the tills sell on the new one
            time.sleep(0.05)
        for t in tills:
            t.stop_ev.set()
        for t in tills:
            t.join(180)
        assert [t.refused for t in tills] == [[], [], []]
        wait = longest_wait_during(tills, t0, t1)
        print(
            f"longest scan wait during the switch: {wait:.3f} s; resends:",
            [t.resends for t in tills],
        )
        assert wait < 15  # the goal is 2 s; a loaded 2-core CI machine gets slack
        completed = Counter(agg for agg, _ in _rows(data, "order.completed"))
        for t in tills:
            for order_id in t.acked:
                assert completed[order_id] == 1, order_id
    finally:
        for t in tills:
            t.stop_ev.set()
        if new_pid:
            stop_server(new_pid)
        st.stop()
    _verify(data)


def test_a_downgrade_is_refused_and_the_running_server_keeps_serving(tmp_path):
    data = tmp_path / "store"
    shutil.copytree(FIXTURE, data)
    (data / "format.json").write_text(json.dumps({"format": FORMAT + 1, "written_by": "9.2.0"}))
    r = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "store", "serve", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert "store.format_too_new" in r.stderr and "written by kassa 9.2.0" in r.stderr
    # a running store: the new process refuses before asking it to hand over
    (data / "format.json").unlink()
    st = StoreProcess(data, demo=False).start()
    try:
        (data / "format.json").write_text(json.dumps({"format": FORMAT + 1, "written_by": "9.2.0"}))
        r = upgrade(data)
        assert r.returncode == 2 and "store.format_too_new" in r.stderr, r.stderr
        assert server_pid(data) == st.proc.pid and st.proc.poll() is None
        m = sign_in(st.url, "m1", "T1")
        assert m.ok(m.get("/v1/health"))["store"]
    finally:
        st.stop()
