"""The journal: append-only, hash-chained; any edit of the past is found by verify."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from actors.journal import Journal, verify_journal
from actors.ledger import Ledger
from domain.events import GENESIS, MemberRegistered, WalletToppedUp, chain_hash
from tests.unit.conftest import Shop, cid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store_dir(tmp_path, clock):
    """A data folder whose journal holds a few events, closed again."""
    led = Ledger(tmp_path / "journal.sqlite", clock=clock)
    shop = Shop(led, None)  # type: ignore[arg-type]
    shop.member("M1")
    for n in range(5):
        clock.advance(1)
        shop.submit(WalletToppedUp("M1", 100 * (n + 1), "cash"))
    led.journal.close()
    return tmp_path


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_intact_journal_verifies(store_dir):
    res = verify_journal(store_dir / "journal.sqlite")
    assert res.ok and res.count == 6 and res.last_seq == 6 and res.first_broken is None


def test_empty_journal_verifies(tmp_path):
    Journal(tmp_path / "j.sqlite").close()
    res = verify_journal(tmp_path / "j.sqlite")
    assert res.ok and res.count == 0


def test_hashes_chain_from_genesis(store_dir):
    j = Journal(store_dir / "journal.sqlite")
    try:
        prev = GENESIS
        for e in j.scan():
            assert e.hash == chain_hash(
                prev, e.seq, e.id, e.ts, e.kind, e.v, e.staff, e.till, e.ip, e.agg, e.body
            )
            prev = e.hash
        assert j.hash == prev
    finally:
        j.close()


def test_sqlite_refuses_update_and_delete(store_dir):
    con = sqlite3.connect(store_dir / "journal.sqlite")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE events SET body = body WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM events WHERE seq = 2")
    finally:
        con.close()


def _tamper(path: Path, sql: str, *params) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("DROP TRIGGER events_no_update")
        con.execute("DROP TRIGGER events_no_delete")
        con.execute(sql, params)
        con.commit()
    finally:
        con.close()


def test_edited_body_is_found_at_its_seq(store_dir):
    path = store_dir / "journal.sqlite"
    con = sqlite3.connect(path)
    body = con.execute("SELECT body FROM events WHERE seq = 3").fetchone()[0]
    con.close()
    forged = bytes(body).replace(b'"amount":200', b'"amount":20000')
    assert forged != bytes(body)
    _tamper(path, "UPDATE events SET body = ? WHERE seq = 3", forged)
    res = verify_journal(path)
    assert not res.ok
    assert res.first_broken == 3 and res.count == 2

    out = run_cli("journal", "verify", "--data", str(store_dir))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "3" in out.stdout and "BROKEN" in out.stdout


@pytest.mark.parametrize(
    "sql, broken",
    [
        ("UPDATE events SET staff = 'mallory' WHERE seq = 4", 4),
        ("UPDATE events SET ts = ts + 1 WHERE seq = 2", 2),
        ("DELETE FROM events WHERE seq = 5", 5),
        ("UPDATE events SET hash = zeroblob(32) WHERE seq = 6", 6),
    ],
)
def test_other_edits_are_found(store_dir, sql, broken):
    _tamper(store_dir / "journal.sqlite", sql)
    assert verify_journal(store_dir / "journal.sqlite").first_broken == broken


def test_cli_verify_passes_on_an_intact_journal(store_dir):
    out = run_cli("journal", "verify", "--data", str(store_dir))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "events: 6" in out.stdout


def test_uv_run_kassa_journal_verify_exits_1_on_a_break(store_dir):
    _tamper(store_dir / "journal.sqlite", "UPDATE events SET till = 'T9' WHERE seq = 2")
    out = subprocess.run(
        ["uv", "run", "--no-sync", "kassa", "journal", "verify", "--data", str(store_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "seq 2" in out.stdout


def test_append_is_atomic_and_survives_reopen(tmp_path, clock):
    led = Ledger(tmp_path / "j.sqlite", clock=clock)
    shop = Shop(led, None)  # type: ignore[arg-type]
    shop.member("M1")
    led.journal.close()
    j = Journal(tmp_path / "j.sqlite")
    assert j.seq == 1 and [e.kind for e in j.read()] == ["member.registered"]
    assert j.find([j.read()[0].id, "nope"]).keys() == {j.read()[0].id}
    j.close()


def test_events_carry_who_where_and_utc_time(tmp_path, clock):
    from actors.ledger import Request

    led = Ledger(tmp_path / "j.sqlite", clock=clock)
    led.submit(
        Request(cid(), b"m", MemberRegistered("M1", "Bob"), staff="alice", till="T2", ip="10.0.0.9")
    )
    e = led.read()[0]
    assert (e.staff, e.till, e.ip, e.agg, e.v) == ("alice", "T2", "10.0.0.9", "M1", 1)
    assert e.ts == clock.now_us()
    assert e.to_wire()["body"]["name"] == "Bob"
    led.journal.close()


def _anchor(store_dir: Path, seq: int) -> None:
    """What the uploader keeps once HQ acknowledged up to ``seq``: that event's hash."""
    from actors.uploader import FileState

    con = sqlite3.connect(store_dir / "journal.sqlite")
    h = con.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    con.close()
    FileState(store_dir / "uploader.json").save(
        {"store": "S001", "acked": seq, "anchor": {"seq": seq, "hash": bytes(h).hex()}}
    )


def test_a_journal_cut_short_is_found_against_what_hq_acknowledged(store_dir):
    _anchor(store_dir, 5)
    out = run_cli("journal", "verify", "--data", str(store_dir))
    assert out.returncode == 0 and "HQ's acknowledged seq 5 matches" in out.stdout, out.stdout
    # the last two events removed: the chain that is left is intact, but HQ holds seq 5
    _tamper(store_dir / "journal.sqlite", "DELETE FROM events WHERE seq >= 5")
    from actors.uploader import anchor_of

    res = verify_journal(store_dir / "journal.sqlite")
    assert res.ok  # the chain alone cannot tell
    res = verify_journal(store_dir / "journal.sqlite", anchor_of(store_dir))
    assert not res.ok and res.first_broken == 5 and "truncated" in res.reason
    out = run_cli("journal", "verify", "--data", str(store_dir))
    assert out.returncode == 1 and "BROKEN at seq 5" in out.stdout, out.stdout


def test_a_rewritten_tail_is_found_against_what_hq_acknowledged(store_dir):
    """Cut the end off and append other events with a correct chain: still found."""
    _anchor(store_dir, 6)
    _tamper(store_dir / "journal.sqlite", "DELETE FROM events WHERE seq = 6")
    led = Ledger(store_dir / "journal.sqlite")
    Shop(led, None).submit(WalletToppedUp("M1", 1, "cash"))  # type: ignore[arg-type]
    led.journal.close()
    assert verify_journal(store_dir / "journal.sqlite").ok
    from actors.uploader import anchor_of

    res = verify_journal(store_dir / "journal.sqlite", anchor_of(store_dir))
    assert res.first_broken == 6 and "acknowledged" in res.reason
