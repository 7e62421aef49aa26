"""The ``.kbak`` backup format, without I/O: the manifest, the file names, and which backups the
prune policy keeps. Shared by the store (``actors.backup``) and HQ (``cloud.backups``).

    kassa-<store>-<YYYYMMDDTHHMMSSZ>-<seq>.kbak      a tar; ``manifest.json`` is its first member

The manifest: archive ``format``, ``store``, ``seq`` and ``hash`` (the journal's last event in the
archive), ``created`` (UTC), ``code_version``, ``data_format`` (``<data>/format.json``),
``reason``, and ``members``: name -> ``{"size", "sha256"}`` of each member's bytes in the tar.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from domain.errors import KassaError

__all__ = [
    "ARCHIVE_FORMAT",
    "MANIFEST",
    "JOURNAL_MEMBER",
    "SUFFIX",
    "BackupError",
    "Manifest",
    "archive_name",
    "parse_name",
    "keep_names",
    "sha256_of",
]

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
JOURNAL_MEMBER = "journal.sqlite.zst"
SUFFIX = ".kbak"
_NAME = re.compile(r"^kassa-(?P<store>.+)-(?P<stamp>\d{8}T\d{6}Z)-(?P<seq>\d+)\.kbak$")


class BackupError(KassaError):
    """A backup could not be taken, sent or restored, or an archive is refused: a ``backup.*``
    code (``domain.error_codes.backup``) and a message that says what to do."""

    http_status = 400
    default_code = "backup.failed"


@dataclass(frozen=True, slots=True)
class Manifest:
    store: str
    seq: int
    hash: str  # hex of the event at ``seq`` (the journal's head in the archive)
    created: str  # ISO 8601 UTC
    created_us: int
    code_version: str
    data_format: int
    reason: str
    members: dict[str, dict[str, Any]]  # name -> {"size", "sha256"}
    format: int = ARCHIVE_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "store": self.store,
            "seq": self.seq,
            "hash": self.hash,
            "created": self.created,
            "created_us": self.created_us,
            "code_version": self.code_version,
            "data_format": self.data_format,
            "reason": self.reason,
            "members": self.members,
        }

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            d = orjson.loads(raw)
            if d.get("format") != ARCHIVE_FORMAT:
                raise BackupError(
                    "backup.bad_archive",
                    f"archive format {d.get('format')!r}: this kassa reads format {ARCHIVE_FORMAT}",
                )
            members = d["members"]
            if not isinstance(members, dict) or not all(
                isinstance(m, dict) and isinstance(m.get("sha256"), str) for m in members.values()
            ):
                raise ValueError("members")
            return cls(
                store=str(d["store"]),
                seq=int(d["seq"]),
                hash=str(d["hash"]),
                created=str(d["created"]),
                created_us=int(d["created_us"]),
                code_version=str(d.get("code_version", "")),
                data_format=int(d.get("data_format", 1)),
                reason=str(d.get("reason", "")),
                members=members,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise BackupError(
                "backup.bad_archive", "the archive's manifest is unreadable"
            ) from None


def archive_name(store: str, created_us: int, seq: int) -> str:
    stamp = datetime.fromtimestamp(created_us / 1e6, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"kassa-{store}-{stamp}-{seq}{SUFFIX}"


def parse_name(name: str) -> tuple[str, datetime, int] | None:
    """(store, when, seq) of a backup's file name, or None for any other file."""
    m = _NAME.match(name)
    if m is None:
        return None
    when = datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return m["store"], when, int(m["seq"])


def keep_names(items: Iterable[tuple[datetime, str]], daily: int, weekly: int) -> set[str]:
    """Which backups to keep: the newest of each of the ``daily`` most recent days that have a
    backup, the newest of each of the ``weekly`` most recent ISO weeks, and always the newest."""
    ordered = sorted(items, reverse=True)
    keep: set[str] = {ordered[0][1]} if ordered else set()
    days: set[Any] = set()
    weeks: set[Any] = set()
    for when, name in ordered:
        day, week = when.date(), when.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(name)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(name)
    return keep


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    """The hex sha256 and the length of what is left to read in ``stream``."""
    h, n = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n
