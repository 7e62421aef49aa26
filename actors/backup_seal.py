"""Backup files encrypted at rest (``domain.backup_crypt``: AES-256-GCM) with the store's backup
key, ``<data>/backup.key`` (0600, 64 hex digits, made at the first backup).

Every backup kassa writes for keeping — scheduled ones, ``kassa store backup``, the one before a
migration — is sealed with this key; so is what goes to HQ (the same file), and HQ holds only
ciphertext. The plain archive is built in a hidden folder inside the data folder (the store PC's
own disk) and only its sealed form is written to the backup folder or USB disk. A restore needs
the key (``kassa store restore --key FILE``): the owner keeps a copy of it away from the store PC
(``kassa store backup-key`` prints it), since a dead PC takes its data folder's copy with it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from domain.backup_crypt import decrypt_stream, encrypt_stream, is_encrypted, key_id, parse_key
from domain.backup_format import BackupError
from domain.error_codes.it16 import It16

__all__ = ["KEY_FILE", "ensure_key", "key_id", "load_key", "seal", "opened", "sealed"]

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


def opened(archive: Path, key: bytes | None, work: Path) -> Path:
    """``archive`` itself if it is a plain backup; else its plain tar, opened with ``key`` into a
    new 0600 file in ``work`` (the caller removes it). No key: ``backup.key_missing``."""
    if not sealed(archive):
        return archive
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
