"""The journal's checks and their report: ``verify_journal`` (the whole chain, optionally SQLite's
``integrity_check``), ``verify_tail`` against HQ's anchor, ``check_at_start`` and
``start_full_check`` (a niced child process), all writing ``journal_check.json`` beside the
journal, which health shows (``summary``) and the uploader obeys (``broken_at``).
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from actors.journal_store import COLS, connect
from domain.journal_format import GENESIS, chain_hash

__all__ = [
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

log = logging.getLogger("actors.journal")


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


# SQLite's quick check reads the whole file (about 1 s per GiB warm, tens cold): above this size it
# is left to the full check started right after (``integrity_check``, which does all it does), so
# a start does not grow with the journal; the check never blocked selling, only delayed it
QUICK_CHECK_MAX_BYTES = 256 * 2**20


def check_at_start(
    journal: Path | str, anchor: tuple[int, bytes] | None, now_us: int, tail: int = 5000
) -> dict[str, Any]:
    """Before the store sells: SQLite's ``quick_check`` (a journal up to
    ``QUICK_CHECK_MAX_BYTES``) and the chain over the last ``tail`` events plus HQ's anchor.
    Written to the report as ``start``; returns it."""
    quick = Path(journal).stat().st_size <= QUICK_CHECK_MAX_BYTES
    found = sqlite_check(journal, quick=True) if quick else ()
    res = replace(verify_tail(journal, tail, anchor), integrity=found)
    doc = result_doc(res, now_us, tail=tail, quick_check=quick)
    write_report(journal, "start", doc)
    if not res.ok:
        log.error("journal check at start: %s", summary({"start": doc}))
    return doc


def start_full_check(data_dir: Path | str) -> subprocess.Popen:
    """The whole chain and ``integrity_check``, in a child process at low priority (the tills keep
    the CPU and the ledger's GIL): ``kassa journal verify --background``, which writes ``full``."""
    write_report(Path(data_dir) / "journal.sqlite", "full", {"running": True})
    nice = shutil.which("nice")  # low priority from its first import on: the server is starting
    return subprocess.Popen(
        [
            *([nice, "-n", "10"] if nice else []),
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
