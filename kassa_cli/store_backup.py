"""``kassa store backup`` and ``kassa store restore`` (``actors.backup``).

kassa store backup  --data DIR [--to FOLDER]          while the server runs, or stopped
kassa store restore --data DIR --from FILE [--key FILE] [--force]
kassa store restore --data DIR --from-hq --cloud URL --store ID --secret HEX --key FILE
kassa store backup-key [rotate] --data DIR           the key backups are encrypted with; a new one
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

__all__ = ["register"]


def register(ssub: argparse._SubParsersAction) -> None:
    b = ssub.add_parser(
        "backup", help="back the store up into one .kbak file (safe while the tills sell)"
    )
    b.add_argument("--data", type=Path, default=Path("kassa-data"))
    b.add_argument(
        "--to",
        type=Path,
        default=None,
        help="the folder to write to (default: store.json backup.dirs, else DATA/../kassa-backups)",
    )
    b.add_argument("--reason", default="manual", help=argparse.SUPPRESS)
    b.add_argument(
        "--scheduled",
        action="store_true",
        help="what the server's schedule runs: every configured folder, prune, send to HQ",
    )
    b.add_argument("--no-hq", action="store_true", help="do not send the backup to HQ")
    b.set_defaults(func=_backup)
    r = ssub.add_parser("restore", help="restore a store from a backup file or HQ's copy")
    r.add_argument("--data", type=Path, required=True, help="the data folder to restore into")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", type=Path, help="a .kbak file")
    src.add_argument(
        "--from-hq",
        action="store_true",
        help="HQ's newest backup, then every event HQ holds past it",
    )
    r.add_argument("--cloud", help="HQ's cloud URL (--from-hq)")
    r.add_argument("--store", help="the store id (--from-hq)")
    r.add_argument("--secret", help="the store's upload secret, hex (--from-hq)")
    r.add_argument(
        "--key",
        type=Path,
        help="the store's backup key file (backup.key): backups are encrypted with it; the old "
        "keys kept beside it (backup.key.1, .2, ...) open the backups they sealed",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="replace a folder that is not empty (it is kept beside, renamed)",
    )
    r.set_defaults(func=_restore)
    k = ssub.add_parser(
        "backup-key",
        help="print the backup key (keep a copy away from the store PC), or rotate it",
    )
    k.add_argument(
        "action",
        nargs="?",
        choices=("show", "rotate"),
        default="show",
        help="rotate: a new key for the next backups; the old one is kept as backup.key.N",
    )
    k.add_argument("--data", type=Path, default=Path("kassa-data"))
    k.set_defaults(func=_backup_key)


def _backup_key(args: argparse.Namespace) -> int:
    from actors.backup_seal import KEY_FILE, ensure_key, key_id, load_key, rotate_key

    if args.action == "rotate":
        key, kept = rotate_key(args.data)
        print(key.hex())
        print(
            f"a new backup key for {args.data} (id {key_id(key)}): the next backups are "
            f"encrypted with it. The old key is kept as {kept} (id {key_id(load_key(kept))}): "
            "the backups it sealed (here, on the backup disks and at HQ) still need it, and "
            f"restore --key {args.data / KEY_FILE} tries it too. Keep a copy of the new key away "
            "from the store PC, beside the old one.",
            file=sys.stderr,
        )
        return 0
    key = ensure_key(args.data)
    print(key.hex())
    print(
        f"the backup key of {args.data} ({args.data / KEY_FILE}, id {key_id(key)}): backups are "
        "encrypted with it and HQ cannot open them; keep a copy away from the store PC (printed, "
        "or on a USB stick kept apart from the backup disk). A restore needs it: --key FILE.",
        file=sys.stderr,
    )
    return 0


class _Progress:
    """Progress of a big file on standard error, at most a few times a second."""

    def __init__(self, what: str) -> None:
        self.what, self.last = what, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total < (8 << 20) or (now - self.last < 0.5 and done < total):
            return
        self.last = now
        pct = 100 * done / total if total else 100
        end = "\n" if done >= total else "\r"
        print(
            f"  {self.what} {done / 1e6:.1f} of {total / 1e6:.1f} MB ({pct:.0f} %)",
            end=end,
            file=sys.stderr,
            flush=True,
        )


def _backup(args: argparse.Namespace) -> int:
    from actors.backup import BackupError, read_manifest, take_backup
    from actors.backup_schedule import default_dir, run_scheduled, settings
    from actors.backup_seal import ensure_key

    os.umask(0o077)
    if args.scheduled:
        try:
            os.nice(19)  # the lowest CPU priority: the tills come first
        except OSError:
            pass
        doc = run_scheduled(args.data, args.reason, upload=not args.no_hq)
        for res in doc["results"]:
            state = f"{res['file']} ({res['size'] / 1e6:.1f} MB)" if res["ok"] else res["error"]
            print(f"{res['dir']}: {state}")
        if doc.get("hq"):
            hq = doc["hq"]
            print(f"HQ: {'sent' if hq.get('ok') else hq.get('error') or hq.get('skipped')}")
        return 0 if any(r["ok"] for r in doc["results"]) else 1
    conf = settings(args.data)
    dest = args.to
    if dest is None:
        dest = Path(conf["dirs"][0]) if conf["dirs"] else default_dir(args.data)
        if not dest.is_absolute():
            dest = args.data / dest
    try:
        path = take_backup(args.data, dest, args.reason, key=ensure_key(args.data))
    except BackupError as exc:
        print(f"no backup: {exc.message}", file=sys.stderr)
        return 1
    m = read_manifest(path)
    print(f"backup of store {m.store} up to journal seq {m.seq}: {path}")
    print(f"  {path.stat().st_size / 1e6:.1f} MB, {len(m.members)} files, taken {m.created}")
    if not args.no_hq and conf["to_hq"]:
        from actors.backup_hq import upload_newest

        hq = upload_newest(args.data, path)
        if hq.get("ok"):
            print("  sent to HQ")
        elif hq.get("error"):
            print(f"  not sent to HQ: {hq['error']}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from actors.backup import BackupError, restore
    from actors.backup_seal import load_keys

    os.umask(0o077)
    try:
        if args.from_hq:
            out = _from_hq(args)
        else:
            key = load_keys(args.key) if args.key else None
            out = restore(
                args.source, args.data, args.force, progress=_Progress("checked"), key=key
            )
    except BackupError as exc:
        print(f"not restored: {exc.message}", file=sys.stderr)
        return 1
    print(f"store {out['store']} restored into {args.data}: journal up to seq {out['seq']}")
    print(f"  backup taken {out['created']} at seq {out['backup_seq']}")
    if out["appended_from_hq"]:
        print(f"  {out['appended_from_hq']} later events received by HQ appended, chain checked")
    if out["kept_old_folder"]:
        print(f"  the folder it replaced is kept as {out['kept_old_folder']}")
    print(f"  start it: kassa store serve --data {args.data}")
    return 0


def _from_hq(args: argparse.Namespace) -> dict:
    from actors.backup import BackupError, read_manifest, restore
    from actors.backup_hq import HqBackups

    missing = [k for k in ("cloud", "store", "secret") if not getattr(args, k)]
    if missing:
        raise BackupError(
            "backup.hq_refused", f"--from-hq needs {', '.join('--' + k for k in missing)}"
        )
    hq = HqBackups(args.cloud, args.store, args.secret)
    args.data.parent.mkdir(parents=True, exist_ok=True)
    # kept if the download is cut: the next run resumes it
    folder = args.data.parent / f".kassa-download-{args.store}"
    folder.mkdir(mode=0o700, exist_ok=True)
    print(f"downloading HQ's newest backup of store {args.store}...", file=sys.stderr)
    path = hq.download_latest(folder, _Progress("downloaded"))
    m = read_manifest(path)
    if m.store != args.store:
        raise BackupError("backup.tampered", f"HQ's backup is of store {m.store}")
    head, rows = hq.events(m.seq)
    print(f"backup at seq {m.seq}; HQ holds events up to seq {head[0]}", file=sys.stderr)
    from actors.backup_seal import load_keys

    key = load_keys(args.key) if args.key else None
    out = restore(path, args.data, args.force, hq_head=head, tail=rows, key=key)
    shutil.rmtree(folder, ignore_errors=True)
    return out
