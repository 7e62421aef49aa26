"""The data folder's format version and its forward-only migrations.

``<data>/format.json`` says which format the folder is in and which kassa wrote it:
``{"format": N, "written_by": "0.1.0", "steps": [...]}``. A folder without it is format 1 (every
folder written before formats were versioned); a new folder starts at ``FORMAT``.

At every start (``at_start``), before the journal is opened:

* a folder whose format is newer than this code knows is refused (``store.format_too_new``,
  naming the version that wrote it): an older kassa never reads, let alone writes, data it
  does not understand;
* a folder whose format is older is migrated: an automatic backup first
  (``actors.backup.take_backup(data_dir, dest, reason="before-migration")``, or a plain SQLite
  backup-API copy of the journal when the backup part is not installed), then each step in
  ``STEPS`` from the folder's format up, each recorded in ``format.json`` as it completes (a
  step runs once; a crash in the middle runs the unfinished step again, so a step is written to
  be safe to repeat).

Migrations are forward-only: there is no way back but restoring the backup taken before them.
A step runs while the tills wait (after a hand-over, ``actors.handover``): keep it to what takes
milliseconds; anything that grows with the shop's history belongs in an upcaster
(``domain.upcast``, on read) or in a background task.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from actors.files import atomic_write, make_private
from domain.error_codes.upgrade import Upgrade
from domain.errors import Conflict, Unavailable

__all__ = [
    "FORMAT",
    "FORMAT_FILE",
    "Step",
    "STEPS",
    "kassa_version",
    "read_format",
    "check",
    "at_start",
    "backup_before",
]

log = logging.getLogger(__name__)
FORMAT_FILE = "format.json"
LEGACY_FORMAT = 1  # a folder with a journal and no format.json


def kassa_version() -> str:
    try:
        from importlib.metadata import version

        return version("kassa")
    except Exception:
        return "unknown"


@dataclass(frozen=True)
class Step:
    to: int  # the format this step brings the folder to (from ``to - 1``)
    name: str
    run: Callable[[Path], None]


def _journal_records_format(data_dir: Path) -> None:
    """Format 2: the journal itself records its data format and the kassa that wrote it, so a
    journal copied out of its folder (a hand-made restore) is still recognised as format 2."""
    path = data_dir / "journal.sqlite"
    if not path.exists():
        return
    con = sqlite3.connect(str(path), isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout=10000")
        con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for key, value in (("format", "2"), ("format_written_by", kassa_version())):
            con.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
    finally:
        con.close()


STEPS: list[Step] = [Step(2, "journal records its format", _journal_records_format)]
FORMAT = max((s.to for s in STEPS), default=LEGACY_FORMAT)


def _doc(data_dir: Path) -> dict[str, Any] | None:
    path = Path(data_dir) / FORMAT_FILE
    try:
        doc = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        raise Conflict(Upgrade.BAD_FORMAT, f"{path} is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("format"), int):
        raise Conflict(Upgrade.BAD_FORMAT, f"{path} has no format number")
    return doc


def _journal_format(data_dir: Path) -> int:
    path = Path(data_dir) / "journal.sqlite"
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row and str(row[0]).isdigit() else 0


def read_format(data_dir: Path) -> tuple[int | None, str]:
    """(format, written_by) of the folder; (None, "") for a new folder (no journal yet)."""
    data_dir = Path(data_dir)
    doc = _doc(data_dir)
    if doc is not None:
        return int(doc["format"]), str(doc.get("written_by", "unknown"))
    if (data_dir / "journal.sqlite").exists():
        return LEGACY_FORMAT, "kassa before 0.2 (no format.json)"
    return None, ""


def check(data_dir: Path) -> tuple[int | None, str]:
    """Refuse a folder written in a newer format than this code knows (``store.format_too_new``)."""
    fmt, by = read_format(data_dir)
    journal = _journal_format(data_dir)
    if journal > FORMAT and (fmt is None or journal > fmt):
        fmt, by = journal, by or "a newer kassa"
    if fmt is not None and fmt > FORMAT:
        raise Conflict(
            Upgrade.FORMAT_TOO_NEW,
            f"the data folder {data_dir} is in format {fmt}, written by kassa {by}; this kassa "
            f"{kassa_version()} reads formats up to {FORMAT}. Run kassa {by} or newer "
            "(a downgrade is not supported), or restore a backup taken before the upgrade.",
            format=fmt,
            written_by=by,
            known=FORMAT,
        )
    return fmt, by


def _write(data_dir: Path, fmt: int, steps: list[dict[str, Any]]) -> None:
    doc = {"format": fmt, "written_by": kassa_version(), "steps": steps}
    atomic_write(Path(data_dir) / FORMAT_FILE, orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def backup_before(data_dir: Path, dest: Path | None = None) -> Path:
    """The automatic backup before a migration: the backup part's archive when it is installed,
    else a consistent copy of the journal (SQLite backup API) and the settings."""
    data_dir = Path(data_dir)
    dest = dest or data_dir.absolute().parent / "kassa-backups"
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        from actors.backup import take_backup  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        log.warning("actors.backup is not installed: copying the journal before the migration")
    else:
        from actors.backup_seal import ensure_key

        out: Path = take_backup(data_dir, dest, "before-migration", key=ensure_key(data_dir))
        return out
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = dest / f"before-migration-{stamp}"
    folder.mkdir(mode=0o700)
    src = sqlite3.connect(f"file:{data_dir / 'journal.sqlite'}?mode=ro", uri=True)
    dst = sqlite3.connect(str(folder / "journal.sqlite"))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    for name in ("store.json", "format.json", "catalogue.json", "uploader.json", "tills.json"):
        if (data_dir / name).exists():
            atomic_write(folder / name, (data_dir / name).read_bytes())
    make_private(folder)
    return folder


def at_start(data_dir: Path, backup_dir: Path | None = None) -> list[str]:
    """Check the folder's format and run the migrations it needs (backup first); the names of
    the steps run. A new folder is written at ``FORMAT`` at once."""
    data_dir = Path(data_dir)
    fmt, _ = check(data_dir)
    if fmt is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        _write(data_dir, FORMAT, [])
        return []
    doc = _doc(data_dir) or {}
    done: list[dict[str, Any]] = list(doc.get("steps") or [])
    todo = [s for s in STEPS if s.to > fmt]
    if not todo:
        if not (data_dir / FORMAT_FILE).exists():
            _write(data_dir, fmt, done)
        return []
    t0 = time.perf_counter()
    archive = backup_before(data_dir, backup_dir)
    log.warning("format %s -> %s: backup %s taken first", fmt, FORMAT, archive)
    ran = []
    for step in sorted(todo, key=lambda s: s.to):
        try:
            step.run(data_dir)
        except Exception as exc:
            log.exception("migration to format %s (%s) failed", step.to, step.name)
            raise Unavailable(
                Upgrade.MIGRATION_FAILED,
                f"the migration to format {step.to} ({step.name}) failed: {exc}; the backup "
                f"taken before it is {archive}",
                backup=str(archive),
            ) from exc
        done.append(
            {
                "to": step.to,
                "name": step.name,
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "by": kassa_version(),
                "backup": str(archive),
            }
        )
        _write(data_dir, step.to, done)
        ran.append(step.name)
    log.warning("data folder migrated to format %s in %.3f s", FORMAT, time.perf_counter() - t0)
    return ran
