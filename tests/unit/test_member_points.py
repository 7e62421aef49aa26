"""Points under the chain rule (``domain.member_float``, ``domain.member_points``): points an
order earns fill the store's points float up to its cap and the rest goes to HQ's pool; a points
spend beyond the float needs HQ's authorisation; HQ, folding the store's uploaded events alone,
derives the same points (tiers included) and so the same floats and pool; a refund takes the
earned points back from the float."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from domain.book_snapshot import BookImage, decode_book, encode_book
from domain.errors import Conflict
from domain.events import Payment
from domain.member_events import FloatCapsSet, MemberAuthorised
from domain.member_pool import Pool
from tests.kits.loyaltykit import Shop, gold, order, points

CAP = 100  # points a store holds per member


class Store(Shop):
    """A loyalty shop whose events are also uploaded to HQ's pool (store id ``sid``)."""

    def __init__(self, sid: str, hq: Pool, members: tuple[str, ...] = ("m1",)) -> None:
        self.sid, self.hq, self.up = sid, hq, []
        super().__init__(gold(20_000, days=30), members)
        self.commit(FloatCapsSet(-1, CAP))

    def commit(self, body: Any, till: str = "T1") -> Any:
        body = super().commit(body, till)
        self.hq.fold(self.sid, body, self.now)  # uploaded at once (the test says when not)
        return body

    def float(self, member: str = "m1") -> int:
        return self.book.floats.float(member, "points")


def test_points_earned_fill_the_float_to_its_cap_and_the_rest_goes_to_hqs_pool():
    hq = Pool()
    a = Store("A", hq)
    a.sell("o1", 20_000)  # 200 points: 100 stay at A, 100 go to HQ's pool
    assert a.points["m1"] == 200
    assert a.float() == CAP and hq.pool("m1", "points") == 100
    a.days(1)
    a.sell("o2", 10_000)  # Gold (200.00 in 30 days) from here: x2 -> 200 points, all to the pool
    assert hq.pool("m1", "points") == 300 and a.float() == CAP
    assert hq.balance("m1", "points") == 400 == a.points["m1"]
    assert hq.floats("m1", "points") == {"A": CAP}  # HQ derived every figure itself


def test_points_earned_at_a_are_spent_at_b_with_hqs_authorisation_and_refused_without():
    hq = Pool()
    a, b = Store("A", hq), Store("B", hq, members=())  # m1 is A's member
    a.sell("o1", 20_000)  # 200 points: 100 at A, 100 in the pool
    with pytest.raises(Conflict) as e:  # B holds none of m1's points and HQ was not asked
        b.sell("b1", 1_000, points("m1", 500, 50))
    assert e.value.code == "chain.float_exceeded"
    g = hq.authorise("k1", "B", "m1", "points", 50, "auth-1")  # what the gateway asks HQ
    assert g.amount == 50 and hq.pool("m1", "points") == 50
    b.commit(MemberAuthorised("m1", "points", 50, g.id))
    b.sell("b1", 1_000, points("m1", 500, 50))  # 5.00 of 10.00 with 50 points
    assert b.float() == 5  # the 5.00 paid otherwise earns 5 points at B
    assert hq.balance("m1", "points") == 200 - 50 + 5
    with pytest.raises(Conflict):  # more than the pool: HQ gives nothing
        assert hq.authorise("k2", "B", "m1", "points", 60, "auth-2").amount == 0
        b.sell("b2", 1_000, points("m1", 600, 60))


def test_a_refund_takes_the_earned_points_back_from_the_float_and_gives_spent_ones_back():
    hq = Pool()
    a = Store("A", hq)
    a.sell("o1", 8_000)  # 80 points, all in A's float
    a.sell("o2", 1_000, points("m1", 300, 30))  # 30 spent, 7 earned
    assert a.float() == 57
    a.refund("o1", None)  # o1 back in full: its 80 points are taken back... only 57 are here
    assert a.float() == 0 and a.book.floats.short == 0  # the 23 spent are not clawed back
    a.refund("o2", None)  # o2 back: its 30 points return, its 7 earned go
    assert hq.floats("m1", "points") == {"A": a.float()}
    assert hq.pool("m1", "points") == 0


def test_a_snapshot_keeps_the_points_floats_and_an_older_one_is_seeded_from_the_balances():
    hq = Pool()
    a = Store("A", hq)
    a.sell("o1", 5_000)
    book, _, _ = decode_book(encode_book(a.book, {}, a.now))
    assert book.floats.float("m1", "points") == 50
    im = msgspec.msgpack.decode(encode_book(a.book, {}, a.now), type=BookImage)
    assert im.floats is not None
    del im.floats["points_rule"]  # a snapshot written before points followed the rule
    im.floats["held"] = [h for h in im.floats["held"] if h[1] != "points"]
    book, _, _ = decode_book(msgspec.msgpack.encode(im))
    assert book.floats.float("m1", "points") == 50  # the member's points stayed in the store


def test_an_abandoned_authorisation_goes_back_to_the_pool_once(tmp_path):
    """HQ authorised 30.00 for a wallet sale that never committed: after ``abandon_s`` the
    store gives back what its float holds above the cap, journaled once; HQ's pool gets it once
    (an upload read twice changes nothing); a spent authorisation is never given back."""
    import asyncio
    import uuid

    from actors.ledger import Ledger, Request, command_hash
    from actors.members_sync import MemberCopy, MembersSync
    from domain.events import MemberRegistered, WalletToppedUp
    from domain.member_float import Caps
    from domain.ports import ManualClock

    led = Ledger(tmp_path / "journal.sqlite", clock=ManualClock())
    hq, floats = Pool(), led.book.floats
    folded: list[Any] = []

    async def journal(cid: str, body: Any) -> Any:
        ack = led.submit(Request(cid, command_hash("system", cid), body, "system"))
        folded.append(ack.body)
        hq.fold("S1", ack.body)
        return ack

    def run(body: Any) -> None:
        asyncio.run(journal(str(uuid.uuid4()), body))

    for body in (
        FloatCapsSet(5_000, 100),
        MemberRegistered("M1", "Ann"),
        WalletToppedUp("M1", 5_000, "cash"),  # the float at its cap
        MemberAuthorised("M1", "wallet", 3_000, "auth-1"),  # for a sale then dropped
    ):
        run(body)
    hq.opening("o1", "M1", "wallet", 3_000)  # the pool held 30.00
    assert hq.authorise("k1", "S1", "M1", "wallet", 3_000, "auth-1").amount == 3_000
    clock = [0.0]
    sync = MembersSync(
        None,
        MemberCopy(tmp_path / "members.sqlite"),
        journal,
        floats.float,
        Caps(5_000, 100),
        pending=lambda: dict(floats.pending),
        abandon_s=600,
        now_s=lambda: clock[0],
    )
    assert asyncio.run(sync.return_abandoned()) == 0  # seen now
    clock[0] = 599
    assert asyncio.run(sync.return_abandoned()) == 0
    assert floats.float("M1") == 8_000
    clock[0] = 600
    assert asyncio.run(sync.return_abandoned()) == 1
    assert floats.float("M1") == 5_000 and led.book.balance("M1") == 5_000
    assert asyncio.run(sync.return_abandoned()) == 0  # once
    hq.fold("S1", folded[-1])  # the same upload read again
    assert hq.floats("M1") == {"S1": 5_000} and hq.in_transit("M1") == 0
    assert hq.pool("M1") == 3_000 and hq.balance("M1") == 8_000  # back in the pool, once
    with pytest.raises(Conflict):  # the store cannot give it back twice either
        run(folded[-1])
    run(MemberAuthorised("M1", "wallet", 1_000, "auth-2"))  # this one is spent by its sale
    run(order("sale-2", 1_000, (Payment("wallet", 1_000, member="M1", auth="auth-2"),), "M1"))
    clock[0] = 5_000
    assert "auth-2" not in floats.pending and asyncio.run(sync.return_abandoned()) == 0
    sync.copy.close()
    led.journal.close()


def test_member_float_events_become_warehouse_rows():
    """``member.float_granted/authorised/float_returned`` → ``member_floats`` rows (the store's
    analytics copy and HQ's warehouse flatten with the same function)."""
    from analytics.flatten import flatten
    from domain.journal_format import encode_body
    from domain.member_events import FloatGranted, FloatReturned

    bodies = [
        ("member.float_granted", FloatGranted("M1", "wallet", 2_000, "g-1")),
        ("member.authorised", MemberAuthorised("M1", "points", 150, "a-1")),
        ("member.float_returned", FloatReturned("M1", "points", 40, "a-1")),
    ]
    evs = [
        {"seq": i, "id": f"e{i}", "ts": 1_700_000_000_000_000, "kind": k, "v": 1, "staff": "",
         "till": "", "ip": "", "agg": "M1", "body": msgspec.json.decode(encode_body(b)), "hash": ""}
        for i, (k, b) in enumerate(bodies, 1)
    ]  # fmt: skip
    rows = flatten(evs, "S1", "Asia/Bangkok")["member_floats"]
    got = rows.select("member", "kind", "event", "amount", "ref").rows()
    assert got == [
        ("M1", "wallet", "granted", 2_000, "g-1"),
        ("M1", "points", "authorised", 150, "a-1"),
        ("M1", "points", "returned", -40, "a-1"),
    ]
    assert rows["store_id"].to_list() == ["S1"] * 3


def test_the_stores_loyalty_look_up_finds_another_stores_member_by_card(tmp_path):
    """With a points cap, ``GET /v1/members/{card}/loyalty`` (``loyalty_view``) finds a member
    this store's book has never met in HQ's copy, with the points this store may spend (its
    float; HQ's pool too when online); a key nobody knows is still 404."""
    import asyncio
    from types import SimpleNamespace

    from actors.ledger import Ledger, Request, command_hash
    from actors.members_sync import MemberCopy, MembersSync, loyalty_view
    from domain.errors import NotFound
    from domain.loyalty import LoyaltyRulesSet
    from domain.member_float import Caps
    from domain.ports import ManualClock

    led = Ledger(tmp_path / "journal.sqlite", clock=ManualClock())
    for i, body in enumerate((FloatCapsSet(-1, CAP), LoyaltyRulesSet(gold(20_000)))):
        led.submit(Request(f"command-{i}", command_hash("system", f"command-{i}"), body, "system"))
    copy = MemberCopy(tmp_path / "members.sqlite")
    copy.apply(
        [{"member": "A-1", "name": "Ann", "phone": "", "card": "C-77", "home": "A", "version": 1}]
    )
    sync = MembersSync(None, copy, None, led.book.floats.float, Caps(-1, CAP))  # type: ignore[arg-type]

    class LedgerClient:
        async def loyalty(self, key: str) -> dict:
            book = led.book
            return book.loyalty.member_view(book.find_member(key).member, led.clock.now_us())

    handles = SimpleNamespace(
        members_sync=sync, ledger=LedgerClient(), ledger_shell=SimpleNamespace(ledger=led)
    )
    view = asyncio.run(loyalty_view(handles, "C-77"))
    assert (view["member"], view["points"], view["online"]) == ("A-1", 0, False)
    assert view["point_value"] == 10
    with pytest.raises(NotFound):
        asyncio.run(loyalty_view(handles, "nobody"))
    copy.close()
    led.journal.close()
