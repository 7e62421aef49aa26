"""Where the uploader's backlog and progress live: ``Source`` (the journal read after a seq:
``JournalFileSource`` over its own read-only connection, ``JournalSource`` over an open journal)
and the persisted state (``FileState``, replaced atomically, or ``MemoryState``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

from actors.files import atomic_write
from domain.journal_format import COLUMNS, Envelope, envelope_of

__all__ = ["Source", "MemoryState", "FileState", "JournalFileSource", "JournalSource"]

log = logging.getLogger("actors.uploader")


class Source(Protocol):
    async def read(self, after: int, limit: int) -> list[Envelope]: ...

    async def last_seq(self) -> int: ...


# ---------------------------------------------------------------- progress


class MemoryState:
    def __init__(self, initial: dict | None = None) -> None:
        self.data = dict(initial or {})

    def load(self) -> dict:
        return dict(self.data)

    def save(self, data: dict) -> None:
        self.data = dict(data)


class FileState:
    """A small JSON file replaced atomically (write temp, fsync, rename, fsync the folder)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("uploader state %s unreadable; starting from the cloud's answer", self.path)
            return {}

    def save(self, data: dict) -> None:
        atomic_write(self.path, json.dumps(data).encode())


# ---------------------------------------------------------------- sources


class JournalFileSource:
    """Reads the journal file through its own read-only SQLite connection (WAL lets it read while
    the ledger writes), so batches don't travel through the ledger actor."""

    def __init__(self, path: Path | str) -> None:
        from actors.journal import connect

        self.con = connect(path, readonly=True)
        self.path = Path(path)
        self.upto = 1 << 62  # the uploader's limit: nothing at or past a reported break

    def broken_at(self) -> int | None:
        """The first seq the journal checks (``journal_check.json``) found broken, or None."""
        from actors.journal import broken_at, read_report

        return broken_at(read_report(self.path))

    async def read(self, after: int, limit: int) -> list[Envelope]:
        return [
            envelope_of(r)
            for r in self.con.execute(
                f"SELECT {COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (after, self.upto, limit),
            )
        ]

    async def last_seq(self) -> int:
        return self.con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def close(self) -> None:
        self.con.close()


class JournalSource:
    """A source over an open ``actors.journal.Journal`` (same process), e.g. for a bench."""

    def __init__(self, journal: Any) -> None:
        self.journal = journal

    async def read(self, after: int, limit: int) -> list[Envelope]:
        return self.journal.read(after, limit)

    async def last_seq(self) -> int:
        r = self.journal.con.execute("SELECT max(seq) FROM events").fetchone()
        return r[0] or 0
