"""Members across the chain, with the cloud going down (the rule: docs/readme/42-hq-members.md).

Two stores (each a real ledger and till on its own journal, with its real uploader and member
loop) and one cloud on 127.0.0.1. Each store may hold at most CAP of a member's wallet (its float,
``store.json`` ``members.float_cap_wallet``); the rest of the member's money is HQ's pool.

* a member registered and topped up at store A is found at store B (by card) after B's pull;
* with the cloud up, B spends more than it holds: HQ authorises the rest from the pool;
* B asks HQ to fill its float to the cap; then the cloud stops: both stores keep selling to the
  member within their floats, a spend over the float is refused with ``chain.float_exceeded``, so
  the money spent while cut off is at most the caps; a top-up offline fills B's float, the excess
  waits for HQ;
* the cloud comes back: the uploads drain and HQ's balances (pool, floats, in transit) equal the
  hand sum of what happened, and no balance anywhere is below zero;
* a member's tier follows them: spend at A makes them Gold at B once B journals HQ's history of
  their orders elsewhere (``member.history``), also while the cloud is down afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from actors.history_sync import refresh_for_key
from actors.history_sync import start_for as start_history
from actors.ledger import Ledger, Request, command_hash
from actors.members_sync import ChainLink, MemberCopy, MembersSync
from actors.till import Till, Who
from actors.uploader import FileState, HttpTransport, Uploader
from cloudkit import Cloud, LedgerSource
from domain.catalogue import CatalogueIndex, Product
from domain.errors import Conflict
from domain.events import MemberRegistered, WalletToppedUp
from domain.loyalty import LoyaltyRules, LoyaltyRulesSet, Tier
from domain.member_float import Caps
from domain.ports import ManualClock
from domain.store import StoreConfig

pytestmark = pytest.mark.timeout(180)

CAP = 5_000
PCAP = 100  # points a store holds per member
RULES = LoyaltyRules(points_per_unit=1, unit=100, point_value=10)  # 1 point per 1.00; 0.10 each
PRODUCTS = [Product(f"P{n}", {"en": f"Goods {n}"}, n * 100) for n in (10, 20, 30, 50, 80)]


class Store:
    """One store: its ledger and till, its uploader to the cloud, its member loop."""

    def __init__(self, folder: Path, store: str, secret: str, clock: ManualClock) -> None:
        folder.mkdir(parents=True)
        self.id, self.clock = store, clock
        self.ledger = Ledger(folder / "journal.sqlite", clock=clock)
        cfg = StoreConfig(
            store_id=store, members={"float_cap_wallet": CAP, "float_cap_points": PCAP}
        )
        self.till = Till("T1", cfg, CatalogueIndex(PRODUCTS))
        self.who = Who(staff="alice", ip="10.0.0.5")
        self.folder, self.secret = folder, secret
        self.sync = MembersSync(
            None,
            MemberCopy(folder / "members.sqlite"),
            self.journal,
            self.ledger.book.floats.float,
            Caps.from_config(cfg.members),
        )

    def link(self, url: str) -> None:
        self.sync.link = ChainLink(
            url, self.id, bytes.fromhex(self.secret), now_s=lambda: self.clock.now_us() / 1e6
        )
        self.uploader = Uploader(
            LedgerSource(self.ledger),
            HttpTransport(url, timeout_s=2.0),
            FileState(self.folder / "up.json"),
            self.clock,
            store=self.id,
            secret=self.secret,
            interval_s=0.05,
            backoff_base_s=0.01,
            backoff_cap_s=0.05,
        )

    async def journal(self, cid: str, body: Any) -> Any:
        return self.ledger.submit(Request(cid, command_hash("system", cid), body, "system"))

    def _do(self, op: str, args: dict) -> dict:
        r = self.till.prepare(str(uuid.uuid4()), op, args, self.who)
        return self.till.commit(self.ledger.submit(r))

    def register(self, member: str, card: str) -> None:
        body = MemberRegistered(member, f"Member {member}", "0812345678", card)
        self.ledger.submit(Request(str(uuid.uuid4()), b"m", body))

    def top_up(self, member: str, amount: int) -> None:
        self.ledger.submit(Request(str(uuid.uuid4()), b"t", WalletToppedUp(member, amount, "cash")))

    async def pay_by_wallet(self, member: str, amount: int) -> None:
        """Sell goods worth ``amount`` paid from the member's wallet, as the gateway does: ask HQ
        to authorise what the float lacks, then pay; a refused payment voids the basket."""
        self._do("add", {"sku": f"P{amount // 100}"})
        args = {"tenders": [{"kind": "wallet", "member": member, "amount": amount}]}
        await self.sync.pay_tenders(args, str(uuid.uuid4()))  # the gateway's hook before "pay"
        try:
            self._do("pay", args)
        except Conflict:
            self._do("void", {})
            raise

    def held(self, member: str, kind: str = "wallet") -> int:
        return self.ledger.book.floats.float(member, kind)

    def sell_to(self, member: str, sku: str) -> None:
        """A card sale naming ``member``: it earns their points."""
        self._do("add", {"sku": sku})
        card = {
            "kind": "card",
            "amount": self.till.view()["total"],
            "reference": "r",
            "last4": "4242",
        }
        self._do("pay", {"tenders": [card], "member": member})

    async def pay_with_points(self, member: str, sku: str, pts: int) -> None:
        """``pts`` points (0.10 each) and the rest by card, as the gateway does: HQ authorises
        what the points float lacks first; a refused payment voids the basket."""
        self._do("add", {"sku": sku})
        rest = self.till.view()["total"] - pts * 10
        tenders: list[dict[str, Any]] = [
            {"kind": "points", "member": member, "amount": pts * 10, "points": pts}
        ]
        if rest:
            tenders.append({"kind": "card", "amount": rest, "reference": "r", "last4": "4242"})
        args = {"tenders": tenders}
        await self.sync.pay_tenders(args, str(uuid.uuid4()))
        try:
            self._do("pay", args)
        except Conflict:
            self._do("void", {})
            raise


async def _hq_all(cloud: Cloud, member: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{cloud.url}/v1/hq/members/{member}", headers=cloud.hq) as r,
    ):
        assert r.status == 200
        return dict(await r.json())


async def _hq(cloud: Cloud, member: str) -> dict[str, Any]:
    return dict((await _hq_all(cloud, member))["wallet"])


def test_two_stores_share_a_members_money_through_an_outage(tmp_path):
    clock = ManualClock()
    data = tmp_path / "cloud"
    a = Store(tmp_path / "A", "S001", Cloud.register(data, "S001"), clock)
    b = Store(tmp_path / "B", "S002", Cloud.register(data, "S002"), clock)

    async def main() -> None:
        cloud = await Cloud(data, clock).start()
        for s in (a, b):
            s.link(cloud.url)
            await s.sync.set_caps()
        try:
            a.register("M1", card="7700123")
            a.top_up("M1", 20_000)  # A keeps the cap, 15,000 goes to the pool
            assert a.held("M1") == CAP
            await a.uploader.drain()

            assert await b.sync.pull() >= 1  # registered at A, found at B
            found = b.sync.copy.find("7700123")
            assert found is not None and found["member"] == "M1" and found["home"] == "S001"

            seen = await b.sync.spendable("M1")  # what B's till may take: float + HQ's pool
            assert seen == {"balance": 15_000, "float": 0, "online": True}
            await b.pay_by_wallet("M1", 8_000)  # B holds nothing: HQ authorises from the pool
            paid = b.ledger.book.orders.values()
            auths = [p.auth for o in paid for p in o.order.payments]
            assert len(auths) == 1 and auths[0] in b.ledger.book.floats.grants
            await b.uploader.drain()
            hq = await _hq(cloud, "M1")
            assert hq["balance"] == 12_000 and hq["pool"] == 7_000
            assert hq["floats"] == {"S001": CAP, "S002": 0}

            assert await b.sync.refill("M1") == CAP  # B's float filled to the cap from the pool
            assert b.held("M1") == CAP

            await cloud.stop()  # ---------------------------------------------- HQ is gone
            assert (await b.sync.spendable("M1"))["balance"] == CAP  # offline: the float only
            await b.pay_by_wallet("M1", 3_000)
            with pytest.raises(Conflict) as refused:
                await b.pay_by_wallet("M1", 3_000)  # only 2,000 left at B
            assert refused.value.code == "chain.float_exceeded"
            assert refused.value.to_dict()["details"]["float"] == 2_000
            await b.pay_by_wallet("M1", 2_000)
            await a.pay_by_wallet("M1", 3_000)
            await a.pay_by_wallet("M1", 2_000)
            with pytest.raises(Conflict):
                await a.pay_by_wallet("M1", 1_000)
            assert a.held("M1") == b.held("M1") == 0  # spent offline: exactly the two caps
            b.top_up("M1", 7_000)  # B's float back to the cap; 2,000 waits for HQ
            assert b.held("M1") == CAP

            await cloud.start()  # ------------------------------------------- HQ is back
            await asyncio.gather(a.uploader.drain(), b.uploader.drain())
            hq = await _hq(cloud, "M1")
            hand = 20_000 - 8_000 - 3_000 - 2_000 - 3_000 - 2_000 + 7_000
            assert hq["balance"] == hand == 9_000
            assert hq["pool"] == 7_000 - CAP + 2_000 and hq["in_transit"] == 0
            assert hq["floats"] == {"S001": 0, "S002": CAP}
            assert min(hq["pool"], *hq["floats"].values()) >= 0
        finally:
            for s in (a, b):
                await s.uploader.transport.close()
            await cloud.stop()

    try:
        asyncio.run(main())
    finally:
        for s in (a, b):
            s.ledger.journal.close()
            s.sync.copy.close()


def test_points_earned_at_one_store_are_spent_at_another_online_and_within_the_float_offline(
    tmp_path,
):
    """Points follow the same rule: earned at A (A keeps PCAP, the rest goes to HQ's pool,
    derived by HQ from A's uploaded orders), spent at B with HQ's authorisation online; with the
    cloud down both stores spend at most their points floats; HQ ends with the hand sum."""
    clock = ManualClock()
    data = tmp_path / "cloud"
    a = Store(tmp_path / "A", "S001", Cloud.register(data, "S001"), clock)
    b = Store(tmp_path / "B", "S002", Cloud.register(data, "S002"), clock)

    async def main() -> None:
        cloud = await Cloud(data, clock).start()
        for s in (a, b):
            s.link(cloud.url)
            await s.sync.set_caps()
            await s.journal(f"rules-{s.id}", LoyaltyRulesSet(RULES))
        try:
            a.register("M1", card="7700123")
            for _ in range(4):
                a.sell_to("M1", "P80")  # 4 x 80.00: 320 points
            assert a.held("M1", "points") == PCAP  # A keeps its cap, 220 go to the pool
            await a.uploader.drain()
            assert await b.sync.pull() >= 1
            seen = await b.sync.spendable("M1", "points")
            assert seen == {"balance": 220, "float": 0, "online": True}  # A keeps its 100

            await b.pay_with_points("M1", "P20", 150)  # 15.00 of 20.00: HQ authorises 150
            assert b.held("M1", "points") == 5  # the 5.00 paid by card earned 5 points at B
            await b.uploader.drain()
            hq = (await _hq_all(cloud, "M1"))["points"]
            assert hq["balance"] == 320 - 150 + 5 and hq["pool"] == 220 - 150
            assert hq["floats"] == {"S001": PCAP, "S002": 5}

            await cloud.stop()  # ---------------------------------------------- HQ is gone
            with pytest.raises(Conflict) as refused:
                await b.pay_with_points("M1", "P10", 6)  # B holds 5 points
            assert refused.value.code == "chain.float_exceeded"
            await b.pay_with_points("M1", "P10", 5)  # 0.50 by points, 9.50 by card: +9 points
            await a.pay_with_points("M1", "P10", 100)  # all 10.00 by A's 100 points
            with pytest.raises(Conflict):
                await a.pay_with_points("M1", "P10", 1)
            assert a.held("M1", "points") == 0 and b.held("M1", "points") == 9

            await cloud.start()  # ------------------------------------------- HQ is back
            await asyncio.gather(a.uploader.drain(), b.uploader.drain())
            hq = (await _hq_all(cloud, "M1"))["points"]
            hand = 320 - 150 + 5 - 5 + 9 - 100
            assert hq["balance"] == hand == 79 and hq["in_transit"] == 0
            assert hq["pool"] == 70 and hq["floats"] == {"S001": 0, "S002": 9}
        finally:
            for s in (a, b):
                await s.uploader.transport.close()
            await cloud.stop()

    try:
        asyncio.run(main())
    finally:
        for s in (a, b):
            s.ledger.journal.close()
            s.sync.copy.close()


GOLD = Tier("Gold", "spend", 10_000, 30, discount_bp=500, multiplier_bp=20_000)


def test_a_members_tier_follows_them_to_another_store_and_stands_offline(tmp_path):
    """Gold (x2 points, 5 % off) from 100.00 spent in 30 days, anywhere in the chain: 110.00
    spent at A makes the member Gold at B once B has journaled HQ's history (B's till looks the
    card up: ``refresh_for_key``); B's ledger takes the Gold discount and earns x2, HQ derives
    B's points the same; with the cloud down the last history stands; a replay agrees."""
    clock = ManualClock()
    data = tmp_path / "cloud"
    a = Store(tmp_path / "A", "S001", Cloud.register(data, "S001"), clock)
    b = Store(tmp_path / "B", "S002", Cloud.register(data, "S002"), clock)
    rules = LoyaltyRules(points_per_unit=1, unit=100, point_value=10, tiers=(GOLD,))
    hb = SimpleNamespace(members_sync=b.sync, ledger_shell=SimpleNamespace(ledger=b.ledger))

    def tier_at_b() -> str | None:
        view = b.ledger.book.loyalty.member_view("M1", clock.now_us())
        return None if view["tier"] is None else str(view["tier"]["name"])

    def sell_gold_at_b(sku: str) -> Any:
        b._do("add", {"sku": sku})
        b._do("member", {"member": "M1", "tier": "Gold", "discount_bp": 500})
        total = b.till.view()["total"]
        card = {"kind": "card", "amount": total, "reference": "r", "last4": "4242"}
        b._do("pay", {"tenders": [card], "member": "M1"})
        return max(dict.values(b.ledger.book.orders), key=lambda r: r.seq).order

    async def main() -> None:
        cloud = await Cloud(data, clock).start()
        for s in (a, b):
            s.link(cloud.url)
            await s.sync.set_caps()
            await s.journal(f"rules-{s.id}", LoyaltyRulesSet(rules))
        b.sync.history = start_history(hb, b.sync.link, b.sync.copy.con, b.journal)
        try:
            a.register("M1", card="7700123")
            a.sell_to("M1", "P80")
            a.sell_to("M1", "P30")  # 110.00 at A: Gold
            await a.uploader.drain()
            assert await b.sync.pull() >= 1 and tier_at_b() is None
            with pytest.raises(Conflict) as refused:  # B's ledger cannot see Gold yet
                sell_gold_at_b("P20")
            assert refused.value.code == "tier.discount_changed"
            b._do("void", {})
            assert await b.sync.history.pull() == 0  # M1 never met at B: not pulled
            await refresh_for_key(hb, "7700123")  # the till looks the card up at B
            assert tier_at_b() == "Gold"
            o = sell_gold_at_b("P20")
            assert (o.tier, o.member_discount_bp) == ("Gold", 500) and o.member_discount > 0
            earned = o.total * 2 // 100  # x2 at Gold
            assert b.ledger.book.loyalty.balance("M1") == earned
            await b.uploader.drain()
            hq = (await _hq_all(cloud, "M1"))["points"]
            assert hq["floats"]["S002"] == min(earned, PCAP)  # HQ derived B's x2 as well

            await cloud.stop()  # ---------------------------------------------- HQ is gone
            await refresh_for_key(hb, "7700123")  # gives up; the last history stands
            assert tier_at_b() == "Gold"
            assert sell_gold_at_b("P10").member_discount_bp == 500
        finally:
            for s in (a, b):
                await s.uploader.transport.close()
            await cloud.stop()

    try:
        asyncio.run(main())
        live = b.ledger.book.loyalty.member_view("M1", clock.now_us())
        b.ledger.journal.close()
        b.ledger = Ledger(tmp_path / "B" / "journal.sqlite", clock=clock)  # a replay
        assert b.ledger.book.loyalty.member_view("M1", clock.now_us()) == live
    finally:
        for s in (a, b):
            s.ledger.journal.close()
            s.sync.copy.close()


def test_hq_member_routes_refuse_strangers_and_import_with_row_errors(tmp_path):
    clock = ManualClock()
    data = tmp_path / "cloud"
    secret = bytes.fromhex(Cloud.register(data, "S001"))
    csv = (
        b"member,name,phone,card,consent,wallet\n"
        b"H1,Ann,0811111111,C-1,yes,5000\n"
        b"H2,Bob,,C-1,no,\n"  # row 3: Ann's card
        b"H3,Cid,,,maybe,abc\n"  # row 4: consent and wallet wrong
    )

    async def main() -> None:
        cloud = await Cloud(data, clock).start()
        link = ChainLink(cloud.url, "S001", secret, now_s=lambda: clock.now_us() / 1e6)
        url = f"{cloud.url}/v1/hq/members/import?name=m.csv"
        try:
            async with aiohttp.ClientSession() as s:
                async with s.post(url, data=csv) as r:
                    assert r.status == 401  # HQ's routes need HQ's token
                for _ in range(2):  # the same file twice: the second changes nothing
                    async with s.post(url, data=csv, headers=cloud.hq) as r:
                        res = await r.json()
                    assert r.status == 422 and res["imported"] == 1
                    assert [e["row"] for e in res["errors"]] == [3, 4]
                    assert "C-1" in res["errors"][0]["error"]
                body = b'{"key":"k1","store":"S001","kind":"wallet","amount":1}'
                async with s.post(f"{cloud.url}/v1/members/H1/authorise", data=body) as r:
                    assert r.status == 401  # a store signs its requests
                async with s.get(f"{cloud.url}/v1/hq/members/export.csv", headers=cloud.hq) as r:
                    rows = (await r.text()).splitlines()
                assert rows[1] == "H1,Ann,0811111111,C-1,HQ,yes,5000,0"
            page = await link.changes(0)
            assert [(m["member"], m["home"]) for m in page["members"]] == [("H1", "HQ")]
            assert "consent" not in page["members"][0]  # only what a till needs
            refused = await link.authorise("H1", "wallet", 5_001, "k1")
            assert refused["granted"] is False
            ok = await link.authorise("H1", "wallet", 5_000, "k2")
            assert ok["granted"] and ok["amount"] == 5_000
            assert await link.authorise("H1", "wallet", 5_000, "k2") == ok  # same key, same answer
            with pytest.raises(Exception, match="409 chain.key_reused"):
                await link.authorise("H1", "wallet", 4_000, "k2")
            other = ChainLink(cloud.url, "S001", secret, now_s=lambda: clock.now_us() / 1e6)
            other.store = "S002"  # S001's secret, signing as S002: refused
            with pytest.raises(Exception, match="401"):
                await other.changes(0)
        finally:
            await cloud.stop()

    asyncio.run(main())
