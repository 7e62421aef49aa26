"""A member's tier follows them across the chain (``domain.member_history``): HQ's summary of the
member's orders at the OTHER stores, journaled by a store as ``member.history``, counts toward the
tier there — once (the asking store's own orders are left out), the same on replay and from a
snapshot, and leaving the window as the days pass. HQ's side (``cloud.members_db``) is driven with
its real sqlite and pool over uploads kept in memory (no sockets)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.history_sync import HistorySync, history_cid, refresh_for_key
from cloud.members_db import MembersHQ
from domain.book import Book
from domain.book_snapshot import FORMAT, BookImage, decode_book, encode_book
from domain.error_codes.chain import Chain as Chain_
from domain.errors import Conflict, InvalidInput, Unavailable
from domain.events import kind_of, version_of
from domain.loyalty import DAY_US
from domain.member_discount import BasketMemberNamed
from domain.member_history import MemberHistory
from domain.ports import ManualClock
from tests.kits.loyaltykit import T0, Shop, gold

GOLD = 10_000  # Gold from 100.00 spent in 30 days (x2 points, 5 % off)


class _Log:
    """One store's uploaded events as HQ's ingest keeps them (rows of ``EventLog.read``)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def read(self, after: int = 0, limit: int = 10_000) -> list[tuple[Any, ...]]:
        return [r for r in self.rows if r[0] > after][:limit]


class Chain:
    """HQ (its real ``MembersHQ`` on sqlite) and stores whose every commit is uploaded at once."""

    def __init__(self, tmp: Any, now: int = T0) -> None:
        self.logs: dict[str, _Log] = {}
        self.lock = threading.Lock()
        self.clock = ManualClock(now)
        ingestor = SimpleNamespace(event_log=lambda s: (self.logs[s], self.lock))
        registry = SimpleNamespace(stores=lambda: [SimpleNamespace(id=s) for s in self.logs])
        self.hq = MembersHQ(tmp, ingestor, registry, self.clock)
        self.tmp = tmp

    def store(self, sid: str, members: tuple[str, ...] = ("m1",)) -> Store:
        self.logs[sid] = _Log()
        return Store(self, sid, members)

    def history(self, asker: str, since: int = 0, member: str = "") -> list[MemberHistory]:
        """HQ's answer to ``asker``, as the store journals it."""
        self.hq.follow()
        page = self.hq.histories(asker, since, member=member)
        return [
            MemberHistory(
                e["member"], e["version"], e["as_of_us"], tuple(tuple(d) for d in e["days"])
            )
            for e in page["members"]
        ]


class Store(Shop):
    def __init__(self, chain: Chain, sid: str, members: tuple[str, ...]) -> None:
        self.chain, self.sid, self.log = chain, sid, chain.logs[sid]
        self.journal: list[tuple[Any, int]] = []
        super().__init__(gold(GOLD, days=30), members)
        self.now = chain.clock.now_us()

    def commit(self, body: Any, till: str = "T1") -> Any:
        body = super().commit(body, till)
        self.journal.append((body, self.now))
        raw = msgspec.json.encode(body)
        kind = kind_of(body)
        self.log.rows.append((self.seq, f"e{self.seq}", self.now, kind, version_of(kind), raw, b""))
        return body

    def take_history(self, member: str = "m1") -> None:
        """The member loop: HQ's newest history of ``member`` journaled here."""
        self.chain.clock.t = self.now
        held = self.book.loyalty.history.get(member)
        for h in self.chain.history(self.sid, member=member):
            if held is None or h.version > held.version:  # as ``HistorySync`` does
                self.commit(h)

    def tier(self, member: str = "m1") -> str | None:
        t = self.book.loyalty.member_view(member, self.now)["tier"]
        return None if t is None else str(t["name"])


def _replay(journal: list[tuple[Any, int]]) -> Book:
    book = Book()
    for i, (body, ts) in enumerate(journal, 1):
        book.apply(book.check(body, "T1", ts), "s1", "T1", ts, i)
    return book


@pytest.fixture
def chain(tmp_path: Any) -> Chain:
    return Chain(tmp_path)


def test_spend_at_a_gives_the_tier_at_b_once_b_journals_hqs_history(chain: Chain) -> None:
    a, b = chain.store("A"), chain.store("B")
    a.sell("a1", 6_000)
    a.days(1)
    a.sell("a2", 4_000)  # 100.00 at A in 30 days: Gold at A
    b.now = a.now + DAY_US
    assert a.tier() == "Gold" and b.tier() is None  # B has not heard yet
    with pytest.raises(Conflict) as e:  # B's ledger refuses the Gold discount it cannot see
        b.commit(BasketMemberNamed("k1", "m1", "Gold", 500))
    assert e.value.code == "tier.discount_changed"
    b.take_history()
    assert b.tier() == "Gold"
    b.commit(BasketMemberNamed("k1", "m1", "Gold", 500))  # the tier's discount is taken
    before = b.points.get("m1", 0)
    b.sell("b1", 1_000)  # 10.00 at Gold earns x2
    assert b.points["m1"] - before == 20


def test_no_double_count_hq_leaves_the_asking_stores_own_orders_out(chain: Chain) -> None:
    a, b = chain.store("A"), chain.store("B")
    b.sell("b1", 6_000)  # 60.00 at B
    a.now = b.now
    a.sell("a1", 3_000)  # 30.00 at A: 90.00 chain-wide, short of Gold
    b.now = a.now + 1
    b.take_history()
    (h,) = b.book.loyalty.history.values()
    assert sum(d[1] for d in h.days) == 3_000  # only A's
    assert b.tier() is None  # 60 + 30, never 60 + 90
    a.now = b.now
    a.take_history()
    assert sum(d[1] for d in a.book.loyalty.history["m1"].days) == 6_000 and a.tier() is None
    b.sell("b2", 1_000)  # 100.00 chain-wide
    a.now = b.now + 1
    a.take_history()
    assert a.tier() == "Gold" and b.tier() == "Gold"  # 30 + 70 at A; 70 + A's 30 at B
    b.now = a.now
    b.take_history()  # nothing new from A: HQ's version is the one B holds, nothing journaled
    assert len([x for x, _ in b.journal if isinstance(x, MemberHistory)]) == 1


def test_a_refund_elsewhere_and_the_window_demote(chain: Chain) -> None:
    a, b = chain.store("A"), chain.store("B")
    a.sell("a1", 10_000)
    b.now = a.now + DAY_US
    b.take_history()
    assert b.tier() == "Gold"
    b.days(30)  # A's order is exactly 30 days old: still inside
    b.now = a.now + 30 * DAY_US
    assert b.tier() == "Gold"
    b.now += 1  # a microsecond later it has left the window: demoted without a new event
    assert b.tier() is None
    a.now = b.now  # a fresh order at A (a1 is out of the window), then its full refund
    a.sell("a2", 10_000)
    b.now = a.now + 1
    b.take_history()
    assert b.tier() == "Gold"
    a.refund("a2", None)
    b.take_history()
    assert b.tier() is None  # the refund reached B through HQ's next history


def test_offline_the_last_history_stands_and_replay_and_snapshot_agree(chain: Chain) -> None:
    a, b = chain.store("A"), chain.store("B")
    a.sell("a1", 10_000)
    b.now = a.now + 1
    b.take_history()
    a.sell("a2", 5_000)  # HQ knows; B does not ask (offline)
    b.sell("b1", 1_000)
    assert b.tier() == "Gold" and b.points["m1"] == 20
    older = MemberHistory("m1", 0, b.now, ())  # an older history changes nothing
    b.commit(older)
    assert b.tier() == "Gold"
    replayed = _replay(b.journal)
    assert replayed.loyalty.history == b.book.loyalty.history
    assert replayed.loyalty.member_view("m1", b.now) == b.book.loyalty.member_view("m1", b.now)
    assert FORMAT == 4
    snap, _, _ = decode_book(encode_book(b.book, {}, 0))
    assert snap.loyalty.history == b.book.loyalty.history
    assert snap.loyalty.member_view("m1", b.now)["tier"]["name"] == "Gold"
    im = msgspec.msgpack.decode(encode_book(b.book, {}, 0), type=BookImage)
    assert im.loyalty is not None
    lo = msgspec.msgpack.encode([getattr(im.loyalty, f) for f in im.loyalty.__struct_fields__[:-1]])
    old = msgspec.msgpack.decode(lo, type=type(im.loyalty))  # a format 3 loyalty image
    assert old.history == {} and old.points == im.loyalty.points


def test_hqs_points_derive_the_same_with_the_history(chain: Chain) -> None:
    """HQ folds B's uploaded ``member.history`` through B's own loyalty book: the points B's
    Gold order earned are derived the same at HQ (the chain's points pool stays exact)."""
    a, b = chain.store("A"), chain.store("B")
    a.sell("a1", 10_000)
    b.now = a.now + 1
    b.take_history()
    b.sell("b1", 1_000)
    chain.hq.follow()
    assert chain.hq.pool.points["B"].loyalty.points == b.book.loyalty.points == {"m1": 20}
    answer = chain.hq.histories("B", 0)
    chain.hq.close()  # HQ restarts: its folds (B's history with them) and versions are kept
    again = Chain(chain.tmp)
    again.logs, again.clock.t = chain.logs, chain.clock.t
    assert again.hq.pool.points["B"].loyalty.history == b.book.loyalty.history
    assert again.hq.histories("B", 0) == answer


def test_a_bad_history_is_refused() -> None:
    shop = Shop(gold())
    for bad in (
        MemberHistory("", 1, T0, ()),
        MemberHistory("m1", -1, T0, ()),
        MemberHistory("m1", 1, T0, ((T0, -5, 1),)),
    ):
        with pytest.raises(InvalidInput) as e:
            shop.commit(bad)
        assert e.value.code == "member.bad_history"


def test_the_store_pull_journals_members_met_here_and_moves_its_cursor(chain: Chain) -> None:
    a, b = chain.store("A", members=("m1", "m2")), chain.store("B")
    a.sell("a1", 10_000)
    a.sell("a2", 2_000, member="m2")  # m2 never met at B: not journaled by the pull
    b.now = a.now + 1
    chain.clock.t = b.now

    async def ask(query: str) -> dict[str, Any]:
        chain.hq.follow()
        q = dict(p.split("=") for p in query.split("&"))
        return chain.hq.histories("B", int(q.get("since", 0)), 1, q.get("member", ""))

    async def journal(cid: str, body: Any) -> Any:
        return b.commit(body)

    lo = b.book.loyalty
    hs = HistorySync(
        ask,
        sqlite3.connect(":memory:"),
        journal,
        lambda m: m in b.book.members,
        lambda m: lo.history[m].version if m in lo.history else -1,
    )
    assert asyncio.run(hs.pull()) == 1 and set(lo.history) == {"m1"} and hs.since > 0
    assert asyncio.run(hs.pull()) == 0  # nothing new since the cursor
    assert asyncio.run(hs.refresh("m2")) is True  # a member looked up here: journaled
    assert b.tier() == "Gold" and b.tier("m2") is None and "m2" in lo.history
    a.sell("a3", 500, member="m2")
    copy = SimpleNamespace(find=lambda key: {"member": "m2"} if key == "CARD2" else None)
    handles = SimpleNamespace(members_sync=SimpleNamespace(history=hs, copy=copy))
    asyncio.run(refresh_for_key(handles, "CARD2"))  # the till's look-up by card, before the tier
    assert sum(d[1] for d in lo.history["m2"].days) == 2_500


def test_offline_a_refresh_gives_up_at_once_and_the_last_history_stands() -> None:
    asked: list[str] = []

    async def ask(query: str) -> dict[str, Any]:
        asked.append(query)
        raise Unavailable(Chain_.HQ_UNREACHABLE, "HQ: ClientConnectorError")

    async def journal(cid: str, body: Any) -> Any:
        raise AssertionError("nothing to journal offline")

    hs = HistorySync(ask, sqlite3.connect(":memory:"), journal, lambda m: True, lambda m: 3)
    assert asyncio.run(hs.refresh("m1")) is False
    assert asyncio.run(hs.refresh("m1")) is False and len(asked) == 1  # quiet for a while
    with pytest.raises(Unavailable):
        asyncio.run(hs.pull())
    asyncio.run(hs.pull_quietly())  # the member loop's: kept as its error, the loop goes on
    assert hs.last_error == "chain.hq_unreachable"
    ids = {history_cid("m" * 128, v) for v in range(3)}  # a ledger command id, any member id
    assert len(ids) == 3 and all(8 <= len(i) <= 64 and i.isprintable() for i in ids)


@settings(max_examples=40, deadline=None)
@given(
    orders=st.lists(
        st.tuples(st.sampled_from("AB"), st.integers(0, 40), st.integers(1, 6_000)),
        min_size=1,
        max_size=12,
    ),
    ask_day=st.integers(0, 80),
)
def test_the_tier_at_b_is_the_tier_of_all_the_chains_orders(
    tmp_path_factory: Any, orders: list[tuple[str, int, int]], ask_day: int
) -> None:
    """For any orders at A and B: once B has HQ's history, B's tier at any later time equals the
    tier a single store holding every order would compute; a replay of B's journal agrees."""
    chain = Chain(tmp_path_factory.mktemp("hq"))
    a, b = chain.store("A"), chain.store("B")
    one = Shop(gold(GOLD, days=30))  # every order in one store: the reference
    for i, (where, day, total) in enumerate(sorted(orders, key=lambda o: o[1])):
        s = a if where == "A" else b
        s.now = one.now = T0 + day * DAY_US + i
        s.sell(f"o{i}", total)
        one.sell(f"o{i}", total)
    last = max(a.now, b.now)
    b.now = last + 1
    b.take_history()
    b.now = one.now = last + 1 + ask_day * DAY_US // 2
    assert b.tier() == (one.book.loyalty.member_view("m1", one.now)["tier"] or {}).get("name")
    assert _replay(b.journal).loyalty.member_view("m1", b.now) == b.book.loyalty.member_view(
        "m1", b.now
    )
