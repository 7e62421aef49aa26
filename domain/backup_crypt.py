"""Backups encrypted at rest: AES-256-GCM with the store's backup key (``<data>/backup.key``).

An encrypted backup is the plain ``.kbak`` tar sealed in pieces::

    MAGIC (18 bytes) | header length (4 bytes, big-endian) | header (JSON) | sealed pieces

The header is in the clear and holds the manifest's public fields (store, seq, the chain's hash
at that seq, when, versions: nothing personal), so HQ can check whose backup it keeps and list
it without the key; it is bound to every piece as associated data, so changing it breaks the
file. Each piece is ``PIECE`` bytes of the tar (the last one shorter), sealed with a nonce of
the header's random 8-byte prefix and the piece's number; the associated data also says which
piece is the last, so a file cut short, with pieces swapped, dropped or from another backup is
refused, as is a wrong key (``backup.key_wrong``). The key never goes into the header: only its
id (the first 8 bytes of its SHA-256, in hex) to say which key is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.backup_format import BackupError
from domain.error_codes.it16 import It16

__all__ = [
    "MAGIC",
    "PIECE",
    "key_id",
    "parse_key",
    "is_encrypted",
    "read_header",
    "sealed_manifest",
    "encrypt_stream",
    "decrypt_stream",
]

MAGIC = b"KASSA-BACKUP-AES1\n"
PIECE = 1 << 20
TAG = 16
MAX_HEADER = 64 * 1024


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def parse_key(text: str) -> bytes:
    """The key from its file's text (64 hex digits)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupError(It16.BAD_KEY, "a backup key is 64 hex digits (backup.key)")
    return key


def is_encrypted(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first bytes) is an encrypted backup."""
    return head.startswith(MAGIC)


def read_header(fh: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    """The header of an encrypted backup (``fh`` at its start) and its raw bytes."""
    if fh.read(len(MAGIC)) != MAGIC:
        raise BackupError("backup.bad_archive", "not an encrypted kassa backup")
    size = fh.read(4)
    n = struct.unpack(">I", size)[0] if len(size) == 4 else MAX_HEADER + 1
    raw = fh.read(n) if n <= MAX_HEADER else b""
    try:
        header = json.loads(raw)
    except ValueError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("manifest"), dict):
        raise BackupError("backup.bad_archive", "the encrypted backup's header is damaged")
    return header, raw


def sealed_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest in a sealed backup's header; None for a file that is not sealed."""
    try:
        with open(path, "rb") as fh:
            if not is_encrypted(fh.read(len(MAGIC))):
                return None
            fh.seek(0)
            manifest: dict[str, Any] = read_header(fh)[0]["manifest"]
            return manifest
    except OSError:
        return None


def _aad(raw_header: bytes, index: int, last: bool) -> bytes:
    return hashlib.sha256(MAGIC + raw_header).digest() + struct.pack(">Q?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def encrypt_stream(
    src: IO[bytes], size: int, dst: IO[bytes], key: bytes, manifest: dict[str, Any]
) -> None:
    """Seal ``size`` bytes of ``src`` (a plain backup) into ``dst``."""
    if size >= PIECE * 2**32:
        raise BackupError("backup.failed", "the backup is too large to encrypt")
    prefix = os.urandom(8)
    header = {"manifest": manifest, "key_id": key_id(key), "piece": PIECE, "size": size,
              "nonce": prefix.hex(), "cipher": "AES-256-GCM"}  # fmt: skip
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    dst.write(MAGIC + struct.pack(">I", len(raw)) + raw)
    aes = AESGCM(key)
    pieces = max(1, -(-size // PIECE))
    for i in range(pieces):
        chunk = src.read(min(PIECE, size - i * PIECE))
        if len(chunk) != min(PIECE, size - i * PIECE):
            raise BackupError("backup.failed", "the backup changed while it was encrypted")
        dst.write(aes.encrypt(_nonce(prefix, i), chunk, _aad(raw, i, i == pieces - 1)))


def decrypt_stream(src: IO[bytes], dst: IO[bytes], key: bytes) -> dict[str, Any]:
    """Open an encrypted backup from ``src`` into ``dst`` (the plain tar); answers its header.
    A wrong key or any change to the file is ``backup.key_wrong``; nothing written to ``dst``
    may then be used."""
    header, raw = read_header(src)
    if header.get("key_id") != key_id(key):
        raise BackupError(
            It16.KEY_WRONG,
            f"this backup needs the backup key {header.get('key_id')}, not {key_id(key)}",
        )
    try:
        size, piece = int(header["size"]), int(header["piece"])
        prefix = bytes.fromhex(header["nonce"])
    except (KeyError, TypeError, ValueError):
        raise BackupError(
            "backup.bad_archive", "the encrypted backup's header is damaged"
        ) from None
    aes = AESGCM(key)
    pieces = max(1, -(-size // piece))
    for i in range(pieces):
        want = min(piece, size - i * piece) + TAG
        sealed = src.read(want)
        try:
            if len(sealed) != want:
                raise InvalidTag
            dst.write(aes.decrypt(_nonce(prefix, i), sealed, _aad(raw, i, i == pieces - 1)))
        except InvalidTag:
            raise BackupError(
                It16.KEY_WRONG, f"piece {i} of the backup does not open: changed or cut short"
            ) from None
    if src.read(1):
        raise BackupError(It16.KEY_WRONG, "the backup has bytes after its last piece")
    return header
