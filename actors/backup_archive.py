"""The ``.kbak`` file: one tar holding a store's data folder, readable with any ``tar``.

    kassa-<store>-<YYYYMMDDTHHMMSSZ>-<seq>.kbak
      manifest.json          first: store, seq, last hash, created (UTC), code and data format
                             versions, and the size and sha256 of every other member
      journal.sqlite.zst     the journal as of ``seq`` (SQLite's backup API), zstd (checksummed)
      store.json, catalogue.json, uploader.json, pin_key, auth_secret, cloud_secret, licence/...

The sha256 in the manifest is of each member's bytes as they are in the tar, so an archive is
checked without unpacking it (``check_archive``); ``extract`` checks each member while it writes
it out and refuses names outside the folder, links and members the manifest does not list.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson
import zstandard

from domain.backup_crypt import sealed_manifest
from domain.backup_format import (
    JOURNAL_MEMBER,
    MANIFEST,
    BackupError,
    Manifest,
    archive_name,
    parse_name,
    sha256_of,
)

__all__ = [
    "JOURNAL_MEMBER",
    "BackupError",
    "Manifest",
    "archive_name",
    "parse_name",
    "write_archive",
    "read_manifest",
    "check_archive",
    "extract",
    "Progress",
]

_CHUNK = 1 << 20
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def compress_file(src: Path, dst: Path) -> None:
    """``src`` zstd-compressed (with a content checksum) into ``dst``."""
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        cctx.copy_stream(fin, fout, read_size=_CHUNK, write_size=_CHUNK)


def write_archive(
    dest: Path, manifest_fields: dict[str, Any], files: dict[str, Path], fsync: bool = True
) -> Manifest:
    """Write ``dest`` (0600, created new): ``manifest.json`` first, then ``files`` (member name ->
    file on disk, in order). The sha256s are computed before the tar is written."""
    members: dict[str, dict[str, Any]] = {}
    for name, path in files.items():
        with open(path, "rb") as fh:
            digest, size = sha256_of(fh)
        members[name] = {"size": size, "sha256": digest}
    manifest = Manifest(members=members, **manifest_fields)
    raw = orjson.dumps(manifest.to_dict(), option=orjson.OPT_INDENT_2)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(raw), 0o600, manifest.created_us // 1_000_000
            tar.addfile(info, io.BytesIO(raw))
            for name, path in files.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode = members[name]["size"], 0o600
                info.mtime = manifest.created_us // 1_000_000
                with open(path, "rb") as src:
                    tar.addfile(info, src)
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())
    return manifest


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, mode="r:")
    except FileNotFoundError:
        raise BackupError("backup.not_found", f"no such file: {archive}") from None
    except (tarfile.TarError, OSError) as exc:
        raise BackupError("backup.bad_archive", f"{archive} is not a kassa backup: {exc}") from None


def read_manifest(archive: Path) -> Manifest:
    """The manifest of a backup, plain or sealed (the sealed one's header repeats it)."""
    header = sealed_manifest(archive)
    if header is not None:
        return Manifest.from_bytes(orjson.dumps(header))
    with _open(archive) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise BackupError("backup.bad_archive", f"{archive} has no manifest: not a backup")
        fh = tar.extractfile(first)
        assert fh is not None
        return Manifest.from_bytes(fh.read(1 << 20))


def _safe(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _members(tar: tarfile.TarFile, manifest: Manifest) -> Iterator[tarfile.TarInfo]:
    """Every member after the manifest, refusing what the manifest does not list."""
    seen: set[str] = set()
    for info in tar:
        if info.name == MANIFEST:
            continue
        if not info.isfile() or not _safe(info.name) or info.name not in manifest.members:
            raise BackupError(
                "backup.tampered", f"the archive holds {info.name!r}, which its manifest does not"
            )
        if info.name in seen:
            raise BackupError("backup.tampered", f"the archive holds {info.name!r} twice")
        seen.add(info.name)
        yield info
    missing = set(manifest.members) - seen
    if missing:
        raise BackupError(
            "backup.tampered", f"members missing from the archive: {', '.join(sorted(missing))}"
        )


def _copy(src: IO[bytes], out: IO[bytes] | None, want: dict[str, Any], name: str) -> None:
    h, n = hashlib.sha256(), 0
    while chunk := src.read(_CHUNK):
        h.update(chunk)
        n += len(chunk)
        if out is not None:
            out.write(chunk)
    if n != want.get("size") or h.hexdigest() != want["sha256"]:
        raise BackupError(
            "backup.tampered",
            f"{name} does not match its checksum in the manifest: the archive was changed or "
            "damaged",
        )


def check_archive(archive: Path) -> Manifest:
    """The manifest, after checking every member's size and sha256 (nothing is written)."""
    manifest = read_manifest(archive)
    with _open(archive) as tar:
        for info in _members(tar, manifest):
            fh = tar.extractfile(info)
            assert fh is not None
            _copy(fh, None, manifest.members[info.name], info.name)
    return manifest


def extract(archive: Path, folder: Path, progress: Progress | None = None) -> Manifest:
    """Unpack ``archive`` into the (new, empty) ``folder``, checking every member; the journal is
    decompressed to ``journal.sqlite``. Files are 0600, folders 0700."""
    manifest = read_manifest(archive)
    total = sum(int(m.get("size", 0)) for m in manifest.members.values())
    done = 0
    with _open(archive) as tar:
        for info in _members(tar, manifest):
            target = folder / info.name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fh = tar.extractfile(info)
            assert fh is not None
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                _copy(fh, out, manifest.members[info.name], info.name)
            done += info.size
            if progress is not None:
                progress(done, total)
    journal = folder / JOURNAL_MEMBER
    if not journal.exists():
        raise BackupError("backup.tampered", "the archive holds no journal")
    try:
        dctx = zstandard.ZstdDecompressor()
        with open(journal, "rb") as fin, open(folder / "journal.sqlite", "xb") as fout:
            dctx.copy_stream(fin, fout, read_size=_CHUNK, write_size=_CHUNK)
    except zstandard.ZstdError as exc:
        raise BackupError("backup.tampered", f"the journal does not decompress: {exc}") from None
    os.chmod(folder / "journal.sqlite", 0o600)
    journal.unlink()
    return manifest
