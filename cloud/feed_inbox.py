"""The feed's inbox folder: ``<hq>/feeds/<name>/inbox/``.

A feed program writes a file under a temporary name (starting with '.' or ending in .part/.tmp)
and renames it into the inbox when complete. Each file is processed once: it moves to ``done/``
(rows staged, or the same file seen before) or ``rejected/`` (too large, unreadable, no good row),
with ``<file>.report.json`` beside it saying what happened to every row.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cloud.feed_desk import FeedDesk
from cloud.hqauth import PRIVATE_FILE
from domain.error_codes.feed import Feed
from domain.errors import KassaError

__all__ = ["scan_inbox", "process_file"]

log = logging.getLogger(__name__)

_KINDS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _pending(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in (".part", ".tmp")
    )


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def process_file(desk: FeedDesk, name: str, path: Path) -> dict[str, Any]:
    """Process one inbox file and move it out of the inbox with its report."""
    size = path.stat().st_size
    if size > desk.max_bytes:
        report: dict[str, Any] = {"ok": False, "code": Feed.TOO_LARGE, "limit": desk.max_bytes}
    else:
        try:
            report = desk.receive(
                name, path.read_bytes(), _KINDS.get(path.suffix.lower(), ""), "inbox", path.name
            )
        except KassaError as exc:
            report = {"ok": False, "code": exc.code, "message": exc.message}
    keep = report.get("ok") and (report.get("duplicate") or report.get("good"))
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S%f")
    target = path.parent.parent / ("done" if keep else "rejected") / f"{stamp}-{path.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(
        target.with_name(target.name + ".report.json"),
        orjson.dumps(report, option=orjson.OPT_INDENT_2),
    )
    os.replace(path, target)
    log.info("feed %s: inbox file %s → %s", name, path.name, target.parent.name)
    return report


def scan_inbox(desk: FeedDesk) -> int:
    """Process every complete file waiting in every feed's inbox; returns how many."""
    count = 0
    for feed in desk.store.feeds():
        for path in _pending(desk.hq / "feeds" / feed["name"] / "inbox"):
            process_file(desk, feed["name"], path)
            count += 1
    return count
