"""The journal is checked at every start: SQLite's own check finds what the hash chain cannot (a
damaged index), a server started on a broken chain says so in its health, and nothing from the
break on reaches HQ."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests

from actors.journal import Journal, Pending
from actors.ledger import Ledger, Request
from actors.process import StoreProcess
from domain.events import StockReceived
from storekit import kassa, wait_for

# ---------------------------------------------------------------- a flipped byte in an index


def _flip_a_key_byte_in_an_index(path: Path) -> None:
    """Flip one bit of one key in the middle of the ``events_agg`` index, behind SQLite's back."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = con.execute("PRAGMA page_size").fetchone()[0]
    finally:
        con.close()
    raw = bytearray(path.read_bytes())
    # a b-tree page's first byte is its type: 0x0a is an index leaf; events_agg's keys are SKUs
    pages = [
        n
        for n in range(2, len(raw) // size + 1)
        if raw[(n - 1) * size] == 0x0A and b"SKU" in raw[(n - 1) * size : n * size]
    ]
    assert pages
    off = (pages[len(pages) // 2] - 1) * size
    at = raw.index(b"SKU", off + size // 2 - 200)
    raw[at + 5] ^= 0x01
    path.write_bytes(bytes(raw))


def test_a_flipped_index_byte_is_found_by_journal_verify(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.append(
        [
            Pending(
                str(uuid.uuid4()),
                b"c" * 32,
                1_000 + i,
                "stock.received",
                1,
                "m1",
                "T1",
                "127.0.0.1",
                f"SKU{i:05d}",
                b'{"sku":"SKU%05d","qty":1}' % i,
            )
            for i in range(3000)
        ]
    )
    j.close()
    out = kassa("journal", "verify", "--data", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    _flip_a_key_byte_in_an_index(path)
    out = kassa("journal", "verify", "--data", str(tmp_path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "SQLITE DAMAGED" in out.stdout and "index" in out.stdout, out.stdout
    assert "chain intact" in out.stdout  # the chain alone would have said all is well


# ---------------------------------------------------------------- a server on a broken tail


def _health(url: str) -> dict:
    return requests.get(url + "/v1/health", timeout=60).json()


def _cloud_held(hq: Path) -> int:
    con = sqlite3.connect(f"file:{hq / 'stores' / 'S001' / 'events.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A demo store that uploaded everything, stopped; 40 more events journaled while it was
    down; then event ``acked + 10`` edited behind SQLite's back; then started again."""
    root = tmp_path_factory.mktemp("jr")
    data, hq = root / "shop", root / "shop-hq"
    srv = StoreProcess(data, products=300).start(timeout=300)
    try:
        up = wait_for(
            lambda: (
                (u := _health(srv.url)["upload"]).get("backlog_events") == 0
                and u.get("acked")
                and u
            ),
            what="the first upload",
        )
    finally:
        srv.stop()
    acked = json.loads((data / "uploader.json").read_text())["acked"]
    assert acked >= up["acked"]
    ledger = Ledger(data / "journal.sqlite")
    acks = [
        ledger.submit(
            Request(str(uuid.uuid4()), b"offline", StockReceived("SKU-X", 1, f"r{i}"), staff="m1")
        )
        for i in range(40)
    ]
    ledger.journal.close()
    bad = acks[9].seq
    assert bad > acked
    con = sqlite3.connect(data / "journal.sqlite")
    con.execute("DROP TRIGGER events_no_update")
    con.execute(
        "UPDATE events SET body = ? WHERE seq = ?",
        (b'{"sku":"SKU-X","qty":1000,"reference":"r9"}', bad),
    )
    con.commit()
    con.close()
    srv = StoreProcess(data, port=srv.port).start(timeout=300)
    try:
        yield {"srv": srv, "data": data, "hq": hq, "bad": bad, "acked": acked}
    finally:
        srv.stop()


def test_health_shows_the_broken_chain(broken):
    url, bad = broken["srv"].url, broken["bad"]
    j = wait_for(lambda: _health(url).get("journal"), what="the journal check")
    assert j["ok"] is False and j["first_broken"] == bad and "hash" in j["reason"], j
    full = wait_for(
        lambda: (j := _health(url)["journal"])["full_check"] == "done" and j, what="the full check"
    )
    assert full["first_broken"] == bad
    out = kassa("store", "status", "--data", str(broken["data"]))
    assert f"BROKEN: seq {bad}" in out.stdout, out.stdout + out.stderr


def test_nothing_past_the_break_is_uploaded(broken):
    url, bad = broken["srv"].url, broken["bad"]
    up = wait_for(
        lambda: (u := _health(url)["upload"]).get("halted_at") == bad and u,
        what="the uploader to stop at the break",
    )
    assert up["acked"] == bad - 1 and "journal.broken" in (up["last_error"] or "")
    assert _cloud_held(broken["hq"]) == bad - 1
    # the store goes on journaling (sign-ins, checks); none of it goes up
    requests.post(
        url + "/v1/sessions",
        json={"id": str(uuid.uuid4()), "staff": "m1", "pin": "9999", "till": "T1"},
        timeout=60,
    )
    time.sleep(6)
    assert _health(url)["seq"] > bad and _cloud_held(broken["hq"]) == bad - 1
    assert json.loads((broken["data"] / "uploader.json").read_text())["acked"] == bad - 1
