"""The feed's desk without a network: staging never touches master data, the same file twice is a
no-op, approval upserts as ``feed:NAME`` for the subscribed stores and publishes to them, the daily
publish on a fake clock, the inbox processes a file once, credentials kept hashed."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from cloud.feed import run_daily
from cloud.feed_desk import FeedDesk
from cloud.feed_inbox import scan_inbox
from domain.errors import Conflict, InvalidInput
from domain.ports import ManualClock

CSV = (
    b"sku,name_en,price,barcodes\n"
    b"TEA-1,Green tea,1250,4006381333931\n"
    b"TEA-2,Black tea,990,\n"
    b"BAD,Broken,100,4006381333932\n"
)


class FakeMaster:
    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.subs: set[tuple[str, str]] = set()
        self.upserts: list[tuple[list[dict[str, Any]], str, str]] = []
        self.log: list[str] = []
        self.v = 1

    def product(self, sku: str) -> dict[str, Any] | None:
        p = self.products.get(sku)
        return None if p is None else {**p, "version": self.v}

    def upsert_products(self, rows: list[dict[str, Any]], who: str, source: str = "hq") -> int:
        self.upserts.append((rows, who, source))
        for r in rows:
            self.products[r["sku"]] = {**r, "source": source}
        self.v += 1
        return self.v

    def subscribe(self, store: str, feed: str) -> None:
        self.subs.add((store, feed))

    def audit(self, who: str, what: str, detail: dict[str, Any]) -> None:
        self.log.append(what)


class FakePublisher:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str] | None, str]] = []

    def publish(self, stores: list[str] | None, who: str, note: str = "") -> int:
        self.calls.append((stores, who))
        return len(self.calls)


@pytest.fixture
def world(tmp_path: Path) -> tuple[FeedDesk, FakeMaster, FakePublisher, ManualClock]:
    clock, master, pub = ManualClock(), FakeMaster(), FakePublisher()
    desk = FeedDesk(tmp_path, clock, lambda: master, lambda: pub, max_bytes=4096)
    return desk, master, pub, clock


def test_stage_review_approve(world) -> None:
    desk, master, pub, _ = world
    desk.add("acme", ["S001"], "admin")
    report = desk.receive("acme", CSV)
    assert (report["good"], report["bad"], report["duplicate"]) == (2, 1, False)
    assert report["bad_rows"][0]["row"] == 4 and report["bad_rows"][0]["field"] == "barcodes"
    assert master.upserts == [] and pub.calls == []  # nothing reaches master before approval
    again = desk.receive("acme", CSV)
    assert again["duplicate"] and again["good"] == 2 and len(desk.store.staged("acme")) == 2
    review = desk.review("acme")
    assert [r["sku"] for r in review["new"]] == ["TEA-1", "TEA-2"] and review["changed"] == []
    done = desk.approve("acme", "cat")
    assert done["count"] == 2 and done["stores"] == ["S001"] and done["published"] == 1
    rows, who, source = master.upserts[0]
    assert (who, source) == ("cat", "feed:acme") and {r["sku"] for r in rows} == {"TEA-1", "TEA-2"}
    assert all(r["tax_class"] == "std" for r in rows) and "BAD" not in master.products
    assert ("S001", "acme") in master.subs and pub.calls == [(["S001"], "cat")]
    assert desk.store.staged("acme") == []
    with pytest.raises(Conflict):
        desk.approve("acme", "cat")
    # a price change: a diff of one field; the product keeps the tax class HQ gave it
    master.products["TEA-1"]["tax_class"] = "reduced"
    desk.receive("acme", b"sku,name_en,price\nTEA-1,Green tea,1300\nTEA-2,Black tea,990\n")
    review = desk.review("acme")
    assert review["changed"] == [{"sku": "TEA-1", "fields": {"price": [1250, 1300]}}]
    assert review["unchanged"] == ["TEA-2"] and review["new"] == []
    desk.approve("acme", "cat")
    assert master.products["TEA-1"]["price"] == 1300
    assert master.products["TEA-1"]["tax_class"] == "reduced"


def test_reject_too_large_and_unreadable(world) -> None:
    desk, master, _, _ = world
    desk.add("acme", ["S001"], "admin")
    with pytest.raises(InvalidInput) as exc:
        desk.receive("acme", b"sku,name_en,price\n" + b"A,x,1\n" * 1000)
    assert exc.value.code == "feed.too_large"
    bad = desk.receive("acme", b"\xff\xfe junk")
    assert bad["status"] == "rejected" and bad["bad_rows"][0]["code"] == "feed.bad_file"
    desk.receive("acme", CSV)
    assert desk.reject("acme", "cat")["count"] == 2
    assert desk.store.staged("acme") == [] and master.upserts == []
    assert {f["status"] for f in desk.store.files("acme")} == {"rejected", "rejected_by_hq"}


def test_credentials_hashed_own_feed_only_and_rotated(world, tmp_path: Path) -> None:
    desk, *_ = world
    a = desk.add("acme", ["S001"], "admin")
    b = desk.add("beta", ["S002"], "admin")
    with pytest.raises(Conflict):
        desk.add("acme", [], "admin")
    assert desk.store.verify("acme", a) and desk.store.verify("beta", b)
    assert not desk.store.verify("beta", a) and not desk.store.verify("nope", a)
    db = tmp_path / "feeds.sqlite"
    assert a.encode() not in db.read_bytes() and stat.S_IMODE(os.stat(db).st_mode) == 0o600
    new = desk.rotate("acme", "admin")
    assert desk.store.verify("acme", new) and not desk.store.verify("acme", a)
    with pytest.raises(InvalidInput):
        desk.add("../etc", [], "admin")


def test_daily_publish_on_a_fake_clock(world) -> None:
    desk, master, pub, clock = world
    desk.add("auto", ["S001"], "admin", auto_publish=True, publish_hour=4)
    desk.add("manual", ["S002"], "admin")
    desk.receive("auto", CSV)
    desk.receive("manual", CSV)
    clock.advance(3600 + 60)  # 01:01 UTC on the first day
    hours: list[int] = []

    async def fake_sleep(seconds: float) -> None:
        clock.advance(seconds)
        hours.append(clock.now_us() // 3_600_000_000 % 24)
        if len(hours) == 30:  # a day and some hours later
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_daily(desk, fake_sleep))
    assert hours[:4] == [2, 3, 4, 5]  # it wakes on the hour
    assert [c[0] for c in pub.calls] == [["S001"]]  # once, the auto feed only
    assert master.upserts[0][1] == "feed:auto:auto"
    assert len(desk.store.staged("manual")) == 2
    # the next day's file goes out the next day at 04:00, not before
    desk.receive("auto", b"sku,name_en,price\nTEA-1,Green tea,1300\n")
    assert desk.publish_due() == []
    clock.advance(24 * 3600)
    assert [r["count"] for r in desk.publish_due()] == [1]


def test_inbox_file_processed_once(world) -> None:
    desk, *_ = world
    desk.add("acme", ["S001"], "admin")
    inbox = desk.inbox("acme")
    (inbox / "day1.csv").write_bytes(CSV)
    (inbox / "day1-copy.csv").write_bytes(CSV)
    (inbox / ".writing.csv").write_bytes(CSV)  # still being written: left alone
    (inbox / "broken.json").write_bytes(b"[{")
    assert scan_inbox(desk) == 3
    assert scan_inbox(desk) == 0
    assert sorted(p.name for p in inbox.iterdir()) == [".writing.csv"]
    done = sorted(p.name for p in (inbox.parent / "done").iterdir())
    assert len(done) == 4 and sum(n.endswith(".report.json") for n in done) == 2
    rejected = [p.name for p in (inbox.parent / "rejected").iterdir()]
    assert any(n.endswith("broken.json") for n in rejected)
    assert len(desk.store.files("acme")) == 2  # the copy was the same file: a no-op


def test_a_feed_never_takes_over_a_product_of_hq(world) -> None:
    desk, master, _, _ = world
    desk.add("acme", ["S001"], "admin")
    master.upsert_products([{"sku": "TEA-2", "names": {"en": "HQ tea"}, "price": 5}], "hq")
    desk.receive("acme", CSV)
    review = desk.review("acme")
    assert review["owned_elsewhere"] == [{"sku": "TEA-2", "source": "hq"}]
    assert [r["sku"] for r in review["new"]] == ["TEA-1"]
    done = desk.approve("acme", "cat")
    assert done["count"] == 1 and done["skipped"] == [{"sku": "TEA-2", "source": "hq"}]
    assert master.products["TEA-2"]["names"] == {"en": "HQ tea"}
    assert master.products["TEA-2"]["source"] == "hq"


def test_approval_into_real_master_data_reaches_subscribed_stores_only(tmp_path: Path) -> None:
    from cloud.master import MasterData

    clock = ManualClock()
    md = MasterData(tmp_path, clock)
    desk = FeedDesk(tmp_path, clock, lambda: md)
    desk.add("acme", ["S001"], "admin")
    desk.receive("acme", CSV)
    assert md.products_for_store("S001", clock.now_us()) == []
    done = desk.approve("acme", "cat")
    assert done["count"] == 2 and md.product("TEA-1")["source"] == "feed:acme"
    assert md.subscribers("acme") == ["S001"]
    seen = md.products_for_store("S001", clock.now_us())
    assert [(p["sku"], p["price"], p["tax_class"]) for p in seen] == [
        ("TEA-1", 1250, "std"),
        ("TEA-2", 990, "std"),
    ]
    assert md.products_for_store("S002", clock.now_us()) == []


def test_a_file_staged_during_an_approval_stays_staged(world) -> None:
    desk, master, _, _ = world
    desk.add("acme", ["S001"], "admin")
    desk.receive("acme", CSV)
    real = master.upsert_products

    def upsert_while_a_file_arrives(rows, who, source="hq"):
        desk.receive("acme", b"sku,name_en,price\nTEA-1,Green tea,1400\n")
        return real(rows, who, source)

    master.upsert_products = upsert_while_a_file_arrives  # type: ignore[method-assign]
    assert desk.approve("acme", "cat")["count"] == 2
    assert master.products["TEA-1"]["price"] == 1250
    assert [(r["sku"], r["price"]) for r in desk.store.staged("acme")] == [("TEA-1", 1400)]
