"""The journal: an append-only, hash-chained SQLite file (WAL, synchronous=FULL).

Only the ledger writes it. Every row is an event ``Envelope`` (see ``domain.events``) plus the hash of
the command that produced it, so that a retried command id is answered with its first result and the
same id with another body is refused. Triggers refuse UPDATE and DELETE; the hash chain makes an edit
made behind SQLite's back detectable by ``verify``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from domain.events import GENESIS, Envelope, chain_hash

__all__ = ["Journal", "Pending", "verify_journal", "VerifyResult"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq   INTEGER PRIMARY KEY,
    id    TEXT NOT NULL UNIQUE,
    ts    INTEGER NOT NULL,
    kind  TEXT NOT NULL,
    v     INTEGER NOT NULL,
    staff TEXT NOT NULL,
    till  TEXT NOT NULL,
    ip    TEXT NOT NULL,
    agg   TEXT NOT NULL,
    body  BLOB NOT NULL,
    cmd   BLOB NOT NULL,
    hash  BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_agg ON events(agg);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""

COLS = "seq, id, ts, kind, v, staff, till, ip, agg, body, hash"


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


def _env(row: tuple) -> Envelope:
    return Envelope(*row[:10], hash=row[10])


def connect(path: Path | str, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                              check_same_thread=False)
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
        self.seq, self.hash = (row[0], bytes(row[1])) if row else (0, GENESIS)

    def close(self) -> None:
        self.con.close()
        self.rcon.close()

    def find(self, ids: Iterable[str]) -> dict[str, tuple[Envelope, bytes]]:
        """Events already journaled under these command ids, with their command hashes."""
        ids = list(ids)
        out: dict[str, tuple[Envelope, bytes]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
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
            h = chain_hash(prev, seq, p.id, p.ts, p.kind, p.v, p.staff, p.till, p.ip, p.agg, p.body)
            rows.append((seq, p.id, p.ts, p.kind, p.v, p.staff, p.till, p.ip, p.agg, p.body, p.cmd, h))
            envs.append(Envelope(seq, p.id, p.ts, p.kind, p.v, p.staff, p.till, p.ip, p.agg, p.body, h))
            prev = h
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
            chunk = aggs[i:i + 500]
            q = f"SELECT {COLS} FROM events WHERE agg IN ({','.join('?' * len(chunk))}) ORDER BY seq"
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
        self.con.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


@dataclass(frozen=True, slots=True)
class VerifyResult:
    count: int
    last_seq: int
    first_broken: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify_journal(path: Path | str, anchor: tuple[int, bytes] | None = None) -> VerifyResult:
    """Walk the chain from genesis; report the first seq whose hash or numbering does not hold.

    A chain alone cannot show that its end was cut off. ``anchor`` — a (seq, hash) held outside
    the journal, such as the last event HQ acknowledged (``uploader.json``) — can: the journal must
    reach that seq, with that hash there."""
    con = connect(path, readonly=True)
    try:
        prev, expect, count = GENESIS, 1, 0
        cur = con.execute(f"SELECT {COLS} FROM events ORDER BY seq")
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            for r in rows:
                seq, id_, ts, kind, v, staff, till, ip, agg, body, h = r
                if seq != expect:
                    return VerifyResult(count, expect - 1, expect, "missing sequence number")
                body = bytes(body) if not isinstance(body, bytes) else body
                want = chain_hash(prev, seq, id_, ts, kind, v, staff, till, ip, agg, body)
                if want != bytes(h):
                    return VerifyResult(count, seq - 1, seq, "hash does not match")
                if anchor is not None and seq == anchor[0] and bytes(h) != anchor[1]:
                    return VerifyResult(count, seq - 1, seq,
                                        "differs from the event HQ acknowledged at this seq")
                prev, expect, count = bytes(h), expect + 1, count + 1
        if anchor is not None and anchor[0] > expect - 1:
            return VerifyResult(count, expect - 1, expect,
                                f"truncated: HQ acknowledged events up to seq {anchor[0]}")
        return VerifyResult(count, expect - 1, None)
    finally:
        con.close()
