"""HQ's warehouse: every held event flattened (``analytics.flatten``) into hive-partitioned Parquet.

Layout::

    <data>/warehouse/<table>/store=<id>/day=<YYYY-MM-DD>/seq-<first>-<last>.parquet

``day`` is the store's business day (its zone from the registry). Each export covers the seq range
``exported+1 .. held`` of one store and writes one file per (table, day) named after that range,
then records ``exported`` in the store's event file — so a crash mid-export leaves files beyond
``exported`` that are deleted on the next start, and nothing is ever written twice. Compaction
merges the files of a partition into one ``seq-<min>-<max>.parquet`` and then removes its inputs; a
crash in between leaves inputs whose range lies inside the merged file's, which the next start
removes. Exports and compactions take a lock file (``warehouse/.lock``) so the CLI and a running
server can't interleave. Folders are 0700 and files 0600: the warehouse holds every sale and
members' balances.

An event no table can hold (a poison value from an old journal, e.g. a price of 2**63) does not
stop the export: it is recorded in the store's event file (table ``quarantine``: seq, kind, error),
raised as an alert (``warehouse.quarantined``, ``GET /v1/alerts``) and left out, and every other
event flows. ``quarantined()`` lists them; ``stats()`` counts them.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from analytics.flatten import TABLES, flatten
from cloud.hqauth import PRIVATE_FILE, private_dir
from cloud.warehouse_files import FILE_RE, _fname, _fsync_dir, _write_parquet, upgrade_files
from cloud.warehouse_query import WarehouseQueries
from domain.journal_format import COLUMNS, envelope_of

__all__ = ["Warehouse", "FILE_RE"]

log = logging.getLogger(__name__)


class Warehouse(WarehouseQueries):
    def __init__(
        self,
        data_dir: Path | str,
        registry: Any,
        clock: Any,
        delay_s: float = 1.0,
        chunk: int = 200_000,
        auto_compact_files: int = 16,
    ) -> None:
        self.data = Path(data_dir)
        self.root = private_dir(self.data / "warehouse")
        self.registry = registry
        self.clock = clock
        self.delay_s = delay_s
        self.chunk = chunk
        self.auto_compact_files = auto_compact_files
        self.ingestor: Any = None  # set by make_app; used for upload times
        self._lock = threading.RLock()
        self._cons: dict[str, sqlite3.Connection] = {}
        self._dirty: set[str] = set()
        self._dirty_guard = threading.Lock()
        self._cleaned: set[str] = set()
        self._upgraded = False
        self.upgraded_files = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor: Executor | None = None
        self.exported_events = 0
        self.export_s = 0.0
        self.files_written = 0
        self.compactions = 0
        self.quarantined_events = 0

    # ------------------------------------------------------------ store files
    def _log_path(self, store: str) -> Path:
        return self.data / "stores" / store / "events.sqlite"

    def _con(self, store: str) -> sqlite3.Connection | None:
        con = self._cons.get(store)
        if con is None:
            path = self._log_path(store)
            if not path.exists():
                return None
            con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout=30000")
            con.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS quarantine (seq INTEGER PRIMARY KEY, "
                "kind TEXT NOT NULL, error TEXT NOT NULL)"
            )
            self._cons[store] = con
        return con

    def exported(self, store: str) -> int:
        con = self._con(store)
        if con is None:
            return 0
        row = con.execute("SELECT value FROM meta WHERE key = 'exported'").fetchone()
        return int(row[0]) if row else 0

    def _set_exported(self, store: str, seq: int) -> None:
        con = self._con(store)
        assert con is not None
        con.execute(
            "INSERT INTO meta(key, value) VALUES ('exported', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(seq),),
        )

    def held(self, store: str) -> int:
        con = self._con(store)
        if con is None:
            return 0
        return con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def store_ids(self) -> list[str]:
        d = self.data / "stores"
        return (
            sorted(p.name for p in d.iterdir() if (p / "events.sqlite").exists())
            if d.exists()
            else []
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if not self._upgraded:  # files from before a column was added get it, once
                    self.upgraded_files = upgrade_files(self.root)
                    self._upgraded = True
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def partitions(self, store: str | None = None) -> Iterator[Path]:
        for t in TABLES:
            tdir = self.root / t
            if not tdir.exists():
                continue
            for sdir in sorted(tdir.glob("store=*")):
                if store and sdir.name != f"store={store}":
                    continue
                yield from sorted(sdir.glob("day=*"))

    @staticmethod
    def _files(part: Path) -> list[tuple[int, int, Path]]:
        out = []
        for p in part.iterdir():
            m = FILE_RE.match(p.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), p))
        out.sort()
        return out

    def _cleanup(self, store: str) -> None:
        """Remove what a crash left: temp files, files beyond ``exported``, compaction inputs."""
        exported = self.exported(store)
        for part in self.partitions(store):
            for p in part.glob(".*.tmp"):
                p.unlink(missing_ok=True)
            files = self._files(part)
            for first, _last, p in files:
                if first > exported:
                    log.warning("removing %s: exported after the last recorded export", p)
                    p.unlink(missing_ok=True)
            files = self._files(part)
            for a in files:
                for b in files:
                    if (
                        a is not b
                        and b[0] <= a[0]
                        and a[1] <= b[1]
                        and (a[0], a[1]) != (b[0], b[1])
                    ):
                        log.warning("removing %s: already merged into %s", a[2], b[2].name)
                        a[2].unlink(missing_ok=True)
                        break
        self._cleaned.add(store)

    # ------------------------------------------------------------ export
    def export_store(self, store: str) -> int:
        """Flatten and write everything held past ``exported``; returns the events exported."""
        with self._locked():
            if store not in self._cleaned:
                self._cleanup(store)
            con = self._con(store)
            if con is None:
                return 0
            entry = self.registry.store(store)
            zone = entry.zone if entry else "UTC"
            total = 0
            t0 = time.perf_counter()
            while True:
                exported = self.exported(store)
                rows = con.execute(
                    f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (exported, self.chunk),
                ).fetchall()
                if not rows:
                    break
                first, last = rows[0][0], rows[-1][0]
                envs = [envelope_of(r) for r in rows]
                bad: list[dict[str, Any]] = []
                frames = flatten(envs, store, zone, quarantine=bad)
                self._quarantine(store, bad)
                dirs = set()
                for table, df in frames.items():
                    if not df.height:
                        continue
                    for (day,), part in df.group_by(["business_day"], maintain_order=True):
                        d = self.root / table / f"store={store}" / f"day={day.isoformat()}"
                        private_dir(d)
                        _write_parquet(part, d / _fname(first, last))
                        self.files_written += 1
                        dirs.add(d)
                for d in dirs:
                    _fsync_dir(d)
                self._set_exported(store, last)
                total += len(rows)
            self.exported_events += total
            self.export_s += time.perf_counter() - t0
            return total

    def _quarantine(self, store: str, bad: list[dict[str, Any]]) -> None:
        """Record the events left out of the warehouse and raise an alert for each."""
        con = self._con(store)
        assert con is not None
        for q in bad:
            log.error(
                "warehouse: %s seq %d (%s) quarantined: %s", store, q["seq"], q["kind"], q["error"]
            )
            con.execute(
                "INSERT OR IGNORE INTO quarantine(seq, kind, error) VALUES (?, ?, ?)",
                (q["seq"], q["kind"], q["error"]),
            )
            self.registry.alert(
                store,
                "warehouse.quarantined",
                q["seq"],
                f"{q['kind']} left out of the warehouse: {q['error']}",
                self.clock.now_us(),
            )
        self.quarantined_events += len(bad)

    def quarantined(self, store: str | None = None) -> list[dict[str, Any]]:
        """Events left out of the warehouse: store, seq, kind, error."""
        out = []
        for s in [store] if store else self.store_ids():
            con = self._con(s)
            if con is not None:
                out += [
                    {"store": s, "seq": seq, "kind": kind, "error": err}
                    for seq, kind, err in con.execute(
                        "SELECT seq, kind, error FROM quarantine ORDER BY seq"
                    )
                ]
        return out

    def export_all(self) -> int:
        n = 0
        for s in self.store_ids():
            n += self.export_store(s)
        return n

    # ------------------------------------------------------------ compaction
    def compact(
        self, store: str | None = None, min_files: int = 2, max_bytes: int = 512 * 1024 * 1024
    ) -> dict[str, int]:
        """Merge each partition's files into one (partitions with at least ``min_files``)."""
        merged = parts = 0
        with self._locked():
            for s in [store] if store else self.store_ids():
                if s not in self._cleaned:
                    self._cleanup(s)
            for part in list(self.partitions(store)):
                files = self._files(part)
                if len(files) < min_files:
                    continue
                small = [f for f in files if f[2].stat().st_size < max_bytes]
                if len(small) < min_files:
                    continue
                # files written before a column was added: the column as "" (strings are never null)
                df = pl.concat([pl.read_parquet(f[2]) for f in small], how="diagonal_relaxed")
                df = df.with_columns(pl.col(pl.String).fill_null(""))
                df = df.sort("seq", maintain_order=True)
                first, last = min(f[0] for f in small), max(f[1] for f in small)
                target = part / _fname(first, last)
                _write_parquet(df, target)
                _fsync_dir(part)
                for f in small:
                    if f[2] != target:
                        f[2].unlink(missing_ok=True)
                _fsync_dir(part)
                merged += len(small)
                parts += 1
            self.compactions += parts
        return {"partitions": parts, "files_merged": merged}

    def _maybe_compact(self) -> None:
        for part in list(self.partitions()):
            if len(self._files(part)) >= self.auto_compact_files:
                self.compact(min_files=self.auto_compact_files)
                return

    # ------------------------------------------------------------ background
    def mark_dirty(self, store: str, held: int = 0) -> None:
        """Called (from any thread) after a store's batch was committed."""
        with self._dirty_guard:
            self._dirty.add(store)
        if self._loop is not None and self._event is not None:
            try:
                self._loop.call_soon_threadsafe(self._event.set)
            except RuntimeError:  # loop closed
                pass

    def start(self, executor: Executor) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._executor = executor
        for s in self.store_ids():  # catch up after a restart
            self._dirty.add(s)
        if self._dirty:
            self._event.set()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        with self._lock:
            for con in self._cons.values():
                con.close()
            self._cons.clear()

    def _take_dirty(self) -> list[str]:
        with self._dirty_guard:
            out = sorted(self._dirty)
            self._dirty.clear()
        return out

    def _export_dirty(self) -> int:
        n = 0
        for s in self._take_dirty():
            try:
                n += self.export_store(s)
            except Exception:
                log.exception("warehouse export of %s failed; will retry", s)
                self.mark_dirty(s)
        if n:
            self._maybe_compact()
        return n

    async def _run(self) -> None:
        assert self._event is not None
        while True:
            await self._event.wait()
            await asyncio.sleep(self.delay_s)
            self._event.clear()
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._export_dirty)
            except Exception:
                log.exception("warehouse export failed")
                await asyncio.sleep(5)
                self._event.set()

    async def flush(self) -> int:
        """Export everything held now (the endpoints call this before answering)."""
        loop = asyncio.get_running_loop()
        with self._dirty_guard:
            self._dirty.update(self.store_ids())
        return await loop.run_in_executor(self._executor, self._export_dirty)

    def stats(self) -> dict[str, Any]:
        return {
            "exported_events": self.exported_events,
            "export_s": round(self.export_s, 3),
            "files_written": self.files_written,
            "compactions": self.compactions,
            "quarantined": self.quarantined_events,
        }
