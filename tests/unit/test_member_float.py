"""The chain rule for members' money (domain.member_float, domain.member_pool; written down in
docs/readme/42-hq-members.md): a member's money = HQ's pool + each store's float.

The state machine below runs two stores (each a real ``Book``, the ledger's commit-time check)
and HQ's ``Pool`` through any interleaving of top-ups, spends, refunds, grants, outages and
uploads. After every step: no float at any store and no pool at HQ is below zero, no store holds
more than its cap (so a store cut off from HQ can lose at most the cap), and a spend over the
float is refused while the store is offline. At the end, with every upload drained, HQ's balance
of each member equals the hand sum of top-ups and refunds minus spends.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.book import Book
from domain.errors import Conflict
from domain.events import (
    MemberRegistered,
    OrderCompleted,
    OrderRefunded,
    Payment,
    RefundLine,
    WalletToppedUp,
)
from domain.member_events import FloatCapsSet, FloatGranted, MemberAuthorised
from domain.member_float import UNLIMITED, Caps, Floats, split_credit
from domain.member_pool import Pool
from orderkit import one_line_order

CAP = 500
STORES = ("A", "B")
MEMBERS = ("m1", "m2")


def order(oid: str, member: str, amount: int, auth: str = "") -> OrderCompleted:
    return one_line_order(oid, amount, (Payment("wallet", amount, member=member, auth=auth),))


def refund(rid: str, o: OrderCompleted) -> OrderRefunded:
    p = o.payments[0]
    return OrderRefunded(
        refund_id=rid,
        order_id=o.order_id,
        currency="THB",
        lines=(RefundLine("L1", "X", 1, o.total, 0),),
        tenders=(Payment(kind="wallet", amount=p.amount, member=p.member),),
        amount=o.total,
    )


class Store:
    def __init__(self, name: str) -> None:
        self.name = name
        self.book = Book()
        self.journal: list[object] = []
        self.uploaded = 0
        self.online = True
        self.commit(FloatCapsSet(wallet=CAP, points=UNLIMITED))

    def commit(self, body: object) -> object:
        body = self.book.check(body, "T1")
        self.journal.append(body)
        self.book.apply(body, "s1", "T1", 0, len(self.journal))
        return body


class Chain(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.hq = Pool()
        self.stores = {s: Store(s) for s in STORES}
        self.ids = itertools.count(1)
        self.hand = dict.fromkeys(MEMBERS, 0)  # top-ups + refunds - spends, by hand
        self.orders: list[tuple[Store, OrderCompleted]] = []

    @initialize()
    def register(self) -> None:
        for m in MEMBERS:  # registered at A: B knows them through HQ
            self.stores["A"].commit(MemberRegistered(member=m, name=m))

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    @rule(s=st.sampled_from(STORES))
    def cut_or_mend(self, s: str) -> None:
        self.stores[s].online = not self.stores[s].online

    @rule(s=st.sampled_from(STORES))
    def upload(self, s: str) -> None:
        store = self.stores[s]
        if store.online:
            for body in store.journal[store.uploaded :]:
                self.hq.fold(s, body)
            store.uploaded = len(store.journal)

    @rule(s=st.sampled_from(STORES), m=st.sampled_from(MEMBERS), amount=st.integers(1, 900))
    def top_up(self, s: str, m: str, amount: int) -> None:
        self.stores[s].commit(WalletToppedUp(member=m, amount=amount, tender="cash"))
        self.hand[m] += amount

    @rule(s=st.sampled_from(STORES), m=st.sampled_from(MEMBERS), amount=st.integers(1, 900))
    def spend(self, s: str, m: str, amount: int) -> None:
        store = self.stores[s]
        held = store.book.floats.float(m)
        auth = ""
        if amount > held and store.online:  # ask HQ for the rest, as the store's gateway does
            g = self.hq.authorise(self._id("k"), s, m, "wallet", amount - held, self._id("auth"))
            if g.amount:
                store.commit(MemberAuthorised(m, "wallet", g.amount, g.id))
                auth = g.id
        body = order(self._id("o"), m, amount, auth)
        if amount > store.book.floats.float(m):
            with pytest.raises(Conflict) as exc:
                store.commit(body)
            assert exc.value.code == "chain.float_exceeded"
            return
        self.orders.append((store, store.commit(body)))  # type: ignore[arg-type]
        self.hand[m] -= amount

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10_000))
    def refund_one(self, pick: int) -> None:
        store, o = self.orders.pop(pick % len(self.orders))
        store.commit(refund(self._id("r"), o))
        self.hand[o.payments[0].member] += o.total

    @rule(s=st.sampled_from(STORES), m=st.sampled_from(MEMBERS))
    def ask_float(self, s: str, m: str) -> None:
        store = self.stores[s]
        if not store.online:
            return
        wanted = CAP - store.book.floats.float(m)
        g = self.hq.grant(self._id("q"), s, m, "wallet", wanted, self._id("grant"))
        if g.amount:
            store.commit(FloatGranted(m, "wallet", g.amount, g.id))

    @invariant()
    def nothing_negative_and_no_store_over_its_cap(self) -> None:
        for store in self.stores.values():
            for (_m, _k), held in store.book.floats.held.items():
                assert 0 <= held <= CAP
            assert store.book.floats.short == 0
        for m in MEMBERS:
            assert self.hq.pool(m) >= 0
            assert all(v >= 0 for v in self.hq.floats(m).values())

    def teardown(self) -> None:
        for s, store in self.stores.items():
            store.online = True
            self.upload(s)
        for m in MEMBERS:
            assert self.hq.balance(m) == self.hand[m]
            assert self.hq.in_transit(m) == 0
            held = sum(st.book.floats.float(m) for st in self.stores.values())
            assert self.hq.pool(m) + held == self.hand[m]


TestChain = Chain.TestCase
TestChain.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_a_credit_fills_the_float_to_the_cap_and_the_rest_goes_to_the_pool() -> None:
    assert split_credit(300, 500, 500) == (200, 300)
    assert split_credit(600, 50, 500) == (0, 50)  # above the cap (an authorisation): all to pool
    assert split_credit(0, 500, 500) == (500, 0)  # exactly the cap: all kept
    assert split_credit(10**6, 7, UNLIMITED) == (7, 0)  # no chain rule: the float is the wallet


def test_offline_a_store_spends_its_float_exactly_and_not_one_unit_more() -> None:
    a = Store("A")
    a.commit(MemberRegistered(member="m1", name="m1"))
    a.commit(WalletToppedUp(member="m1", amount=800, tender="cash"))
    assert a.book.floats.float("m1") == CAP and a.book.floats.pooled[("m1", "wallet")] == 300
    with pytest.raises(Conflict) as exc:
        a.commit(order("o1", "m1", CAP + 1))
    assert exc.value.code == "chain.float_exceeded"
    assert exc.value.to_dict()["details"]["float"] == CAP
    a.commit(order("o2", "m1", CAP))
    assert a.book.floats.float("m1") == 0


def test_without_caps_the_wallet_is_spent_as_before() -> None:
    book = Book()
    book.apply(MemberRegistered(member="m1", name="m1"), "s", "T1", 0, 1)
    book.apply(WalletToppedUp(member="m1", amount=10_000, tender="cash"), "s", "T1", 0, 2)
    book.check(order("o1", "m1", 10_000), "T1")
    with pytest.raises(Conflict) as exc:
        book.check(order("o2", "m1", 10_001), "T1")
    assert exc.value.code == "wallet.insufficient_funds"


def test_hq_answers_a_repeated_key_the_same_and_counts_a_grant_once() -> None:
    hq = Pool()
    hq.opening("open-1", "m1", "wallet", 1000)
    a = hq.authorise("k1", "B", "m1", "wallet", 400, "auth-1")
    assert hq.authorise("k1", "B", "m1", "wallet", 400, "auth-2") == a
    with pytest.raises(Conflict):
        hq.authorise("k1", "B", "m1", "wallet", 401, "auth-3")
    assert hq.pool("m1") == 600
    assert hq.authorise("k2", "B", "m1", "wallet", 601, "auth-4").amount == 0  # all or nothing
    floats = Floats(caps=Caps(CAP, UNLIMITED))
    floats.apply(MemberAuthorised("m1", "wallet", 400, "auth-1"))
    with pytest.raises(Conflict):
        floats.check(MemberAuthorised("m1", "wallet", 400, "auth-1"))
    hq.fold("B", FloatCapsSet(CAP, UNLIMITED))
    hq.fold("B", MemberAuthorised("m1", "wallet", 400, "auth-1"))
    hq.fold("B", MemberAuthorised("m1", "wallet", 400, "auth-1"))  # a re-upload counts once
    assert hq.floats("m1") == {"B": 400} and hq.in_transit("m1") == 0
    assert hq.balance("m1") == 1000


def test_a_snapshot_keeps_the_floats_and_an_older_one_takes_the_wallets_as_floats() -> None:
    import msgspec

    from domain.book_snapshot import decode_book, encode_book

    a = Store("A")
    a.commit(MemberRegistered(member="m1", name="m1"))
    a.commit(WalletToppedUp(member="m1", amount=800, tender="cash"))
    a.commit(MemberAuthorised("m1", "wallet", 100, "auth-1"))
    book, _flags, _ts = decode_book(encode_book(a.book, {}, 0))
    assert book.floats == a.book.floats and book.floats.float("m1") == CAP + 100
    with pytest.raises(Conflict):  # the grant is still known: not taken twice
        book.check(MemberAuthorised("m1", "wallet", 100, "auth-1"), "T1")
    old = msgspec.msgpack.decode(encode_book(a.book, {}, 0))[:-1]  # before the floats were kept
    book, _flags, _ts = decode_book(msgspec.msgpack.encode(old))
    assert book.floats.float("m1") == a.book.wallets["m1"] and not book.floats.caps.limited


def test_an_exchange_spends_the_wallet_credit_only_as_far_as_the_cap_keeps_it() -> None:
    floats = Floats(caps=Caps(CAP, UNLIMITED))
    floats.apply(WalletToppedUp(member="m1", amount=300, tender="cash"))
    back = refund("r1", order("o1", "m1", 400))  # 400 back: 200 to the float, 200 to the pool
    floats.check_after(back, order("o2", "m1", CAP))
    with pytest.raises(Conflict) as exc:
        floats.check_after(back, order("o3", "m1", CAP + 1))
    assert exc.value.code == "chain.float_exceeded"


def test_the_tills_look_up_finds_another_stores_member_and_what_may_be_spent_here(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from actors.members_sync import MemberCopy, MembersSync, look_up

    async def journal(cid: str, body: object) -> None:
        return None

    copy = MemberCopy(tmp_path / "members.sqlite")
    copy.apply([{"member": "A-7", "name": "Ann", "phone": "081", "card": "C7", "home": "A"}])
    floats = Floats(caps=Caps(CAP, UNLIMITED), held={("A-7", "wallet"): 1200})
    sync = MembersSync(None, copy, journal, floats.float, Caps(CAP, UNLIMITED))
    handles = SimpleNamespace(members_sync=sync)
    try:
        m = asyncio.run(look_up(handles, "C7", None))
        assert m is not None and (m["member"], m["home"], m["balance"]) == ("A-7", "A", 1200)
        assert m["online"] is False  # no link to HQ: the float only
        assert asyncio.run(look_up(handles, "nobody", None)) is None
        sync.caps = Caps()  # the rule off: the store's own answer, untouched
        assert asyncio.run(look_up(handles, "C7", {"member": "x"})) == {"member": "x"}
    finally:
        copy.close()
    assert (tmp_path / "members.sqlite").stat().st_mode & 0o077 == 0
