"""SQLite files of HQ's master data and HQ's users: one connection per thread, writes serialised
across processes (the cloud and the ``kassa admin`` CLI share the files) with ``BEGIN IMMEDIATE``.
Nothing is cached in memory, so a change the CLI makes is what the cloud reads next."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cloud.hqauth import private_dir, private_file

__all__ = ["Db", "MASTER_SCHEMA"]

MASTER_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS products(
    sku TEXT PRIMARY KEY, doc BLOB NOT NULL, search TEXT NOT NULL, category TEXT NOT NULL,
    source TEXT NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
    updated_us INTEGER NOT NULL, updated_by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS products_version ON products(version);
CREATE TABLE IF NOT EXISTS barcodes(code TEXT PRIMARY KEY, sku TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS barcodes_sku ON barcodes(sku);
CREATE TABLE IF NOT EXISTS history(
    version INTEGER NOT NULL, sku TEXT NOT NULL, doc BLOB, PRIMARY KEY(version, sku));
CREATE TABLE IF NOT EXISTS prices(
    id INTEGER PRIMARY KEY, sku TEXT NOT NULL, grp TEXT NOT NULL, price INTEGER NOT NULL,
    from_us INTEGER NOT NULL, version INTEGER NOT NULL, created_us INTEGER NOT NULL,
    created_by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS prices_group ON prices(grp, from_us);
CREATE INDEX IF NOT EXISTS prices_sku ON prices(sku, from_us);
CREATE INDEX IF NOT EXISTS prices_version ON prices(version);
CREATE TABLE IF NOT EXISTS profiles(
    store TEXT PRIMARY KEY, doc BLOB NOT NULL, grp TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions(
    store TEXT NOT NULL, feed TEXT NOT NULL, PRIMARY KEY(store, feed));
CREATE TABLE IF NOT EXISTS docs(name TEXT PRIMARY KEY, doc BLOB NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL,
    detail BLOB NOT NULL, version INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at_us);
CREATE INDEX IF NOT EXISTS audit_version ON audit(version);
"""


class Db:
    """One SQLite file (WAL, 0600 in a 0700 folder)."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        private_dir(path.parent)
        private_file(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self.write() as con:
            for stmt in schema.split(";"):
                if stmt.strip():
                    con.execute(stmt)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(0o600)

    @property
    def con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA busy_timeout=15000")
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that holds the write lock from its start (a version read in it is the
        one the commit writes after)."""
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection (when no thread uses them any more)."""
        with self._lock:
            cons, self._all = self._all, []
        for con in cons:
            con.close()
        self._local = threading.local()
