"""HQ's coupons across the chain, with the cloud going down (the rule: ``domain.coupon_chain``,
docs/readme/34e-till-coupons.md).

Two stores (each a real ledger and till on its own journal, with its coupon loop) and one cloud
on 127.0.0.1. HQ issues a coupon with 5 uses for both stores, 1 use each offline (the quota),
so 3 uses are HQ's pool:

* both stores pull it (a re-pull journals nothing twice);
* store A sells 3 times online: each sale claims one use from the pool first (a pay retried
  with the same command id claims once);
* the cloud stops: A still has its own quota use and sells once more; B sells its one and is
  then refused (``coupon.used_up``); so is A: 5 uses in all, never more;
* the cloud comes back: HQ (and ``kassa admin coupons list``) shows 3 claimed; HQ revokes the
  coupon and a store that pulls it refuses the coupon from then on; strangers are refused.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from actors.coupons_sync import CouponLink, CouponsSync, with_pool
from actors.ledger import Ledger, Request, command_hash
from actors.till import Till, Who
from cloudkit import Cloud
from domain.catalogue import CatalogueIndex, Product
from domain.errors import KassaError
from domain.ports import ManualClock
from domain.store import StoreConfig
from kassa_cli.main import main as kassa

pytestmark = pytest.mark.timeout(180)

CODE = "CHAIN5OFF"
PRODUCTS = [Product("P10", {"en": "Goods"}, 1_000)]


class Store:
    def __init__(self, folder: Path, store: str, secret: str, clock: ManualClock) -> None:
        folder.mkdir(parents=True)
        self.id = store
        self.ledger = Ledger(folder / "journal.sqlite", clock=clock)
        self.till = Till("T1", StoreConfig(store_id=store), CatalogueIndex(PRODUCTS))
        self.who = Who(staff="alice", ip="10.0.0.5")
        self.secret, self.clock, self.folder = bytes.fromhex(secret), clock, folder
        self.sync = CouponsSync(None, self.journal, self.coupon_of, folder / "hq_coupons.json")

    def link(self, url: str) -> None:
        now = lambda: self.clock.now_us() / 1e6  # noqa: E731
        self.sync.link = CouponLink(url, self.id, self.secret, timeout_s=2.0, now_s=now)

    def coupon_of(self, code: str) -> Any:
        return self.ledger.book.loyalty.coupons.get(code)

    async def journal(self, cid: str, body: Any) -> Any:
        return self.ledger.submit(Request(cid, command_hash("system", cid), body, "system"))

    def _do(self, op: str, args: dict, cid: str = "") -> dict:
        r = self.till.prepare(cid or str(uuid.uuid4()), op, args, self.who)
        return self.till.commit(self.ledger.submit(r))

    async def sell_with_coupon(self, retried: bool = False) -> None:
        """Goods of 10.00, 5.00 paid by the coupon, as the gateway does: its hook claims a use
        at HQ first (online), then the pay; a refused pay voids the basket."""
        self._do("add", {"sku": "P10"})
        args = {"tenders": [{"kind": "coupon", "amount": 500, "reference": CODE},
                            {"kind": "cash", "amount": 500}]}  # fmt: skip
        cid = str(uuid.uuid4())
        for _ in range(2 if retried else 1):  # a till's retry of a lost reply: the same id
            await self.sync.pay_tenders(args, cid)
        try:
            self._do("pay", args, cid)
        except KassaError:
            self._do("void", {})
            raise

    def uses(self) -> tuple[int, int]:
        st = self.coupon_of(CODE)
        return st.used, st.coupon.uses


async def _hq(cloud: Cloud, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, cloud.url + path, json=body, headers=cloud.hq) as r,
    ):
        return r.status, await r.json()


def test_an_hq_coupon_is_used_at_most_as_issued_across_two_stores_and_an_outage(tmp_path, capsys):
    clock = ManualClock()
    data = tmp_path / "cloud"
    a = Store(tmp_path / "A", "S001", Cloud.register(data, "S001"), clock)
    b = Store(tmp_path / "B", "S002", Cloud.register(data, "S002"), clock)

    async def main() -> None:
        cloud = await Cloud(data, clock).start()
        for s in (a, b):
            s.link(cloud.url)
        try:
            async with (
                aiohttp.ClientSession() as s,
                s.post(f"{cloud.url}/v1/hq/coupons", json={"kind": "amount"}) as r,
            ):
                assert r.status == 401  # HQ's routes need HQ's credentials
            doc = {"code": CODE, "kind": "amount", "value": 500, "uses": 5, "quota": 3}
            status, refused = await _hq(cloud, "POST", "/v1/hq/coupons", doc)
            assert status == 400 and refused["code"] == "coupon.bad_quota"  # 3 × 2 > 5
            status, made = await _hq(cloud, "POST", "/v1/hq/coupons", {**doc, "quota": 1})
            assert status == 200 and made["pool"] == 3 and made["stores"] == ["S001", "S002"]

            for s in (a, b):
                assert await s.sync.pull() == 1
                assert await s.sync.pull() == 0  # nothing new: nothing journaled twice
                assert s.uses() == (0, 1)  # the quota: one use offline
                assert s.coupon_of(CODE).coupon.issued_by == "hq"
            till_view = {"code": CODE, "issued_by": "hq", "left": 1}  # the store's own use
            seen = await with_pool(SimpleNamespace(coupons_sync=b.sync), till_view)
            assert seen["left"] == 1 + 3 and seen["online"]  # what a till is told: HQ's too
            for n in range(3):  # online: each sale claims a use from HQ's pool first
                await a.sell_with_coupon(retried=n == 0)
            assert a.uses() == (3, 4)  # quota 1 + 3 claimed, 3 used
            again = await a.sync.link.claim(CODE, "same-key")
            assert again["granted"] is False  # the pool is empty now
            await cloud.stop()  # ---------------------------------------------- HQ is gone

            seen = await with_pool(SimpleNamespace(coupons_sync=b.sync), till_view)
            assert seen["left"] == 1 and not seen["online"]  # offline: B's own use only
            await b.sell_with_coupon()  # B's own use, offline
            with pytest.raises(KassaError) as used_up:
                await b.sell_with_coupon()
            assert used_up.value.code == "coupon.used_up"
            await a.sell_with_coupon()  # A's quota use, still unused
            with pytest.raises(KassaError):
                await a.sell_with_coupon()
            assert a.uses()[0] + b.uses()[0] == 5  # as issued, and never more

            await cloud.start()  # ------------------------------------------- HQ is back
            status, listed = await _hq(cloud, "GET", "/v1/hq/coupons")
            assert status == 200 and listed["coupons"][0]["code"] == CODE
            assert kassa(["admin", "coupons", "list", "--hq", str(data)]) == 0  # beside the cloud
            (row,) = json.loads(capsys.readouterr().out)["coupons"]
            assert row["claimed"] == 3 and row["uses"] == 5 and not row["revoked"]
            status, revoked = await _hq(cloud, "POST", f"/v1/hq/coupons/{CODE}/revoke")
            assert status == 200 and revoked["revoked"]
            clock.advance(1.0)
            assert await b.sync.pull() == 1
            assert 0 < b.coupon_of(CODE).coupon.valid_to < clock.now_us()  # ends at revocation
            b._do("add", {"sku": "P10"})
            with pytest.raises(KassaError) as gone:
                b._do("pay", {"tenders": [{"kind": "coupon", "amount": 500, "reference": CODE},
                                          {"kind": "cash", "amount": 500}]})  # fmt: skip
            assert gone.value.code == "coupon.not_valid_now"  # said before "used up"
            stranger = CouponLink(cloud.url, "S002", a.secret, now_s=lambda: clock.now_us() / 1e6)
            with pytest.raises(KassaError, match="401"):
                await stranger.coupon_changes(0)  # S001's secret signing as S002
        finally:
            await cloud.stop()

    try:
        asyncio.run(main())
    finally:
        for s in (a, b):
            s.ledger.journal.close()
