"""What a backup copies from the data folder, and how (``actors.backup``'s first half).

Every regular file of the folder but what is rebuilt, remade or meaningless on another start
(``SKIP_NAMES``, ``SKIP_SUFFIXES``, dot files). A SQLite file (``*.sqlite`` with SQLite's header:
HQ's catalogue ``hq_catalogue/hq.sqlite``, the members HQ knows ``members.sqlite``, the mail outbox,
coupons) is copied through SQLite's online backup API, never as bytes and never with its
``-wal``/``-shm``/``-journal`` beside it: a copy of one moment, self-contained, whatever its writer
was doing. The journal is copied the same way, read-only, last (``actors.backup``).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from actors.backup_archive import BackupError

__all__ = ["SKIP_NAMES", "small_files", "copy_file", "copy_journal"]

log = logging.getLogger(__name__)

# never in a backup: rebuilt, re-made or meaningless on another start
SKIP_NAMES = {
    "journal.sqlite",
    "journal.sqlite-wal",
    "journal.sqlite-shm",
    "journal.sqlite-journal",
    "journal_check.json",
    "server.json",
    "run",
    "logs",
    "snapshots",
    "backup_status.json",
}
SKIP_SUFFIXES = (".lock", ".sock", ".tmp", ".kbak", ".partial")
SQLITE_PARTS = (".sqlite-wal", ".sqlite-shm", ".sqlite-journal")  # inside the online copy
SQLITE_MAGIC = b"SQLite format 3\x00"


def _skipped(rel: Path) -> bool:
    top, name = rel.parts[0], rel.name
    return (
        top in SKIP_NAMES
        or top.startswith("analytics.duckdb")
        or name.startswith(".")
        or name.endswith(SKIP_SUFFIXES)
        or name.endswith(SQLITE_PARTS)
    )


def small_files(data_dir: Path, backups: Iterable[Path]) -> list[Path]:
    """Every regular file of the folder a backup holds besides the journal (relative paths)."""
    skip_dirs = {p.resolve() for p in backups}
    out: list[Path] = []
    for root, dirs, files in os.walk(data_dir):
        rootp = Path(root)
        dirs[:] = [
            d
            for d in sorted(dirs)
            if not os.path.islink(rootp / d)
            and (rootp / d).resolve() not in skip_dirs
            and not _skipped((rootp / d).relative_to(data_dir))
        ]
        for name in sorted(files):
            p = rootp / name
            rel = p.relative_to(data_dir)
            if not _skipped(rel) and p.is_file() and not p.is_symlink():
                out.append(rel)
    return out


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return path.name.endswith(".sqlite") and fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _copy_sqlite(src: Path, dst: Path, read_only: bool = False) -> sqlite3.Connection:
    """SQLite's online backup of ``src`` into ``dst``, in one step: one read transaction, so the
    copy is the database as of one commit while its writer goes on (a WAL writer is not held up;
    a rollback-journal one waits for the copy). Answers the open copy, one self-contained file.
    ``read_only``: the journal's ledger is the only one that may ever write it."""
    source = sqlite3.connect(f"file:{src}?mode={'ro' if read_only else 'rw'}", uri=True)
    target = sqlite3.connect(str(dst))
    try:
        source.execute("PRAGMA busy_timeout=10000")
        source.backup(target)  # pages=-1: every page in one step, under one read lock
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except BaseException:
        target.close()
        raise
    finally:
        source.close()
    os.chmod(dst, 0o600)
    return target


def copy_journal(src: Path, dst: Path) -> tuple[int, str]:
    """The journal as of one commit (``_copy_sqlite``). Returns the copy's last seq and hash."""
    try:
        target = _copy_sqlite(src, dst, read_only=True)
        try:
            row = target.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            last = row.fetchone()
        finally:
            target.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError("backup.journal_broken", f"the journal cannot be copied: {exc}") from None
    return (int(last[0]), bytes(last[1]).hex()) if last else (0, "")


def copy_file(src: Path, dst: Path) -> None:
    """One file of the folder into the backup (0600); a SQLite file through its backup API."""
    if _is_sqlite(src):
        try:
            _copy_sqlite(src, dst).close()
            return
        except sqlite3.OperationalError as exc:
            if not src.exists():
                raise FileNotFoundError(src) from None  # removed meanwhile
            # never let a side file stop the journal's backup: its bytes, as they are
            log.warning("%s: no online copy (%s); copied as it is", src, exc)
        except sqlite3.DatabaseError as exc:
            log.warning("%s: no online copy (%s); copied as it is", src, exc)
        dst.unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)
