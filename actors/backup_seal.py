"""Backup files encrypted at rest (``domain.backup_crypt``: AES-256-GCM) with the store's backup
key, ``<data>/backup.key`` (0600, 64 hex digits, made at the first backup).

Every backup kassa writes for keeping — scheduled ones, ``kassa store backup``, the one before a
migration — is sealed with this key; so is what goes to HQ (the same file), and HQ holds only
ciphertext. The plain archive is built in a hidden folder inside the data folder (the store PC's
own disk) and only its sealed form is written to the backup folder or USB disk. A restore needs
the key (``kassa store restore --key FILE``): the owner keeps a copy of it away from the store PC
(``kassa store backup-key`` prints it), since a dead PC takes its data folder's copy with it.

``kassa store backup-key rotate`` (``rotate_key``) gives the store a new key for its next backups
and keeps the old one beside it as ``backup.key.N`` (N = 1, 2, ...: the highest is the newest
old key), so the backups it sealed still open: a restore given ``--key FILE`` also tries the
``FILE.N`` beside it, and uses the one whose id the backup's header names.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from domain.backup_crypt import (
    decrypt_stream,
    encrypt_stream,
    is_encrypted,
    key_id,
    parse_key,
    read_header,
)
from domain.backup_format import BackupError
from domain.error_codes.it16 import It16

__all__ = [
    "KEY_FILE",
    "ensure_key",
    "key_id",
    "load_key",
    "load_keys",
    "rotate_key",
    "seal",
    "fsync_dir",
    "opened",
    "sealed",
]

KEY_FILE = "backup.key"


def ensure_key(data_dir: Path) -> bytes:
    """The store's backup key, made by the first caller (0600 in the data folder)."""
    from actors.staff import _owner_secret

    return _owner_secret(Path(data_dir) / KEY_FILE)


def load_key(path: Path) -> bytes:
    """A backup key from its file (``--key FILE``)."""
    try:
        return parse_key(Path(path).read_text())
    except OSError as exc:
        raise BackupError(It16.BAD_KEY, f"cannot read the backup key {path}: {exc}") from None


def _kept(path: Path) -> list[tuple[int, Path]]:
    """The old keys kept beside the key file ``path`` (``path.N``), newest (highest N) first."""
    out = []
    for p in Path(path).parent.glob(Path(path).name + ".*"):
        n = p.name.rsplit(".", 1)[1]
        if n.isdigit():
            out.append((int(n), p))
    return sorted(out, reverse=True)


def rotate_key(data_dir: Path) -> tuple[bytes, Path]:
    """A new backup key for the store's next backups; the current one is kept beside it as
    ``backup.key.N`` (the old backups need it). Answers the new key and where the old one is.
    At every moment ``backup.key`` holds a whole key (the new one is renamed over it)."""
    path = Path(data_dir) / KEY_FILE
    ensure_key(data_dir)  # a store that never made a backup: its first key, kept as .1
    n = max((k for k, _ in _kept(path)), default=0) + 1
    old = path.with_name(f"{KEY_FILE}.{n}")
    os.link(path, old)  # fails rather than overwrite a kept key
    from actors.staff import _owner_secret

    tmp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(4)}.new")
    _owner_secret(tmp)  # the new key, 0600, on disk
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return load_key(path), old


def fsync_dir(folder: Path) -> None:
    """A folder's entries (a rename, a new file) on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_keys(path: Path) -> list[bytes]:
    """The key in ``path`` and the old keys kept beside it (``path.N``, newest first)."""
    return [load_key(path)] + [load_key(p) for _, p in _kept(Path(path))]


def sealed(path: Path) -> bool:
    """Whether ``path`` is an encrypted backup."""
    try:
        with open(path, "rb") as fh:
            return is_encrypted(fh.read(32))
    except OSError:
        return False


def seal(plain: Path, dest: Path, key: bytes, manifest: dict[str, Any]) -> None:
    """Write ``plain`` (a backup tar) sealed with ``key`` as ``dest`` (0600, created new)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(plain, "rb") as src:
        encrypt_stream(src, plain.stat().st_size, out, key, manifest)
        out.flush()
        os.fsync(out.fileno())


def _key_for(archive: Path, keys: list[bytes]) -> bytes:
    """Of ``keys``, the one whose id ``archive``'s header names (else the first: refused)."""
    with open(archive, "rb") as fh:
        wanted = read_header(fh)[0].get("key_id")
    return next((k for k in keys if key_id(k) == wanted), keys[0])


def opened(archive: Path, key: bytes | list[bytes] | None, work: Path) -> Path:
    """``archive`` itself if it is a plain backup; else its plain tar, opened with ``key`` (or
    the one of several keys it was sealed with) into a new 0600 file in ``work`` (the caller
    removes it). No key: ``backup.key_missing``."""
    if not sealed(archive):
        return archive
    if isinstance(key, list):
        key = _key_for(archive, key) if key else None
    if key is None:
        raise BackupError(
            It16.KEY_MISSING,
            f"{archive} is encrypted: give the store's backup key with --key FILE",
        )
    out = Path(work) / f".kassa-opened-{secrets.token_hex(4)}.kbak"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as dst, open(archive, "rb") as src:
            decrypt_stream(src, dst, key)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out
