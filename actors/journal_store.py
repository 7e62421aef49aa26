"""The journal's file: an append-only, hash-chained SQLite table (WAL, synchronous=FULL).

``SCHEMA`` (the shared events table plus the command's hash, triggers refusing UPDATE and
DELETE), ``connect`` and ``Journal``, which only the ledger writes. The checks of the chain live in
``actors.journal_check``; ``actors.journal`` gathers both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# COLS and _env under these names: other store modules select envelopes through them
from domain.journal_format import COLUMNS as COLS
from domain.journal_format import GENESIS, Envelope, events_table_sql, seal
from domain.journal_format import envelope_of as _env

__all__ = ["SCHEMA", "COLS", "Pending", "Journal", "connect"]

# the shared events table, plus the command's hash; a command id commits once
SCHEMA = (
    events_table_sql(unique_id=True, before_hash=[("cmd", bytes)])
    + """\
CREATE INDEX IF NOT EXISTS events_agg ON events(agg);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""
)


@dataclass(frozen=True, slots=True)
class Pending:
    id: str
    cmd: bytes  # hash of the command, to tell a retry from a reused id
    ts: int
    kind: str
    v: int
    staff: str
    till: str
    ip: str
    agg: str
    body: bytes


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=10000")
    return con


class Journal:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path)
        self.con.executescript(SCHEMA)
        # a second connection for readers of the tail (followers, the event stream): with WAL it
        # reads committed events while a commit is under way on the writer's connection
        self.rcon = connect(self.path)
        row = self.con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq: int = row[0] if row else 0
        self.hash: bytes = bytes(row[1]) if row else GENESIS

    def close(self) -> None:
        self.con.close()
        self.rcon.close()

    def find(self, ids: Iterable[str]) -> dict[str, tuple[Envelope, bytes]]:
        """Events already journaled under these command ids, with their command hashes."""
        ids = list(ids)
        out: dict[str, tuple[Envelope, bytes]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = f"SELECT {COLS}, cmd FROM events WHERE id IN ({','.join('?' * len(chunk))})"
            for row in self.con.execute(q, chunk):
                out[row[1]] = (_env(row), bytes(row[11]))
        return out

    def append(self, items: list[Pending]) -> list[Envelope]:
        """Append in one durable transaction; returns the committed envelopes."""
        seq, prev = self.seq, self.hash
        rows, envs = [], []
        for p in items:
            seq += 1
            e = seal(prev, seq, p.id, p.ts, p.kind, p.v, p.staff, p.till, p.ip, p.agg, p.body)
            rows.append(
                (seq, p.id, p.ts, p.kind, p.v, p.staff, p.till, p.ip, p.agg, p.body, p.cmd, e.hash)
            )
            envs.append(e)
            prev = e.hash
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.seq, self.hash = seq, prev
        return envs

    def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]:
        """Committed events after ``after`` (safe to call while another thread commits)."""
        q = f"SELECT {COLS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
        return [_env(r) for r in self.rcon.execute(q, (after, limit))]

    def scan(self, after: int = 0, page: int = 5000) -> Iterator[Envelope]:
        while True:
            batch = self.read(after, page)
            if not batch:
                return
            yield from batch
            after = batch[-1].seq

    def by_agg(self, aggs: Iterable[str]) -> list[Envelope]:
        aggs = list(aggs)
        out: list[Envelope] = []
        for i in range(0, len(aggs), 500):
            chunk = aggs[i : i + 500]
            marks = ",".join("?" * len(chunk))
            q = f"SELECT {COLS} FROM events WHERE agg IN ({marks}) ORDER BY seq"
            out.extend(_env(r) for r in self.con.execute(q, chunk))
        out.sort(key=lambda e: e.seq)
        return out

    def oldest_after(self, seq: int) -> Envelope | None:
        rows = self.read(seq, 1)
        return rows[0] if rows else None

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
