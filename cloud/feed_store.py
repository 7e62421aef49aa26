"""The feeds' own state in ``<hq>/feeds.sqlite`` (WAL, 0600): each feed, its hashed credential and
settings, the files it sent (by content hash, with their reports) and its staged rows.

The credential is ``kfeed_<name>_<random>``; only its SHA-256 is kept (it is 32 random bytes, so a
slow hash adds nothing) and it is compared in constant time. A connection per call: the cloud and
the ``kassa admin feed`` CLI share the file and neither keeps a copy that the other would make
stale.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import private_dir, private_file
from domain.error_codes.feed import Feed
from domain.errors import Conflict, InvalidInput, NotFound

__all__ = ["FeedStore", "FEEDS_DB", "check_name"]

FEEDS_DB = "feeds.sqlite"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY,
    secret_sha256 BLOB NOT NULL,
    stores TEXT NOT NULL,
    auto_publish INTEGER NOT NULL,
    publish_hour INTEGER NOT NULL,
    tax_class TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    rotated_us INTEGER NOT NULL,
    last_auto_day TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS files (
    feed TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    received_us INTEGER NOT NULL,
    via TEXT NOT NULL,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (feed, sha256)
);
CREATE TABLE IF NOT EXISTS staged (
    feed TEXT NOT NULL,
    sku TEXT NOT NULL,
    row TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    PRIMARY KEY (feed, sku)
);
"""


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidInput(Feed.BAD_FEED_NAME, "1 to 32 of a-z, 0-9 and '-'", name=name)
    return name


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class FeedStore:
    def __init__(self, hq_dir: Path) -> None:
        self.hq = private_dir(Path(hq_dir))
        self.path = private_file(self.hq / FEEDS_DB)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    # ---------------------------------------------------------------- feeds

    def add(
        self,
        name: str,
        stores: list[str],
        now_us: int,
        auto_publish: bool = False,
        publish_hour: int = 3,
        tax_class: str = "std",
    ) -> str:
        """Create a feed; returns its credential (shown once, kept only hashed)."""
        check_name(name)
        if not 0 <= publish_hour <= 23:
            raise InvalidInput("input.bad_field", "publish hour is 0 to 23", field="hour")
        credential = f"kfeed_{name}_{secrets.token_urlsafe(32)}"
        with self._db() as db:
            try:
                db.execute(
                    "INSERT INTO feeds (name, secret_sha256, stores, auto_publish, publish_hour,"
                    " tax_class, created_us, rotated_us) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        name,
                        _sha(credential),
                        orjson.dumps(sorted(set(stores))).decode(),
                        int(auto_publish),
                        publish_hour,
                        tax_class,
                        now_us,
                        now_us,
                    ),
                )
            except sqlite3.IntegrityError:
                raise Conflict(Feed.EXISTS, f"feed {name} exists", name=name) from None
        return credential

    def rotate(self, name: str, now_us: int) -> str:
        self.get(name)
        credential = f"kfeed_{name}_{secrets.token_urlsafe(32)}"
        with self._db() as db:
            db.execute(
                "UPDATE feeds SET secret_sha256 = ?, rotated_us = ? WHERE name = ?",
                (_sha(credential), now_us, name),
            )
        return credential

    def verify(self, name: str, credential: str) -> bool:
        """True when ``credential`` is ``name``'s own (constant-time on digests)."""
        with self._db() as db:
            row = db.execute("SELECT secret_sha256 FROM feeds WHERE name = ?", (name,)).fetchone()
        want = bytes(row["secret_sha256"]) if row else _sha(secrets.token_hex(16))
        return hmac.compare_digest(_sha(credential), want) and row is not None

    def get(self, name: str) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute("SELECT * FROM feeds WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(Feed.UNKNOWN, f"no feed {name}", name=name)
        return self._feed(row)

    @staticmethod
    def _feed(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "name": row["name"],
            "stores": orjson.loads(row["stores"]),
            "auto_publish": bool(row["auto_publish"]),
            "publish_hour": row["publish_hour"],
            "tax_class": row["tax_class"],
            "created_us": row["created_us"],
            "rotated_us": row["rotated_us"],
            "last_auto_day": row["last_auto_day"],
        }

    def feeds(self) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM feeds ORDER BY name").fetchall()
            staged = dict(db.execute("SELECT feed, COUNT(*) FROM staged GROUP BY feed").fetchall())
        return [{**self._feed(r), "staged": staged.get(r["name"], 0)} for r in rows]

    def set_last_auto_day(self, name: str, day: str) -> None:
        with self._db() as db:
            db.execute("UPDATE feeds SET last_auto_day = ? WHERE name = ?", (day, name))

    # ---------------------------------------------------------------- files and staged rows

    def file(self, name: str, sha256: str) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM files WHERE feed = ? AND sha256 = ?", (name, sha256)
            ).fetchone()
        return None if row is None else self._file(row)

    @staticmethod
    def _file(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "sha256": row["sha256"],
            "received_us": row["received_us"],
            "via": row["via"],
            "file_name": row["file_name"],
            "status": row["status"],
            **orjson.loads(row["report"]),
        }

    def files(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM files WHERE feed = ? ORDER BY received_us DESC LIMIT ?",
                (name, limit),
            ).fetchall()
        return [self._file(r) for r in rows]

    def receive(
        self,
        name: str,
        sha256: str,
        now_us: int,
        via: str,
        file_name: str,
        report: dict[str, Any],
        good: list[dict[str, Any]],
    ) -> bool:
        """Record a file and stage its good rows (a later file's row replaces an earlier one of
        the same SKU). False (and nothing done) when this file was received before."""
        status = "staged" if good else "rejected"
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO files VALUES (?,?,?,?,?,?,?)",
                    (name, sha256, now_us, via, file_name, status, orjson.dumps(report).decode()),
                )
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                return False
            db.executemany(
                "INSERT OR REPLACE INTO staged VALUES (?,?,?,?)",
                [(name, r["sku"], orjson.dumps(r).decode(), sha256) for r in good],
            )
            db.execute("COMMIT")
        return True

    def staged(self, name: str) -> list[dict[str, Any]]:
        """The rows waiting, by SKU, each with the ``file_sha256`` of the file it came in."""
        with self._db() as db:
            rows = db.execute(
                "SELECT row, file_sha256 FROM staged WHERE feed = ? ORDER BY sku", (name,)
            ).fetchall()
        return [{**orjson.loads(r["row"]), "file_sha256": r["file_sha256"]} for r in rows]

    def settle(self, name: str, rows: list[dict[str, Any]], status: str) -> int:
        """Take ``rows`` (as ``staged`` gave them) off the stage, approved or rejected; a row a
        newer file staged meanwhile for the same SKU stays. Their files are marked ``status``
        once none of their rows wait any more."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "DELETE FROM staged WHERE feed = ? AND sku = ? AND file_sha256 = ?",
                [(name, r["sku"], r["file_sha256"]) for r in rows],
            )
            db.execute(
                "UPDATE files SET status = ? WHERE feed = ? AND status = 'staged' AND sha256 NOT IN"
                " (SELECT file_sha256 FROM staged WHERE feed = ?)",
                (status, name, name),
            )
            db.execute("COMMIT")
        return len(rows)
