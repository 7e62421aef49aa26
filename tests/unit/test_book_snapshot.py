"""Snapshots of the ledger's book: for random journals of a busy shop (``bench.journal_gen``), a
snapshot at any position plus the replay of the tail gives the book the full replay gives, with
the orders older than the snapshot's horizon left out of memory and read back from the journal by
aggregate (refunds of them checked exactly); a snapshot that was altered, made with another key,
or whose seq/hash is not the journal's is refused and the ledger replays from genesis."""

from __future__ import annotations

import logging
import random
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.journal import read_report
from actors.ledger import Ledger, Request, agg_of
from actors.projections import StockView, WalletView
from actors.snapshots import (
    list_snapshots,
    restore_image,
    save_image,
    snapshot_dir,
    write_snapshot,
)
from bench.journal_gen import ShopStream
from domain.book import Book
from domain.book_records import decide_refund
from domain.book_snapshot import (
    BOOK_STATE,
    FORMAT,
    SnapHeader,
    SnapshotRefused,
    decode_book,
    encode_book,
    open_snapshot,
    seal_snapshot,
)
from domain.commands import RefundOrder
from domain.errors import KassaError
from domain.events import BasketVoided, OrderCompleted
from tests.unit.conftest import cid

Event = tuple[Any, str, str, int, int]  # body, staff, till, ts, seq


def shop_events(seed: int, n: int) -> list[Event]:
    stream = ShopStream(
        random.Random(seed), tills=2, members=6, skus=10, sales_per_day=12, keep_orders=60
    ).stream()
    out = []
    for seq, (body, staff, till, ts) in enumerate(stream, 1):
        out.append((body, staff, till, ts, seq))
        if seq == n:
            return out
    return out


class ListArchive:
    """The journal as a list: what ``actors.snapshots.JournalArchive`` reads from SQLite."""

    def __init__(self, events: list[Event]) -> None:
        self.events, self.numbers, self.loads = events, {}, 0

    def order_events(self, order_id: str, upto: int) -> list[Event]:
        self.loads += 1
        return [e for e in self.events if e[4] <= upto and agg_of(e[0]) == order_id]

    def closed(self, basket: str, upto: int) -> bool:
        done = (OrderCompleted, BasketVoided)
        return any(e[4] <= upto and isinstance(e[0], done) and agg_of(e[0]) == basket
                   for e in self.events)  # fmt: skip

    def number(self, key: str) -> str | None:
        return self.numbers.get(key)


def replay(book: Book, events: list[Event]) -> Book:
    """Each event checked against the book (as the ledger does), then applied."""
    for body, staff, till, ts, seq in events:
        assert book.check(body, till) == body
        book.apply(body, staff, till, ts, seq)
    return book


def state(book: Book, ref: Book) -> dict[str, Any]:
    """Everything the book answers, asked for every order, number and basket ``ref`` knows."""
    return {
        "seq": book.seq,
        "wallets": book.wallets,
        "members": book.members,
        "open": book.open_baskets,
        "counts": (book.numbers.orders, book.numbers.refunds),
        "staff": book.staff.state(),
        "days": (book.days.state(), book.days.z_recorded),
        "stock": book.stock.levels,
        "orders": {oid: book.order(oid).to_dict() for oid in list(dict.keys(ref.orders))},
        "numbers": {k: book.numbers.find(k) for k in list(dict.keys(ref.numbers.index))},
        "closed": {b: book._closed(b) for b in ref.closed_baskets},
    }


def refund_all(book: Book, oid: str) -> Any:
    try:
        return decide_refund(book.order(oid), "R-TEST", None)
    except KassaError as exc:
        return exc.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 700),
    cut=st.floats(0, 1),
    keep=st.integers(0, 12),
)
def test_snapshot_at_k_plus_tail_equals_full_replay(seed, n, cut, keep):
    events = shop_events(seed, n)
    k = int(cut * len(events))
    full = replay(Book(), events)
    part = replay(Book(), events[:k])
    archive = ListArchive(events)  # holds the tail too: the book asks "as of" its seq
    below = part.horizon(keep)
    if below:
        archive.numbers.update(part.numbers_below(below))
        part.evict(below)
    assert len(dict.keys(part.orders)) <= max(keep, 0) or not below
    key = b"k" * 32
    header = SnapHeader(FORMAT, "ledger", part.seq, b"h" * 32, below)
    blob = seal_snapshot(header, encode_book(part, {"x": [{"rule": "r"}]}, 7), key)
    got, payload = open_snapshot(blob, key, "ledger")
    restored, flags, last_ts = decode_book(payload)
    assert (got, flags, last_ts) == (header, {"x": [{"rule": "r"}]}, 7)
    restored.attach(archive)
    replay(restored, events[k:])  # refunds of orders left out are checked against the journal
    assert state(restored, full) == state(full, full)
    for oid in list(dict.keys(full.orders))[:5]:  # the next refund of an old order: the same
        assert refund_all(restored, oid) == refund_all(full, oid)


def test_a_book_with_state_the_snapshot_does_not_keep_is_not_snapshotted():
    """A part that gives the book new state must add it to ``BookImage`` (and raise FORMAT)."""
    book = Book()
    assert set(vars(book)) == BOOK_STATE
    book.exchanges = {}  # type: ignore[attr-defined]
    with pytest.raises(SnapshotRefused, match="exchanges"):
        encode_book(book, {}, 0)


def test_an_altered_or_foreign_snapshot_does_not_open():
    key = b"k" * 32
    book = replay(Book(), shop_events(3, 200))
    blob = seal_snapshot(
        SnapHeader(FORMAT, "ledger", book.seq, b"h" * 32), encode_book(book, {}, 0), key
    )
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 1
    for data, k, name in (
        (bytes(flipped), key, "ledger"),  # one bit changed
        (blob, b"o" * 32, "ledger"),  # another store's key
        (blob, key, "stock"),  # another kind of snapshot
        (blob[:-10], key, "ledger"),  # cut short
        (b"", key, "ledger"),
    ):
        with pytest.raises(SnapshotRefused):
            open_snapshot(data, k, name)
    future = seal_snapshot(SnapHeader(FORMAT + 1, "ledger", book.seq, b"h" * 32), b"", key)
    with pytest.raises(SnapshotRefused, match="format"):
        open_snapshot(future, key, "ledger")


# ---------------------------------------------------------------- the ledger on a journal file


def submit_all(ledger: Ledger, events: list[Event]) -> None:
    reqs = [Request(cid(), b"gen", body, staff, till) for body, staff, till, _, _ in events]
    for i in range(0, len(reqs), 50):
        for res in ledger.submit_batch(reqs[i : i + 50]):
            assert not isinstance(res, KassaError), res


def ledger_state(ledger: Ledger, ref: Ledger) -> dict[str, Any]:
    st = ledger.status()
    st.pop("start"), st.pop("snapshots")
    ids = [e.agg for e in ledger.read(0, 100000) if e.kind == "order.completed"]
    orders = {oid: ledger.order(oid) for oid in ids}
    return {"status": st, "book": state(ledger.book, ref.book), "orders": orders}


@pytest.fixture
def journal(tmp_path) -> tuple[Path, list[Event]]:
    """A journal of 900 events with a snapshot at 600 (and the orders before the newest 5
    left out of memory), then 300 more: as a store that crashed after a snapshot."""
    path = tmp_path / "store" / "journal.sqlite"
    events = shop_events(11, 900)
    led = Ledger(path, keep_orders=5)
    submit_all(led, events[:600])
    assert led.snapshot().seq == 600
    assert len(dict.keys(led.book.orders)) <= 5
    submit_all(led, events[600:])
    led.journal.close()  # no close(): no snapshot at the end
    return path, events


def full_replay_of(path: Path, tmp: Path) -> Ledger:
    """A ledger over a copy of the journal without any snapshot: the full replay."""
    (tmp / "full").mkdir()
    for f in path.parent.glob("journal.sqlite*"):
        shutil.copy(f, tmp / "full" / f.name)
    led = Ledger(tmp / "full" / "journal.sqlite")
    assert led.started["snapshot_seq"] == 0
    return led


def test_ledger_starts_from_its_snapshot_and_replays_only_the_tail(journal, tmp_path):
    path, events = journal
    led = Ledger(path, keep_orders=5)
    assert led.status()["start"]["snapshot_seq"] == 600
    assert led.status()["start"]["replayed"] == 300
    first = next(b for b, *_ in events if isinstance(b, OrderCompleted))
    assert first.order_id not in dict.keys(led.book.orders)  # the oldest order: out of memory
    full = full_replay_of(path, tmp_path)
    assert ledger_state(led, full) == ledger_state(full, full)
    # out of memory again: its refund is decided exactly as the full replay decides it
    led.book.evict(led.horizon)
    loads = led.status()["snapshots"]["archive_loads"]
    a = led.submit(Request(cid(), b"r", RefundOrder(first.order_id, "RF-1", None)))
    b = full.submit(Request(cid(), b"r", RefundOrder(first.order_id, "RF-1", None)))
    assert a.body == b.body and a.seq == b.seq
    assert led.status()["snapshots"]["archive_loads"] > loads
    # its number still finds it
    assert led.book.numbers.find(first.number) == first.order_id


def test_a_restarts_replayed_tail_counts_toward_the_next_snapshot(journal, monkeypatch):
    """A server killed again and again (each life shorter than a snapshot's worth of events)
    must not replay more at every start: the tail it replayed counts, so its first commits
    start the snapshot process, and the start after that replays only what came since."""
    path, events = journal
    monkeypatch.setattr("actors.ledger_state.EVERY_EVENTS", 250)
    led = Ledger(path, keep_orders=5, snapshots=True)
    assert led.started["replayed"] == 300
    more = shop_events(11, 905)[900:]
    submit_all(led, more)
    assert led._child is not None  # was: none until 250 more events of this process
    assert led._child.wait(120) == 0
    led.journal.close()  # killed: no snapshot at close
    again = Ledger(path, keep_orders=5)
    assert again.started["snapshot_seq"] >= 901 and again.started["replayed"] <= 4
    again.journal.close()


def test_close_snapshots_keeps_two_owner_only_files(journal):
    path, events = journal
    for _ in range(3):
        led = Ledger(path, keep_orders=5)
        led.close()
        led.close()  # idempotent
    snaps = list_snapshots(path.parent, "ledger")
    assert [s for s, _ in snaps] == [900, 600]
    for _, p in snaps:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    again = Ledger(path)
    assert again.started["snapshot_seq"] == 900 and again.started["replayed"] == 0


def test_an_altered_snapshot_is_ignored_and_the_journal_replayed(journal, caplog):
    path, _ = journal
    (_, snap), *_ = list_snapshots(path.parent, "ledger")
    data = bytearray(snap.read_bytes())
    data[-40] ^= 0x10
    snap.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        led = Ledger(path)
    assert led.started == {**led.started, "snapshot_seq": 0, "replayed": 900}
    assert "altered" in caplog.text


def test_a_snapshot_whose_hash_is_not_the_journals_is_ignored(journal, tmp_path, caplog):
    path, _ = journal
    # a snapshot of another shop's journal at the same seq, sealed with this store's key
    other = tmp_path / "other" / "journal.sqlite"
    snapshot_dir(other.parent).mkdir(parents=True)
    shutil.copy(snapshot_dir(path.parent) / "key", snapshot_dir(other.parent) / "key")
    led = Ledger(other)
    submit_all(led, shop_events(12, 600))
    header = led.snapshot()
    led.close()
    for f in snapshot_dir(path.parent).glob("ledger-*.snap"):
        f.unlink()
    raw = (snapshot_dir(other.parent) / f"ledger-{header.seq}.snap").read_bytes()
    (snapshot_dir(path.parent) / f"ledger-{header.seq}.snap").write_bytes(raw)
    with caplog.at_level(logging.WARNING, logger="actors.snapshots"):
        again = Ledger(path)
    assert again.started["snapshot_seq"] == 0 and again.started["replayed"] == 900
    assert "another hash" in caplog.text


def test_a_snapshot_past_the_journals_end_is_ignored(journal):
    path, _ = journal
    led = Ledger(path)
    hdr = SnapHeader(FORMAT, "ledger", 5000, b"\0" * 32)
    write_snapshot(path.parent, hdr, encode_book(led.book, {}, 0))
    led.journal.close()
    assert Ledger(path).started["snapshot_seq"] == 900 - 300  # the older, valid one


# ---------------------------------------------------------------- the read models


@pytest.mark.parametrize("view_cls,name", [(StockView, "stock"), (WalletView, "wallet")])
def test_read_model_from_its_snapshot_plus_tail_equals_full_replay(journal, view_cls, name):
    path, _ = journal
    led = Ledger(path)
    envs = led.read(0, 100000)
    full = view_cls()
    full.apply(envs)
    part = view_cls()
    part.apply(envs[:450])
    save_image(path.parent, name, part.image(), part.hash)
    got = restore_image(path.parent, name)
    assert got is not None
    again = view_cls.from_image(*got)
    assert again.seq == 450
    again.apply(envs[400:])  # overlapping reads are skipped by seq
    assert again.image() == full.image() and again.hash == full.hash
    # a snapshot whose hash is not the journal's event is not used
    part.apply(envs[450:500])
    forged = view_cls.from_image(part.image(), b"\1" * 32)
    save_image(path.parent, name, forged.image(), forged.hash)
    assert restore_image(path.parent, name)[0].seq == 450  # the older, valid one


def test_the_start_check_walks_the_whole_replayed_tail(journal, monkeypatch):
    """An event altered behind SQLite's back after the snapshot, further back than the start
    check's usual window, is still found before the store sells: the tail replayed is checked."""
    import actors.ledger

    path, _ = journal
    monkeypatch.setattr(actors.ledger, "START_TAIL", 100)  # the window: seq 801..900
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET ts = ts + 1 WHERE seq = 700")
    con.commit()
    con.close()
    led = Ledger(path, check=True)
    try:
        assert led.started["snapshot_seq"] == 600
        start = read_report(path)["start"]
        assert start["first_broken"] == 700 and start["tail"] == 300
    finally:
        if led.full_check is not None:
            led.full_check.kill()
            led.full_check.wait()


def test_a_big_journal_leaves_sqlites_check_to_the_background(journal, monkeypatch):
    """SQLite's quick check reads the whole file: past its size limit the start walks the chain
    only, and the full check (integrity_check, started right after) does SQLite's part."""
    import actors.journal_check

    path, _ = journal
    monkeypatch.setattr(actors.journal_check, "QUICK_CHECK_MAX_BYTES", 1)
    led = Ledger(path, check=True)
    try:
        start = read_report(path)["start"]
        assert start["quick_check"] is False and start["ok"] and start["tail"] == 5000
        assert led.full_check is not None
    finally:
        if led.full_check is not None:
            led.full_check.kill()
            led.full_check.wait()
