"""The ledger's state over time: loaded from the newest valid snapshot and the journal's tail
(``_load``), snapshotted (``snapshot``: now; ``_tick``: a process of its own every
``EVERY_EVENTS`` events or ``EVERY_S`` seconds), and closed with a last snapshot (``close``).
``check_journal``: the start check, whose chain walk covers at least the replayed tail."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from actors.journal import Journal, check_at_start, start_full_check
from actors.snapshots import (
    EVERY_EVENTS,
    EVERY_S,
    JournalArchive,
    archive_numbers,
    archived_horizon,
    restore_ledger,
    save_ledger,
    trim,
)
from domain.book import Book, BookRules
from domain.book_snapshot import SnapHeader

__all__ = ["START_TAIL", "LedgerState", "check_journal"]

log = logging.getLogger("actors.ledger")

START_TAIL = 5000  # the chain walked at every start: at least these events, and the replayed tail


class LedgerState:
    """The snapshot side of ``actors.ledger.Ledger`` (which sets these attributes)."""

    data: Path
    journal: Journal
    rules: BookRules
    book: Book
    flags: dict[str, list[dict]]
    last_ts: int
    horizon: int
    archive: JournalArchive
    keep_orders: int
    auto_snapshots: bool
    started: dict[str, Any]
    _child: subprocess.Popen | None
    _since: int
    _snap_at: float

    def _apply(self, body: Any, staff: str, till: str, ts: int, seq: int) -> None:
        raise NotImplementedError

    def _load(self) -> dict[str, Any]:
        """The book from the newest valid snapshot and the tail after it (or from genesis)."""
        t0 = time.perf_counter()
        got = restore_ledger(self.data, self.journal.rcon, self.rules)
        self.book, self.flags, self.last_ts, self.horizon = Book(self.rules), {}, 0, 0
        snap = 0
        if got is not None:
            self.book, self.flags, self.last_ts, header = got
            snap, self.horizon = header.seq, header.horizon
        self.archive = JournalArchive(self.data, self.journal.rcon)
        if self.horizon:
            self.book.attach(self.archive)
        n = 0
        for env in self.journal.scan(snap):
            self._apply(env.decoded(), env.staff, env.till, env.ts, env.seq)
            self.last_ts = max(self.last_ts, env.ts)
            n += 1
            if n % 50_000 == 0 and len(self.book.orders) > 2 * self.keep_orders:
                self._adopt(trim(self.data, self.book, self.keep_orders, self.horizon))
        took = time.perf_counter() - t0
        log.info("ledger loaded: snapshot at %s, %s events replayed in %.2f s", snap, n, took)
        return {
            "snapshot_seq": snap,
            "replayed": n,
            "seconds": round(took, 3),
            "orders_in_memory": len(self.book.orders),
        }

    # ------------------------------------------------------------ snapshots
    def snapshot(self) -> SnapHeader | None:
        """Write a snapshot of the book now (between batches); older orders leave memory."""
        if self.journal.seq == 0 or self.book.seq != self.journal.seq:
            return None
        header = save_ledger(
            self.data,
            self.book,
            self.flags,
            self.last_ts,
            self.journal.hash,
            self.keep_orders,
            self.horizon,
        )
        self._adopt(header.horizon)
        self._since, self._snap_at = 0, time.monotonic()
        return header

    def _adopt(self, horizon: int) -> None:
        """Orders before ``horizon`` (a snapshot's, numbers archived) leave memory."""
        if horizon > self.horizon:
            self.book.evict(horizon)
            self.horizon = horizon
        if self.horizon:
            self.book.attach(self.archive)

    def _tick(self, committed: int) -> None:
        """After a commit: start the snapshot process when due; adopt what the last one left."""
        self._since += committed
        if self._child is not None:
            if self._child.poll() is None:
                return
            self._child = None
            h = archived_horizon(self.data)
            if h > self.horizon:  # refunds made since the process read the journal: numbered
                late = [(k, o) for k, o in self.book.numbers_below(h) if k.startswith("R-")]
                archive_numbers(self.data, late, h)
            self._adopt(h)
        due = self._since >= EVERY_EVENTS or time.monotonic() - self._snap_at >= EVERY_S
        if self.auto_snapshots and self._since and due:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "actors.snapshots", str(self.data)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._since, self._snap_at = 0, time.monotonic()

    def close(self) -> None:
        """Snapshot the book and close the journal (a clean stop; idempotent)."""
        if self.journal.con is None:
            return
        try:
            self.snapshot()
        except Exception:
            log.exception("the snapshot at close failed; the next start replays more")
        self.archive.close()
        self.journal.close()
        self.journal.con = None  # type: ignore[assignment]


def check_journal(path: Path, now_us: int, tail: int = START_TAIL) -> Any:
    """At start, before the store sells: SQLite's quick check and the chain's tail against HQ's
    anchor (reported, never blocking: a shop keeps selling and the report says what is wrong);
    then the full check in a low-priority child process, which is returned."""
    from actors.uploader import anchor_of

    try:
        check_at_start(path, anchor_of(path.parent), now_us, tail)
        return start_full_check(path.parent)
    except Exception:
        log.exception("the journal check at start failed to run")
        return None
