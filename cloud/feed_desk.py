"""The product feed's work, shared by the cloud's routes and ``kassa admin feed``: receive a file,
stage its good rows, show the diff against master data, approve (upsert into master data as
``source="feed:NAME"`` for the subscribed stores and publish to them) or reject, and the daily
automatic publish.

Master data and the publisher are reached through two small protocols (``cloud.master.MasterData``
and ``cloud.publish.Publisher`` fit them); a feed file never touches them: only approval does.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cloud.feed_format import diff, merged, parse
from cloud.feed_store import FeedStore
from domain.error_codes.feed import Feed
from domain.errors import Conflict, InvalidInput, Unavailable
from domain.ports import Clock

__all__ = ["FeedDesk", "Master", "Publishing", "MAX_FILE_BYTES", "source_of"]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 16 * 1024 * 1024  # a larger feed is sent as several files


class Master(Protocol):
    def product(self, sku: str) -> dict[str, Any] | None: ...
    def upsert_products(self, rows: list[dict[str, Any]], who: str, source: str = "hq") -> int: ...
    def subscribe(self, store: str, feed: str) -> None: ...
    def audit(self, who: str, what: str, detail: dict[str, Any]) -> None: ...


class Publishing(Protocol):
    def publish(self, stores: list[str] | None, who: str, note: str = "") -> int: ...


def source_of(name: str) -> str:
    """How master data marks a feed's products."""
    return f"feed:{name}"


class FeedDesk:
    def __init__(
        self,
        hq_dir: Path,
        clock: Clock,
        master: Callable[[], Master | None] = lambda: None,
        publisher: Callable[[], Publishing | None] = lambda: None,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.store = FeedStore(hq_dir)
        self.hq = Path(hq_dir)
        self.clock = clock
        self._master = master
        self._publisher = publisher
        self.max_bytes = max_bytes

    def master(self) -> Master:
        m = self._master()
        if m is None:
            raise Unavailable(Feed.NO_MASTER, "HQ master data is not mounted")
        return m

    # ---------------------------------------------------------------- feeds

    def add(
        self,
        name: str,
        stores: list[str],
        who: str,
        auto_publish: bool = False,
        publish_hour: int = 3,
        tax_class: str = "std",
    ) -> str:
        credential = self.store.add(
            name, stores, self.clock.now_us(), auto_publish, publish_hour, tax_class
        )
        self.inbox(name)
        m = self._master()
        if m is not None:
            for store in stores:
                m.subscribe(store, name)
            m.audit(who, "feed.add", {"feed": name, "stores": stores, "auto": auto_publish})
        return credential

    def rotate(self, name: str, who: str) -> str:
        credential = self.store.rotate(name, self.clock.now_us())
        m = self._master()
        if m is not None:
            m.audit(who, "feed.rotate_credential", {"feed": name})
        return credential

    def inbox(self, name: str) -> Path:
        """``<hq>/feeds/<name>/inbox`` (with done/ and rejected/ beside it), created if missing."""
        from cloud.hqauth import private_dir

        base = private_dir(self.hq / "feeds" / name)
        for sub in ("inbox", "done", "rejected"):
            private_dir(base / sub)
        return base / "inbox"

    # ---------------------------------------------------------------- files

    def receive(
        self, name: str, data: bytes, kind: str = "", via: str = "http", file_name: str = ""
    ) -> dict[str, Any]:
        """Check every row of a feed file and stage the good ones. The same file (same bytes)
        again changes nothing and answers ``duplicate: true`` with the first report."""
        self.store.get(name)
        if len(data) > self.max_bytes:
            raise InvalidInput(Feed.TOO_LARGE, f"over {self.max_bytes} bytes", limit=self.max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        before = self.store.file(name, sha)
        if before is not None:
            return {**before, "ok": True, "duplicate": True}
        try:
            parsed = parse(data, kind)
            report = parsed.report()
        except InvalidInput as exc:
            parsed = None
            report = {
                "rows": 0,
                "good": 0,
                "bad": 1,
                "bad_rows": [{"row": 0, "field": "", "code": exc.code, "message": exc.message}],
            }
        good = [row for _, row in parsed.good] if parsed else []
        now = self.clock.now_us()
        if not self.store.receive(name, sha, now, via, file_name, report, good):
            return {**(self.store.file(name, sha) or {}), "ok": True, "duplicate": True}
        log.info("feed %s: file %s: %d good, %d bad rows", name, sha[:12], len(good), report["bad"])
        return {
            "ok": True,
            "duplicate": False,
            "sha256": sha,
            "received_us": now,
            "status": "staged" if good else "rejected",
            **report,
        }

    # ---------------------------------------------------------------- review

    def _current(self, staged: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Master data's products (HQ's form, with their ``source``) for the staged SKUs."""
        m = self._master()
        if m is None:
            return {}
        out = {}
        for row in staged:
            have = m.product(row["sku"])
            if have is not None:
                out[row["sku"]] = have
        return out

    @staticmethod
    def _split(
        name: str, staged: list[dict[str, Any]], current: dict[str, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(rows this feed may write, rows whose SKU HQ or another feed owns)."""
        mine, elsewhere = [], []
        for row in staged:
            have = current.get(row["sku"])
            if have is None or have.get("source") == source_of(name):
                mine.append(row)
            else:
                elsewhere.append({"sku": row["sku"], "source": have.get("source", "")})
        return mine, elsewhere

    def review(self, name: str) -> dict[str, Any]:
        """The staged rows as a diff against master data, and the recent files' reports."""
        feed = self.store.get(name)
        staged = self.store.staged(name)
        current = self._current(staged)
        mine, elsewhere = self._split(name, staged, current)
        return {
            "feed": feed,
            "staged": len(staged),
            **diff(mine, current),
            "owned_elsewhere": elsewhere,
            "files": self.store.files(name),
        }

    def approve(self, name: str, who: str, note: str = "") -> dict[str, Any]:
        """Upsert the staged rows into master data (``source="feed:NAME"``) for the subscribed
        stores and publish to them. All or nothing: refused rows leave everything staged. Rows
        whose SKU HQ or another feed owns are skipped (and leave the stage)."""
        feed = self.store.get(name)
        staged = self.store.staged(name)
        if not staged:
            raise Conflict(Feed.NOTHING_STAGED, f"feed {name} has nothing staged", feed=name)
        m = self.master()
        current = self._current(staged)
        mine, elsewhere = self._split(name, staged, current)
        rows = [merged(r, current.get(r["sku"]), feed["tax_class"]) for r in mine]
        for store in feed["stores"]:
            m.subscribe(store, name)
        version = None
        if rows:
            try:
                version = m.upsert_products(rows, who, source=source_of(name))
            except InvalidInput as exc:
                bad = [
                    {**b, "sku": rows[b["row"] - 1]["sku"]}
                    for b in exc.details.get("rows", [])
                    if isinstance(b.get("row"), int) and 0 < b["row"] <= len(rows)
                ]
                raise InvalidInput(
                    Feed.MASTER_REFUSED, exc.message, rows=bad, bad_rows=len(bad)
                ) from None
        self.store.settle(name, staged, "approved")
        published = None
        pub = self._publisher()
        if pub is not None and feed["stores"] and rows:
            published = pub.publish(feed["stores"], who, note or f"feed {name}")
        m.audit(who, "feed.approve", {"feed": name, "count": len(rows), "version": version})
        return {
            "ok": True,
            "feed": name,
            "count": len(rows),
            "skipped": elsewhere,
            "version": version,
            "published": published,
            "stores": feed["stores"],
        }

    def reject(self, name: str, who: str) -> dict[str, Any]:
        self.store.get(name)
        staged = self.store.staged(name)
        if not staged:
            raise Conflict(Feed.NOTHING_STAGED, f"feed {name} has nothing staged", feed=name)
        self.store.settle(name, staged, "rejected_by_hq")
        m = self._master()
        if m is not None:
            m.audit(who, "feed.reject", {"feed": name, "count": len(staged)})
        return {"ok": True, "feed": name, "count": len(staged)}

    # ---------------------------------------------------------------- the daily publish

    def publish_due(self) -> list[dict[str, Any]]:
        """Approve what each auto-publishing feed staged, once a day from its hour (UTC)."""
        now = datetime.fromtimestamp(self.clock.now_us() / 1_000_000, tz=UTC)
        day = now.date().isoformat()
        done = []
        for feed in self.store.feeds():
            if not feed["auto_publish"] or feed["last_auto_day"] == day:
                continue
            if now.hour < feed["publish_hour"]:
                continue
            if feed["staged"]:
                try:
                    done.append(self.approve(feed["name"], f"{source_of(feed['name'])}:auto"))
                except (InvalidInput, Unavailable) as exc:
                    log.warning("feed %s: daily publish refused: %s", feed["name"], exc)
                    continue
            self.store.set_last_auto_day(feed["name"], day)
        return done

    def next_due_s(self) -> float:
        """Seconds until the next whole hour (when a feed's publish hour may start)."""
        us = self.clock.now_us() % 3_600_000_000
        return (3_600_000_000 - us) / 1_000_000
