"""Backups of a store's data folder, taken while the tills sell, and their restore.

``take_backup(data_dir, dest_dir)`` writes one ``.kbak`` file (``actors.backup_archive``): the
small files first (settings, catalogue, upload state and HQ's anchor, licence, tills, the store's
secrets, and the other SQLite files: HQ's catalogue ``hq_catalogue/hq.sqlite``, the members HQ
knows ``members.sqlite``, the mail outbox, coupons), then the journal through SQLite's online
backup API in one step — a consistent copy as of one commit, taken while the ledger keeps
committing (WAL: the copy reads, the ledger writes). Every ``*.sqlite`` file is copied the same
way (never its ``-wal``/``-shm``/``-journal`` beside it): a copy of one moment, self-contained,
whatever its writer was doing.
Because ``uploader.json`` is copied before the journal, HQ's anchor in it never lies past the
journal's end. Never copied: the rebuildable analytics copy and snapshots, logs, sockets, locks.

``restore(archive, data_dir)`` unpacks into a new folder beside ``data_dir``, checks every
member's sha256, the journal's whole hash chain (``actors.journal_check.verify_journal``, with
SQLite's integrity check) against the manifest's seq and hash and HQ's anchor, optionally appends
the events HQ holds past the backup (``tail``), and only then renames the folder into place:
a refused restore leaves nothing behind.

The schedule in the running server and the prune policy: ``actors.backup_schedule``; HQ's copy:
``actors.backup_hq``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from actors.backup_archive import (
    JOURNAL_MEMBER,
    BackupError,
    Manifest,
    Progress,
    archive_name,
    compress_file,
    extract,
    parse_name,
    read_manifest,
    write_archive,
)
from actors.backup_copy import copy_file, copy_journal, small_files
from actors.backup_hq import append_tail as _append_tail
from actors.backup_seal import fsync_dir, opened, seal
from actors.journal_check import verify_journal, verify_tail

__all__ = [
    "take_backup",
    "restore",
    "BackupError",
    "Manifest",
    "read_manifest",
    "backups_in",
    "start_schedule",
    "code_version",
]


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kassa")
    except PackageNotFoundError:
        return "unknown"


def data_format(data_dir: Path) -> int:
    """The data folder's format (``<data>/format.json``, written by upgrades); 1 before it."""
    try:
        return int(orjson.loads((data_dir / "format.json").read_bytes()).get("format", 1))
    except (OSError, orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return 1


def store_id_of(data_dir: Path) -> str:
    try:
        return str(orjson.loads((data_dir / "store.json").read_bytes())["store_id"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        raise BackupError(
            "backup.no_data", f"{data_dir} holds no store (no readable store.json)"
        ) from None


def take_backup(
    data_dir: Path,
    dest_dir: Path,
    reason: str = "manual",
    now_us: int | None = None,
    key: bytes | None = None,
) -> Path:
    """One backup of ``data_dir`` into ``dest_dir`` (created if missing); returns its path. With
    ``key`` it is sealed (``actors.backup_seal``), built on the data folder's own disk."""
    data_dir, dest_dir = Path(data_dir), Path(dest_dir)
    journal = data_dir / "journal.sqlite"
    if not journal.exists():
        raise BackupError("backup.no_data", f"{data_dir} holds no journal: nothing to back up")
    store = store_id_of(data_dir)
    dest_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stage = (data_dir if key else dest_dir) / f".kassa-partial-{os.getpid()}-{secrets.token_hex(4)}"
    stage.mkdir(mode=0o700)
    try:
        files: dict[str, Path] = {}
        for rel in small_files(data_dir, [dest_dir]):  # before the journal: see the docstring
            target = stage / "files" / rel
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                copy_file(data_dir / rel, target)
            except FileNotFoundError:  # replaced or removed meanwhile (a temporary file)
                continue
            files[rel.as_posix()] = target
        copy = stage / "journal.sqlite"
        seq, head = copy_journal(journal, copy)
        from actors.uploader import anchor_of

        checked = verify_tail(copy, 5000, anchor_of(stage / "files"))
        if not checked.ok:
            raise BackupError(
                "backup.journal_broken",
                f"the journal's chain breaks at seq {checked.first_broken} ({checked.reason}): "
                "run kassa journal verify; no backup was written",
            )
        compress_file(copy, stage / JOURNAL_MEMBER)
        copy.unlink()
        created = now_us if now_us is not None else int(datetime.now(UTC).timestamp() * 1e6)
        name = archive_name(store, created, seq)
        partial = stage / (name + ".partial")
        manifest = write_archive(
            partial,
            {
                "store": store,
                "seq": seq,
                "hash": head,
                "created": datetime.fromtimestamp(created / 1e6, UTC).isoformat(),
                "created_us": created,
                "code_version": code_version(),
                "data_format": data_format(data_dir),
                "reason": reason,
            },
            {JOURNAL_MEMBER: stage / JOURNAL_MEMBER, **files},
        )
        if key:  # only the sealed file reaches the backup folder
            sealed_part = dest_dir / f".{name}.{secrets.token_hex(4)}.partial"
            seal(partial, sealed_part, key, manifest.to_dict())
            partial = sealed_part
        final = _place(partial, dest_dir, store, created, seq)
        fsync_dir(dest_dir)
        return final
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _place(partial: Path, dest_dir: Path, store: str, created_us: int, seq: int) -> Path:
    """Link the finished file in under its name, never over another backup: two backups of one
    seq in the same second (a scheduled one and a manual one) would share a name, so the later
    one is named a second on (its manifest keeps the true time)."""
    for bump in range(3600):
        final = dest_dir / archive_name(store, created_us + bump * 1_000_000, seq)
        try:
            os.link(partial, final)
        except FileExistsError:
            continue
        except OSError:  # a stick without hard links (FAT): check, then rename
            if final.exists():
                continue
            os.replace(partial, final)
            return final
        partial.unlink()
        return final
    raise BackupError("backup.failed", f"no free backup name in {dest_dir}")


def backups_in(folder: Path, store: str | None = None) -> list[Path]:
    """The backups in ``folder`` (of ``store`` if given), oldest first."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for n in names:
        parsed = parse_name(n)
        if parsed is not None and (store is None or parsed[0] == store):
            found.append((parsed[1], parsed[2], folder / n))
    return [p for _, _, p in sorted(found)]


# ---------------------------------------------------------------- restore


def _server_running(data_dir: Path) -> bool:
    from actors.recovery import LOCK_NAME, _take_lock

    if not (data_dir / LOCK_NAME).exists():
        return False
    fd = _take_lock(data_dir / LOCK_NAME)
    if fd is None:
        return True
    os.close(fd)
    return False


def _check_journal(folder: Path, manifest: Manifest, hq: tuple[int, bytes] | None) -> Any:
    from actors.uploader import anchor_of

    journal = folder / "journal.sqlite"
    con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT hash FROM events WHERE seq = ?", (manifest.seq,)).fetchone()
        mine = anchor_of(folder)
        other = mine and con.execute("SELECT hash FROM events WHERE seq = ?", (mine[0],)).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError("backup.journal_broken", f"the journal is unreadable: {exc}") from None
    finally:
        con.close()
    if manifest.seq and (row is None or bytes(row[0]).hex() != manifest.hash):
        raise BackupError(
            "backup.tampered", f"the journal does not end at the manifest's seq {manifest.seq}"
        )
    if mine is not None and (not other or bytes(other[0]) != mine[1]):
        raise BackupError(
            "backup.anchor_mismatch",
            f"the journal differs from the event HQ acknowledged at seq {mine[0]}",
        )
    res = verify_journal(journal, anchor=hq, integrity=True)
    if not res.ok:
        where = f"seq {res.first_broken}: {res.reason}" if res.first_broken else ""
        found = "; ".join(res.integrity[:3])
        raise BackupError(
            "backup.anchor_mismatch" if "HQ" in res.reason else "backup.journal_broken",
            f"the restored journal does not verify ({where or found}); nothing was restored",
        )
    return res


def _write_anchor(folder: Path, store: str, seq: int, head: bytes) -> None:
    from actors.files import atomic_write

    path = folder / "uploader.json"
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        doc = {}
    if int((doc.get("anchor") or {}).get("seq", 0)) < seq:
        doc.update(store=store, acked=seq, anchor={"seq": seq, "hash": head.hex()})
        atomic_write(path, orjson.dumps(doc))


def restore(
    archive: Path,
    data_dir: Path,
    force: bool = False,
    *,
    hq_head: tuple[int, bytes] | None = None,
    tail: Iterable[tuple] = (),
    progress: Progress | None = None,
    key: bytes | list[bytes] | None = None,
) -> dict[str, Any]:
    """Restore ``archive`` as ``data_dir``. ``hq_head`` is HQ's (held seq, hash) and ``tail`` the
    events HQ holds past the backup (``--from-hq``); ``key`` opens a sealed backup (of several
    keys, the one it was sealed with: ``actors.backup_seal.load_keys``). Returns what was done."""
    archive, data_dir = Path(archive), Path(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    plain = opened(archive, key, data_dir.parent) if archive.exists() else archive
    try:
        return _restore(plain, data_dir, force, hq_head, tail, progress)
    finally:
        if plain != archive:
            plain.unlink(missing_ok=True)


def _restore(
    archive: Path,
    data_dir: Path,
    force: bool,
    hq_head: tuple[int, bytes] | None,
    tail: Iterable[tuple],
    progress: Progress | None,
) -> dict[str, Any]:
    exists = data_dir.exists()
    if exists and any(data_dir.iterdir()):
        if not force:
            raise BackupError(
                "backup.folder_not_empty",
                f"{data_dir} is not empty: restore into a new folder, or add --force "
                "(the folder is kept beside it, renamed)",
            )
        if _server_running(data_dir):
            raise BackupError(
                "backup.server_running", f"a store server runs on {data_dir}: stop it first"
            )
    manifest = read_manifest(archive)
    tmp = data_dir.parent / f".{data_dir.name}.restoring-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o700)
    try:
        extract(archive, tmp, progress)
        appended = 0
        if hq_head is not None and hq_head[0] > manifest.seq:
            appended = _append_tail(tmp / "journal.sqlite", tail)
        res = _check_journal(tmp, manifest, hq_head)
        if hq_head is not None and hq_head[0] > res.last_seq:
            raise BackupError(
                "backup.behind_hq",
                f"HQ holds events up to seq {hq_head[0]} but only {res.last_seq} could be restored",
            )
        if hq_head is not None and hq_head[0]:
            _write_anchor(tmp, manifest.store, hq_head[0], hq_head[1])
        kept = None
        if exists and any(data_dir.iterdir()):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = data_dir.with_name(f"{data_dir.name}.before-restore-{stamp}")
            os.rename(data_dir, kept)
        elif exists:
            data_dir.rmdir()
        os.rename(tmp, data_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {
        "store": manifest.store,
        "backup_seq": manifest.seq,
        "seq": res.last_seq,
        "appended_from_hq": appended,
        "created": manifest.created,
        "kept_old_folder": str(kept) if kept else None,
    }


def start_schedule(server: Any) -> Any:
    """Start scheduled backups in the running store server (``actors.backup_schedule``)."""
    from actors.backup_schedule import start_schedule as start

    return start(server)
