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
  hand sum of what happened, and no balance anywhere is below zero.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actors.ledger import Ledger, Request, command_hash
from actors.members_sync import ChainLink, MemberCopy, MembersSync
from actors.till import Till, Who
from actors.uploader import FileState, HttpTransport, Uploader
from cloudkit import Cloud, LedgerSource
from domain.catalogue import CatalogueIndex, Product
from domain.errors import Conflict
from domain.events import MemberRegistered, WalletToppedUp
from domain.member_float import Caps
from domain.ports import ManualClock
from domain.store import StoreConfig

pytestmark = pytest.mark.timeout(180)

CAP = 5_000
PRODUCTS = [Product(f"P{n}", {"en": f"Goods {n}"}, n * 100) for n in (10, 20, 30, 50, 80)]


class Store:
    """One store: its ledger and till, its uploader to the cloud, its member loop."""

    def __init__(self, folder: Path, store: str, secret: str, clock: ManualClock) -> None:
        folder.mkdir(parents=True)
        self.id, self.clock = store, clock
        self.ledger = Ledger(folder / "journal.sqlite", clock=clock)
        cfg = StoreConfig(store_id=store, members={"float_cap_wallet": CAP})
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

    def held(self, member: str) -> int:
        return self.ledger.book.floats.float(member)


async def _hq(cloud: Cloud, member: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{cloud.url}/v1/hq/members/{member}", headers=cloud.hq) as r,
    ):
        assert r.status == 200
        return (await r.json())["wallet"]


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
