"""The journal: an append-only, hash-chained SQLite file (WAL, synchronous=FULL).

Only the ledger writes it. Every row is an event ``Envelope`` (its format, chain hash and table
columns: ``domain.journal_format``, shared with HQ's copy) plus the hash of the command that
produced it, so that a retried command id is answered with its first result and the same id with
another body is refused. Triggers refuse UPDATE and DELETE; the hash chain makes an edit
made behind SQLite's back detectable by ``verify``.

Checks: ``verify_journal`` (the whole chain, optionally SQLite's ``integrity_check``) backs
``kassa journal verify``; at every start the ledger runs ``check_at_start`` (``quick_check`` and the
chain's last events against HQ's anchor) before it serves, then ``start_full_check`` in a niced
child process. Both write ``journal_check.json`` beside the journal, which health shows and the
uploader obeys (``broken_at``: it sends nothing from that seq on).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# COLS and _env under these names: other store modules select envelopes through them
from domain.journal_format import COLUMNS as COLS
from domain.journal_format import GENESIS, Envelope, chain_hash, events_table_sql, seal
from domain.journal_format import envelope_of as _env

__all__ = [
    "Journal",
    "Pending",
    "verify_journal",
    "verify_tail",
    "sqlite_check",
    "VerifyResult",
    "check_at_start",
    "start_full_check",
    "read_report",
    "write_report",
    "broken_at",
    "summary",
    "report_path",
    "result_doc",
]

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class VerifyResult:
    count: int
    last_seq: int
    first_broken: int | None
    reason: str = ""
    integrity: tuple[str, ...] = ()  # what SQLite's own check found (empty: the file is sound)

    @property
    def ok(self) -> bool:
        return self.first_broken is None and not self.integrity


def sqlite_check(path: Path | str, quick: bool = False, limit: int = 20) -> tuple[str, ...]:
    """SQLite's own check of the file (``PRAGMA integrity_check``, or the faster ``quick_check``,
    which skips comparing indexes with their table): the problems found, or () if it is sound."""
    con = connect(path, readonly=True)
    try:
        rows = con.execute(f"PRAGMA {'quick_check' if quick else 'integrity_check'}({limit})")
        found = tuple(str(r[0]) for r in rows)
    except sqlite3.DatabaseError as exc:  # so damaged that SQLite cannot even walk it
        found = (f"{type(exc).__name__}: {exc}",)
    finally:
        con.close()
    return () if found == ("ok",) else found


def _walk(
    rows: Iterable[tuple], prev: bytes, expect: int, count: int, anchor: tuple[int, bytes] | None
) -> tuple[VerifyResult | None, bytes, int, int]:
    """Recompute the chain over ``rows``; a VerifyResult at the first break, else the new head."""
    for r in rows:
        seq, id_, ts, kind, v, staff, till, ip, agg, body, h = r
        if seq != expect:
            return (
                VerifyResult(count, expect - 1, expect, "missing sequence number"),
                prev,
                expect,
                count,
            )
        body = bytes(body) if not isinstance(body, bytes) else body
        if chain_hash(prev, seq, id_, ts, kind, v, staff, till, ip, agg, body) != bytes(h):
            return VerifyResult(count, seq - 1, seq, "hash does not match"), prev, expect, count
        if anchor is not None and seq == anchor[0] and bytes(h) != anchor[1]:
            return (
                VerifyResult(
                    count, seq - 1, seq, "differs from the event HQ acknowledged at this seq"
                ),
                prev,
                expect,
                count,
            )
        prev, expect, count = bytes(h), expect + 1, count + 1
    return None, prev, expect, count


def _truncated(count: int, last: int, anchor: tuple[int, bytes] | None) -> VerifyResult:
    if anchor is not None and anchor[0] > last:
        return VerifyResult(
            count, last, last + 1, f"truncated: HQ acknowledged events up to seq {anchor[0]}"
        )
    return VerifyResult(count, last, None)


def verify_journal(
    path: Path | str, anchor: tuple[int, bytes] | None = None, integrity: bool = False
) -> VerifyResult:
    """Walk the chain from genesis; report the first seq whose hash or numbering does not hold.

    A chain alone cannot show that its end was cut off. ``anchor`` — a (seq, hash) held outside
    the journal, such as the last event HQ acknowledged (``uploader.json``) — can: the journal must
    reach that seq, with that hash there. ``integrity`` runs SQLite's ``integrity_check`` first:
    the chain covers the events table's rows, not the file's indexes and free pages."""
    found = sqlite_check(path) if integrity else ()
    con = connect(path, readonly=True)
    try:
        prev, expect, count = GENESIS, 1, 0
        cur = con.execute(f"SELECT {COLS} FROM events ORDER BY seq")
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            broken, prev, expect, count = _walk(rows, prev, expect, count, anchor)
            if broken is not None:
                return replace(broken, integrity=found)
        return replace(_truncated(count, expect - 1, anchor), integrity=found)
    except sqlite3.DatabaseError as exc:
        return VerifyResult(count, expect - 1, expect, f"unreadable: {exc}", found)
    finally:
        con.close()


def verify_tail(
    path: Path | str, events: int = 5000, anchor: tuple[int, bytes] | None = None
) -> VerifyResult:
    """The chain over the last ``events`` events only (from the stored hash before them), and the
    anchor: a check quick enough for every start. ``count`` is the number of events walked."""
    con = connect(path, readonly=True)
    try:
        last = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        first = max(1, last - events + 1)
        prev = GENESIS
        if first > 1:
            row = con.execute("SELECT hash FROM events WHERE seq = ?", (first - 1,)).fetchone()
            if row is None:
                return VerifyResult(0, first - 2, first - 1, "missing sequence number")
            prev = bytes(row[0])
        rows = con.execute(f"SELECT {COLS} FROM events WHERE seq >= ? ORDER BY seq", (first,))
        broken, _, expect, count = _walk(rows, prev, first, 0, anchor)
        if broken is not None:
            return broken
        if anchor is not None and anchor[0] < first:  # HQ's seq lies before the tail
            row = con.execute("SELECT hash FROM events WHERE seq = ?", (anchor[0],)).fetchone()
            if row is None or bytes(row[0]) != anchor[1]:
                return VerifyResult(
                    count,
                    anchor[0] - 1,
                    anchor[0],
                    "differs from the event HQ acknowledged at this seq",
                )
        return _truncated(count, expect - 1, anchor)
    except sqlite3.DatabaseError as exc:
        return VerifyResult(0, 0, 1, f"unreadable: {exc}")
    finally:
        con.close()


# ---------------------------------------------------------------- the report of the checks


def report_path(journal: Path | str) -> Path:
    """``journal_check.json`` beside the journal: what the last checks found."""
    return Path(journal).with_name("journal_check.json")


def result_doc(res: VerifyResult, now_us: int, **extra: Any) -> dict[str, Any]:
    return {
        "at": now_us,
        "ok": res.ok,
        "first_broken": res.first_broken,
        "reason": res.reason,
        "integrity": list(res.integrity),
        "last_seq": res.last_seq,
        **extra,
    }


def read_report(journal: Path | str) -> dict[str, Any]:
    try:
        doc = json.loads(report_path(journal).read_bytes())
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def write_report(journal: Path | str, part: str, doc: dict[str, Any]) -> None:
    from actors.files import atomic_write

    report = read_report(journal)
    report[part] = doc
    atomic_write(report_path(journal), json.dumps(report, indent=1).encode())


def check_at_start(
    journal: Path | str, anchor: tuple[int, bytes] | None, now_us: int, tail: int = 5000
) -> dict[str, Any]:
    """Before the store sells: SQLite's ``quick_check`` and the chain over the last ``tail``
    events plus HQ's anchor. Written to the report as ``start``; returns it."""
    found = sqlite_check(journal, quick=True)
    res = replace(verify_tail(journal, tail, anchor), integrity=found)
    doc = result_doc(res, now_us, tail=tail)
    write_report(journal, "start", doc)
    if not res.ok:
        log.error("journal check at start: %s", summary({"start": doc}))
    return doc


def start_full_check(data_dir: Path | str) -> subprocess.Popen:
    """The whole chain and ``integrity_check``, in a child process at low priority (the tills keep
    the CPU and the ledger's GIL): ``kassa journal verify --background``, which writes ``full``."""
    write_report(Path(data_dir) / "journal.sqlite", "full", {"running": True})
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kassa_cli.main",
            "journal",
            "verify",
            "--data",
            str(data_dir),
            "--background",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def broken_at(report: dict[str, Any]) -> int | None:
    """The first seq any check found broken, or None."""
    seqs = [
        s
        for d in (report.get("start"), report.get("full"))
        if isinstance(d, dict)
        for s in [d.get("first_broken")]
        if isinstance(s, int)
    ]
    return min(seqs) if seqs else None


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """What health shows: ok, the first broken seq, why, SQLite's findings, the checks' state."""
    start, full = report.get("start") or {}, report.get("full") or {}
    seq = broken_at(report)
    found = list(dict.fromkeys((start.get("integrity") or []) + (full.get("integrity") or [])))
    reason = next(
        (
            d.get("reason")
            for d in (start, full)
            if d.get("first_broken") is not None and d.get("first_broken") == seq
        ),
        "",
    )
    out: dict[str, Any] = {
        "ok": seq is None and not found,
        "first_broken": seq,
        "reason": reason or "",
        "integrity": found[:5],
        "checked_at": start.get("at"),
        "full_check": "running" if full.get("running") else ("done" if full else "none"),
    }
    if full and not full.get("running"):
        out["full_checked_at"] = full.get("at")
    return out
