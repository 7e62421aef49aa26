"""Scheduled backups in the running store server, where they go, and which are kept.

Settings (``"backup"`` in ``store.json``, all optional)::

    "backup": {"dirs": ["/media/usb0/kassa"], "every_hours": 6, "at_day_close": true,
               "keep": {"daily": 7, "weekly": 4}, "to_hq": true}

* ``dirs``: folders to write to (a USB disk's mount point…); relative paths are under the data
  folder. A folder that does not exist is reported ("missing: is the disk plugged in?") and never
  created (an unplugged disk must not fill the system disk). Without ``dirs``:
  ``<data>/../kassa-backups``, created when needed.
* ``every_hours`` (6) and ``at_day_close`` (a till's day closed): when a backup is due. The server
  only watches the clock and the journal's tail (``start_schedule``, once a minute); the backup
  itself runs in a child process at the lowest CPU and I/O priority (``kassa store backup
  --scheduled``), off the selling path, and a failure there never touches the server.
* ``keep``: per folder, the newest backup of each of the last ``daily`` days that have one and of
  each of the last ``weekly`` ISO weeks (``keep_names``); the rest are deleted.
* ``to_hq``: after a backup, the newest is sent to HQ if the store is linked (``actors.backup_hq``).

What happened is in ``<data>/backup_status.json`` (and the server's log).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from actors.backup_seal import ensure_key
from domain.backup_format import BackupError, keep_names, parse_name

__all__ = [
    "settings",
    "prune",
    "run_scheduled",
    "start_schedule",
    "read_status",
    "status_lines",
    "STATUS_FILE",
    "default_dir",
]

log = logging.getLogger(__name__)
STATUS_FILE = "backup_status.json"
DEFAULTS: dict[str, Any] = {
    "dirs": [],
    "every_hours": 6.0,
    "at_day_close": True,
    "keep": {"daily": 7, "weekly": 4},
    "to_hq": True,
    "check_s": 60.0,  # how often the server looks whether a backup is due
    "first_delay_s": 300.0,  # no backup in the first minutes after a start (tills come back)
}


def default_dir(data_dir: Path) -> Path:
    return Path(data_dir).resolve().parent / "kassa-backups"


def settings(data_dir: Path) -> dict[str, Any]:
    """``backup`` of store.json over the defaults (a bad value falls back to its default)."""
    try:
        raw = orjson.loads((Path(data_dir) / "store.json").read_bytes()).get("backup") or {}
    except (OSError, orjson.JSONDecodeError, AttributeError):
        raw = {}
    out = {**DEFAULTS, "keep": dict(DEFAULTS["keep"])}
    if not isinstance(raw, dict):
        return out
    if isinstance(raw.get("dirs"), list) and all(isinstance(d, str) for d in raw["dirs"]):
        out["dirs"] = list(raw["dirs"])
    for key in ("every_hours", "check_s", "first_delay_s"):
        v = raw.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
            out[key] = float(v)
    for key in ("at_day_close", "to_hq"):
        if isinstance(raw.get(key), bool):
            out[key] = raw[key]
    keep = raw.get("keep")
    if isinstance(keep, dict):
        for key in ("daily", "weekly"):
            v = keep.get(key)
            if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1000:
                out["keep"][key] = v
    return out


def folders(data_dir: Path, conf: dict[str, Any]) -> list[tuple[Path, bool]]:
    """(folder, configured) for each place backups go."""
    if not conf["dirs"]:
        return [(default_dir(data_dir), False)]
    return [((Path(data_dir) / d) if not os.path.isabs(d) else Path(d), True) for d in conf["dirs"]]


# ---------------------------------------------------------------- prune policy


def prune(folder: Path, store: str, daily: int, weekly: int) -> list[str]:
    """Delete ``store``'s backups in ``folder`` the policy does not keep; returns their names."""
    items = []
    for n in os.listdir(folder):
        parsed = parse_name(n)
        if parsed is not None and parsed[0] == store:
            items.append((parsed[1], n))
    keep = keep_names(items, daily, weekly)
    gone = []
    for _, n in items:
        if n not in keep:
            try:
                os.unlink(folder / n)
                gone.append(n)
            except OSError as exc:
                log.warning("backup: cannot delete %s: %s", folder / n, exc)
    return sorted(gone)


# ---------------------------------------------------------------- one scheduled run


def read_status(data_dir: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads((Path(data_dir) / STATUS_FILE).read_bytes())
        return doc if isinstance(doc, dict) else {}
    except (OSError, orjson.JSONDecodeError):
        return {}


def status_lines(data_dir: Path) -> list[str]:
    """What ``kassa store status`` says about backups: the last one and each folder's state."""
    doc = read_status(data_dir)
    if not doc:
        return [
            "  backup           none yet (kassa store backup; the server takes one every few hours)"
        ]
    when = doc.get("last_ok_us")
    stamp = (
        datetime.fromtimestamp(when / 1e6, UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "never"
    )
    out = [
        f"  last backup      {stamp}" + (f" ({doc['last_file']})" if doc.get("last_file") else "")
    ]
    for res in doc.get("results") or []:
        if not res.get("ok"):
            out.append(f"  backup folder    {res.get('dir')}: {res.get('error')}")
    hq = doc.get("hq") or {}
    if hq and not hq.get("ok"):
        out.append(f"  backup to HQ     {hq.get('error') or hq.get('skipped')}")
    return out


def _write_status(data_dir: Path, doc: dict[str, Any]) -> None:
    from actors.files import atomic_write

    atomic_write(Path(data_dir) / STATUS_FILE, orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def run_scheduled(data_dir: Path, reason: str = "scheduled", upload: bool = True) -> dict:
    """Back up into every configured folder (taken once, copied to the others), prune each, then
    send the newest to HQ. Every folder's outcome is reported, none stops the others."""
    from actors.backup import store_id_of, take_backup

    data_dir = Path(data_dir)
    conf = settings(data_dir)
    now_us = int(time.time() * 1e6)
    results: list[dict[str, Any]] = []
    made: Path | None = None
    for folder, configured in folders(data_dir, conf):
        res: dict[str, Any] = {"dir": str(folder)}
        results.append(res)
        if configured and not folder.is_dir():
            res.update(ok=False, error="missing: is the disk plugged in?")
            log.warning("backup: %s is missing (is the disk plugged in?)", folder)
            continue
        try:
            if made is None:
                made = path = take_backup(data_dir, folder, reason, key=ensure_key(data_dir))
            else:
                path = folder / made.name
                tmp = folder / f".{made.name}.partial"
                shutil.copyfile(made, tmp)
                os.chmod(tmp, 0o600)
                os.replace(tmp, path)
            res.update(ok=True, file=path.name, size=path.stat().st_size)
            keep = conf["keep"]
            res["pruned"] = prune(folder, store_id_of(data_dir), keep["daily"], keep["weekly"])
        except (BackupError, OSError) as exc:
            res.update(ok=False, error=getattr(exc, "message", None) or str(exc))
            log.warning("backup into %s failed: %s", folder, res["error"])
    doc = read_status(data_dir)
    doc.update(at_us=now_us, reason=reason, results=results)
    if made is not None:
        doc["last_ok_us"] = now_us
        doc["last_file"] = made.name
    _write_status(data_dir, doc)
    if made is not None and upload and conf["to_hq"]:
        from actors.backup_hq import upload_newest

        doc["hq"] = upload_newest(data_dir, made)
        _write_status(data_dir, doc)
    return doc


# ---------------------------------------------------------------- in the running server


def _closes_after(journal: Path, after: int) -> tuple[bool, int]:
    """Was a till's day closed after seq ``after``? And the journal's last seq. A range read on
    the primary key: cheap however long the journal is."""
    con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        last = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        if after < 0:  # the first look: only where the journal ends
            return False, last
        row = con.execute(
            "SELECT 1 FROM events WHERE seq > ? AND kind = 'day.closed' LIMIT 1", (after,)
        ).fetchone()
        return row is not None, last
    finally:
        con.close()


def _child_command(data_dir: Path, reason: str) -> list[str]:
    cmd = [sys.executable, "-m", "kassa_cli.main", "store", "backup", "--data", str(data_dir)]
    cmd += ["--scheduled", "--reason", reason]
    ionice = shutil.which("ionice")
    return ([ionice, "-c3"] if ionice else []) + cmd


async def _run_child(data_dir: Path, reason: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *_child_command(data_dir, reason),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await proc.communicate()
    except asyncio.CancelledError:
        proc.kill()
        raise
    if proc.returncode != 0:
        log.warning("backup (%s) failed: %s", reason, err.decode(errors="replace")[-500:])


async def _loop(data_dir: Path) -> None:
    journal = data_dir / "journal.sqlite"
    seen = -1
    await asyncio.sleep(settings(data_dir)["first_delay_s"])
    while True:
        conf = settings(data_dir)
        try:
            closed, last = await asyncio.to_thread(_closes_after, journal, seen)
            closed = closed and conf["at_day_close"]
            seen = last
            last_ok = read_status(data_dir).get("last_ok_us") or 0
            due = time.time() - last_ok / 1e6 >= conf["every_hours"] * 3600
            if closed or due:
                await _run_child(data_dir, "day-close" if closed else "scheduled")
        except asyncio.CancelledError:
            raise
        except Exception:  # never the server's problem: reported, tried again later
            log.exception("backup schedule")
        await asyncio.sleep(conf["check_s"])


def start_schedule(server: Any) -> asyncio.Task | None:
    """Start the schedule on the server's running loop (after ``server.start()``); the task is
    kept on ``server.backup_task`` and ends with the loop."""
    try:
        task = asyncio.get_running_loop().create_task(_loop(Path(server.data_dir)))
    except RuntimeError:  # no running loop: nothing to schedule on
        return None
    try:
        server.backup_task = task
    except AttributeError:
        pass
    return task
