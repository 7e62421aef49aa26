"""Snapshot files of the ledger's book and of the read models, and the journal as the book's
archive.

Files: ``<data>/snapshots/<name>-<seq>.snap`` (``domain.book_snapshot``: sealed with the store's
snapshot key ``<data>/snapshots/key``), written atomically, 0600, the newest ``KEEP`` of each name
kept. ``load_newest`` gives the newest one that opens and whose seq and hash are the journal's;
anything else is logged and skipped (no snapshot at all: the caller replays from genesis).

The ledger keeps only its newest orders in memory (``KEEP_ORDERS``); an older one is read back
from the journal by aggregate (``JournalArchive``, the ``events_agg`` index) when a refund, a
freeze or a look-up needs it. Numbers of dropped orders go to ``<data>/snapshots/numbers.sqlite``
(number -> order id) before they leave memory, so a receipt's number still finds its order.

``python -m actors.snapshots DATA`` makes a ledger snapshot from the newest one and the journal's
tail in a process of its own (the ledger starts it every ``EVERY_EVENTS`` events or ``EVERY_S``
seconds: the commit path never encodes a snapshot).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from actors.files import atomic_write
from actors.journal_store import COLS, _env, connect
from domain.book import Book, BookRules
from domain.book_snapshot import (
    FORMAT,
    SnapHeader,
    SnapshotRefused,
    StockImage,
    WalletImage,
    decode_book,
    decode_image,
    encode_book,
    encode_image,
    open_snapshot,
    seal_snapshot,
)
from domain.events import kind_of

__all__ = [
    "KEEP",
    "KEEP_ORDERS",
    "EVERY_EVENTS",
    "EVERY_S",
    "JournalArchive",
    "apply_event",
    "snapshot_dir",
    "snapshot_key",
    "list_snapshots",
    "write_snapshot",
    "load_newest",
    "hash_at",
    "restore_ledger",
    "save_ledger",
    "trim",
    "make_snapshot",
    "restore_image",
    "save_image",
]

log = logging.getLogger(__name__)


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


KEEP = 2  # snapshot files kept per name
# settings for tests and benches (environment); the defaults suit a busy shop
KEEP_ORDERS = _env_int("KASSA_SNAPSHOT_KEEP_ORDERS", 20_000)  # orders the ledger keeps in memory
# a crash replays at most this many events before the tills sell again (~0.25 s at 10,000 on
# the 2-core store PC; it was 50,000: up to ~1.2 s of a crash's wait)
EVERY_EVENTS = _env_int("KASSA_SNAPSHOT_EVERY_EVENTS", 10_000) or 10_000
EVERY_S = float(_env_int("KASSA_SNAPSHOT_EVERY_S", 600) or 600)
_NAME = re.compile(r"([a-z]+)-(\d+)\.snap")


def snapshot_dir(data: Path | str) -> Path:
    return Path(data) / "snapshots"


def snapshot_key(data: Path | str) -> bytes:
    """The store's snapshot key (made on first use, 0600): a snapshot made elsewhere or edited
    by hand does not open."""
    path = snapshot_dir(data) / "key"
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    atomic_write(path, key)
    return key


def list_snapshots(data: Path | str, name: str) -> list[tuple[int, Path]]:
    """(seq, file) of ``name``'s snapshots, newest first."""
    out = []
    d = snapshot_dir(data)
    for p in d.glob(f"{name}-*.snap") if d.is_dir() else ():
        m = _NAME.fullmatch(p.name)
        if m and m.group(1) == name:
            out.append((int(m.group(2)), p))
    return sorted(out, reverse=True)


def write_snapshot(data: Path | str, header: SnapHeader, payload: bytes) -> Path:
    path = snapshot_dir(data) / f"{header.name}-{header.seq}.snap"
    atomic_write(path, seal_snapshot(header, payload, snapshot_key(data)))
    for _, old in list_snapshots(data, header.name)[KEEP:]:
        old.unlink(missing_ok=True)
    return path


def hash_at(con: sqlite3.Connection, seq: int) -> bytes | None:
    row = con.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
    return bytes(row[0]) if row else None


def load_newest(
    data: Path | str, name: str, con: sqlite3.Connection
) -> tuple[SnapHeader, bytes] | None:
    """The newest snapshot of ``name`` that opens with this store's key and names an event the
    journal holds with that hash; the others are logged and skipped."""
    key = None
    for seq, path in list_snapshots(data, name):
        try:
            key = key or snapshot_key(data)
            header, payload = open_snapshot(path.read_bytes(), key, name)
            if header.seq != seq:
                raise SnapshotRefused(f"names seq {header.seq}, not {seq}")
            if hash_at(con, seq) != header.hash:
                raise SnapshotRefused(f"the journal's event {seq} has another hash (or is gone)")
            if header.horizon > archived_horizon(data):
                raise SnapshotRefused("the numbers of the orders it left out are not archived")
            return header, payload
        except (OSError, SnapshotRefused) as exc:
            log.warning("snapshot %s ignored: %s", path.name, exc)
    return None


# ---------------------------------------------------------------- the read models

_IMAGES: dict[str, type[StockImage] | type[WalletImage]] = {
    "stock": StockImage,
    "wallet": WalletImage,
}


def restore_image(data: Path | str, name: str) -> tuple[Any, bytes] | None:
    """A read model's newest valid image (``stock``, ``wallet``) and its event's hash, or None."""
    journal = Path(data) / "journal.sqlite"
    if not journal.exists():
        return None
    con = connect(journal, readonly=True)
    try:
        found = load_newest(data, name, con)
    finally:
        con.close()
    if found is None:
        return None
    header, payload = found
    try:
        image = decode_image(payload, _IMAGES[name])
    except SnapshotRefused as exc:
        log.warning("snapshot %s-%s ignored: %s", name, header.seq, exc)
        return None
    if image.seq != header.seq:
        log.warning("snapshot %s-%s ignored: its image is at %s", name, header.seq, image.seq)
        return None
    return image, header.hash


def save_image(data: Path | str, name: str, image: StockImage | WalletImage, hash: bytes) -> None:
    if image.seq and hash:
        header = SnapHeader(FORMAT, name, image.seq, hash, 0, time.time_ns() // 1000)
        write_snapshot(data, header, encode_image(image))


# ---------------------------------------------------------------- the journal as archive


def _numbers_db(data: Path | str) -> sqlite3.Connection:
    path = snapshot_dir(data) / "numbers.sqlite"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh = not path.exists()
    con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    if fresh:
        os.chmod(path, 0o600)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=10000")
    con.execute("CREATE TABLE IF NOT EXISTS numbers (number TEXT PRIMARY KEY, order_id TEXT)")
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
    return con


def archived_horizon(data: Path | str) -> int:
    if not (snapshot_dir(data) / "numbers.sqlite").exists():
        return 0
    con = _numbers_db(data)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'horizon'").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def archive_numbers(data: Path | str, pairs: list[tuple[str, str]], horizon: int) -> None:
    con = _numbers_db(data)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT OR REPLACE INTO numbers VALUES (?, ?)", pairs)
        con.execute(
            "INSERT INTO meta VALUES ('horizon', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            (horizon,),
        )
        con.execute("COMMIT")
    finally:
        con.close()


class JournalArchive:
    """The journal read by aggregate: what a book dropped from memory, as of a seq."""

    _DONE = "('order.completed', 'basket.voided')"

    def __init__(self, data: Path | str, con: sqlite3.Connection) -> None:
        self.data, self.con = Path(data), con
        self._numbers: sqlite3.Connection | None = None
        self.loads = 0  # orders read back from the journal (status shows it)

    def order_events(self, order_id: str, upto: int) -> list[tuple[Any, str, str, int, int]]:
        q = f"SELECT {COLS} FROM events WHERE agg = ? AND seq <= ? ORDER BY seq"
        envs = [_env(r) for r in self.con.execute(q, (order_id, upto))]
        self.loads += 1
        return [(e.decoded(), e.staff, e.till, e.ts, e.seq) for e in envs]

    def closed(self, basket: str, upto: int) -> bool:
        q = f"SELECT 1 FROM events WHERE agg = ? AND seq <= ? AND kind IN {self._DONE} LIMIT 1"
        return self.con.execute(q, (basket, upto)).fetchone() is not None

    def number(self, key: str) -> str | None:
        if self._numbers is None:
            if not (snapshot_dir(self.data) / "numbers.sqlite").exists():
                return None
            self._numbers = _numbers_db(self.data)
        row = self._numbers.execute(
            "SELECT order_id FROM numbers WHERE number = ?", (key,)
        ).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        if self._numbers is not None:
            self._numbers.close()
            self._numbers = None


# ---------------------------------------------------------------- the ledger's state


def _kind(body: Any) -> str | None:
    try:
        return kind_of(body)
    except KeyError:
        return None


def apply_event(
    book: Book, flags: dict[str, list[dict]], body: Any, staff: str, till: str, ts: int, seq: int
) -> None:
    """One committed event into the ledger's state: the book, and the anomaly flags per order."""
    book.apply(body, staff, till, ts, seq)
    if _kind(body) == "order.flagged":
        flags.setdefault(body.order_id, []).append(
            {
                "rule": body.rule,
                "severity": body.severity,
                "evidence": body.evidence,
                "freeze": body.freeze,
                "seq": seq,
                "ts": ts,
            }
        )


def restore_ledger(
    data: Path | str, con: sqlite3.Connection, rules: BookRules | None = None
) -> tuple[Book, dict[str, list[dict]], int, SnapHeader] | None:
    """The ledger's book, flags and last event time from its newest valid snapshot, or None."""
    found = load_newest(data, "ledger", con)
    if found is None:
        return None
    header, payload = found
    try:
        book, flags, last_ts = decode_book(payload, rules)
    except SnapshotRefused as exc:
        log.warning("snapshot ledger-%s ignored: %s", header.seq, exc)
        return None
    if book.seq != header.seq:
        log.warning("snapshot ledger-%s ignored: its book is at %s", header.seq, book.seq)
        return None
    return book, flags, last_ts, header


def trim(data: Path | str, book: Book, keep_orders: int, horizon: int) -> int:
    """Orders beyond the newest ``keep_orders`` leave ``book`` (their numbers archived first);
    the new horizon (never lower than ``horizon``, the last one)."""
    below = book.horizon(keep_orders)
    if below <= horizon:
        return horizon
    archive_numbers(data, book.numbers_below(below), below)
    book.evict(below)
    return below


def save_ledger(
    data: Path | str,
    book: Book,
    flags: dict[str, list[dict]],
    last_ts: int,
    last_hash: bytes,
    keep_orders: int = KEEP_ORDERS,
    horizon: int = 0,
) -> SnapHeader:
    """Leave orders beyond the newest ``keep_orders`` out of ``book`` (their numbers archived
    first), then write its snapshot. ``horizon``: the last snapshot's (never goes back)."""
    horizon = trim(data, book, keep_orders, horizon)
    header = SnapHeader(FORMAT, "ledger", book.seq, last_hash, horizon, time.time_ns() // 1000)
    write_snapshot(data, header, encode_book(book, flags, last_ts))
    return header


def make_snapshot(
    data: Path | str, keep_orders: int = KEEP_ORDERS, upto: int | None = None
) -> SnapHeader | None:
    """A ledger snapshot at the journal's end (or at ``upto``), from the newest snapshot and the
    tail (what the background process runs); None for an empty journal."""
    import analytics.events  # noqa: F401 - the kinds the store's ledger knows
    import domain.drawer
    import domain.feedback  # noqa: F401

    data = Path(data)
    con = connect(data / "journal.sqlite", readonly=True)
    try:
        con.execute("BEGIN")  # one read transaction: the tail and its last hash agree
        got = restore_ledger(data, con)
        flags: dict[str, list[dict]] = {}
        book, last_ts, horizon = Book(), 0, 0
        if got is not None:
            book, flags, last_ts, header = got
            horizon = header.horizon
        archive = JournalArchive(data, con)
        book.attach(archive)
        last_hash = b""
        after = book.seq
        while True:
            q = f"SELECT {COLS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 5000"
            rows = con.execute(q, (after, upto or 1 << 62)).fetchall()
            if not rows:
                break
            for env in map(_env, rows):
                apply_event(book, flags, env.decoded(), env.staff, env.till, env.ts, env.seq)
                last_ts = max(last_ts, env.ts)
                last_hash, after = env.hash, env.seq
            if len(book.orders) > 2 * keep_orders:  # memory stays bounded on a long tail
                horizon = trim(data, book, keep_orders, horizon)
        if not last_hash:
            if book.seq == 0:
                return None
            last_hash = hash_at(con, book.seq) or b""
        con.execute("COMMIT")
        out = save_ledger(data, book, flags, last_ts, last_hash, keep_orders, horizon)
        archive.close()
        return out
    finally:
        con.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    if hasattr(os, "nice"):
        os.nice(10)
    header = make_snapshot(argv[0])
    log.info("snapshot %s", "none (empty journal)" if header is None else header.seq)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
