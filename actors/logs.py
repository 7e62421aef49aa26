"""The store server's application log: ``<data>/logs/store.log``, rotated by size.

``setup_logging(data_dir)`` (called by ``actors.server.serve`` before anything else starts) adds a
rotating file handler to the root logger: at most ``MAX_BYTES`` per file, ``BACKUPS`` old files
kept (``store.log.1`` … ``store.log.5``), so the folder never holds more than about 30 MB. The
folder is 0700 and every file 0600, whatever the umask (the log names staff and tills).

Ray writes its own logs under ``run_dir(data)/ray/session_*/logs`` (``actors.wire``) and
rotates them itself, by the sizes in ``RAY_ROTATION_MAX_BYTES`` / ``RAY_ROTATION_BACKUP_COUNT``
(512 MB x 5 per file by default: far too much for a shop PC). ``setup_logging`` sets them
smaller unless the environment already does, and ``prune_ray_sessions`` removes the folders of
old Ray sessions (each start makes a new one)."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import shutil
from pathlib import Path

from actors.files import DIR_MODE, FILE_MODE

__all__ = [
    "setup_logging",
    "prune_ray_sessions",
    "PrivateRotatingHandler",
    "MAX_BYTES",
    "BACKUPS",
    "RAY_MAX_BYTES",
    "RAY_BACKUPS",
]

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
RAY_MAX_BYTES = 20 * 1024 * 1024
RAY_BACKUPS = 3
RAY_SESSIONS_KEPT = 3
FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


class PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated log file that is 0600 from its first byte, and so is each file it rotates."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.chmod(self.baseFilename, FILE_MODE)  # a file an older version left readable
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def setup_logging(
    data_dir: Path | str,
    level: int = logging.INFO,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
) -> Path:
    """Log to ``<data>/logs/store.log`` (rotated: ``max_bytes`` × ``backups``); returns its
    path. Calling it again for the same folder adds no second handler."""
    folder = Path(data_dir) / "logs"
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(folder, DIR_MODE)
    path = folder / "store.log"
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, PrivateRotatingHandler) and Path(h.baseFilename) == path.resolve():
            return path
    handler = PrivateRotatingHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
        for h in root.handlers:  # the console keeps what it showed before (warnings)
            if h is not handler and h.level == logging.NOTSET:
                h.setLevel(logging.WARNING)
    os.environ.setdefault("RAY_ROTATION_MAX_BYTES", str(RAY_MAX_BYTES))
    os.environ.setdefault("RAY_ROTATION_BACKUP_COUNT", str(RAY_BACKUPS))
    from actors.wire import run_dir

    prune_ray_sessions(run_dir(data_dir) / "ray")
    return path


def prune_ray_sessions(ray_dir: Path, keep: int = RAY_SESSIONS_KEPT) -> list[Path]:
    """Remove all but the newest ``keep`` Ray session folders in ``ray_dir`` (never the one
    ``session_latest`` points to); returns what was removed."""
    try:
        sessions = sorted(
            (p for p in ray_dir.glob("session_2*") if p.is_dir() and not p.is_symlink()),
            key=lambda p: p.name,  # session_<date>_<time>_<pid>: the name sorts by start
        )
    except OSError:
        return []
    latest = ray_dir / "session_latest"
    current = latest.resolve() if latest.is_symlink() else None
    gone = []
    for p in sessions[: max(0, len(sessions) - keep)]:
        if p.resolve() != current:
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone
