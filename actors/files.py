"""Small files the store server replaces whole (settings, catalogue, licence and upload state), and
the owner-only modes of the data folder.

Everything in a store's data folder is the shop's business (the journal holds members' names and
phones; ``auth_secret`` mints session tokens; ``cloud_secret`` signs uploads), so files are 0600 and
folders 0700: ``private_umask()`` makes every file the process creates later so, ``make_private()``
fixes what an older version (or a copy) left readable, and ``atomic_write`` creates 0600 whatever
the umask.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "private_umask", "make_private", "FILE_MODE", "DIR_MODE"]

FILE_MODE, DIR_MODE = 0o600, 0o700


def private_umask() -> None:
    """Files and folders this process (and the processes it starts: Ray, the actors, SQLite's
    -wal/-shm, DuckDB) creates from now on are owner-only."""
    os.umask(0o077)


def make_private(folder: Path) -> None:
    """Make ``folder`` and everything under it owner-only (0700 folders, 0600 files), without
    following symlinks out of it."""
    folder = Path(folder)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(folder, DIR_MODE)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, DIR_MODE)
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                try:
                    os.chmod(p, FILE_MODE)
                except FileNotFoundError:  # a temporary file that went away meanwhile
                    pass


def atomic_write(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never half:
    write a temporary file (``mode``, owner-only by default), fsync it, rename it over, fsync the
    folder. A failed write leaves no temporary file behind."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
