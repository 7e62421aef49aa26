"""Publishing catalogues over real HTTP on loopback: a store-signed pull gets the full catalogue,
then nothing, then a delta after an edit and a publish; unsigned, forged, replayed and stale pulls
are refused; roles decide who publishes; the preview names the changed fields; two publishes at
once get two versions."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from cloud.app import AUTH, make_app
from cloud.licence import AUTHORITY_KEY
from cloud.master import MASTER
from cloud.registry import Registry
from domain.catalogue_bundle import apply_delta, unpack
from domain.ports import ManualClock
from domain.upload import JSON_TYPE, signed_headers

pytestmark = pytest.mark.timeout(180)

S1, S2 = "S001", "S002"
PASSWORD = "correct horse battery"


def _product(i: int, price: int | None = None) -> dict[str, Any]:
    return {
        "sku": f"P{i:04d}",
        "names": {"en": f"Product {i}", "th": f"สินค้า {i}", "zh": f"产品 {i}"},
        "price": 1000 + i if price is None else price,
        "barcodes": [],
        "category": "Drinks/Tea" if i % 2 else "Snacks",
    }


class Hq:
    """The cloud on 127.0.0.1 with two stores, HQ users and a small master catalogue."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.clock = ManualClock()
        reg = Registry(data)
        try:
            self.secrets = {s: bytes.fromhex(reg.add_store(s)) for s in (S1, S2)}
        finally:
            reg.close()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> Hq:
        app = make_app(self.data, clock=self.clock, export_delay_s=0.05)
        self.app = app
        self.token = app[AUTH].token
        self.master = app[MASTER]
        self.master.upsert_products([_product(i) for i in range(40)], "test")
        for s in (S1, S2):
            self.master.put_store_profile(
                {"id": s, "name": s, "zone": "Asia/Bangkok", "currency": "THB"}, "test"
            )
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.sessions = {}
        async with aiohttp.ClientSession() as s:  # HQ users, made and signed in over HTTP
            for name, role in (("cat", "catalogue"), ("sup", "support"), ("fin", "finance")):
                user = {"user": name, "role": role, "password": PASSWORD}
                async with s.post(self.url + "/v1/hq/users", json=user, headers=self.hq()) as r:
                    assert r.status == 201, await r.text()
                login = {"user": name, "password": PASSWORD}
                async with s.post(self.url + "/v1/hq/login", json=login) as r:
                    self.sessions[role] = (await r.json())["token"]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def hq(self, role: str | None = None) -> dict[str, str]:
        token = self.token if role is None else self.sessions[role]
        return {"Authorization": f"Bearer {token}"}

    @property
    def public_key(self) -> str:
        return str(self.app[AUTHORITY_KEY].public_key_text())

    def signed(self, store: str, have: int | None, **kw: Any) -> tuple[dict[str, str], bytes]:
        body = orjson.dumps({"have": have})
        secret = kw.pop("secret", None) or self.secrets[store]
        now_s = self.clock.now_us() // 1_000_000 + kw.pop("shift", 0)
        h = signed_headers(secret, store, now_s, body, content_type=JSON_TYPE, encoding=None)
        return h, body


async def _pull(s: aiohttp.ClientSession, hq: Hq, h: dict, body: bytes) -> tuple[int, bytes, str]:
    async with s.post(hq.url + "/v1/catalogue/pull", data=body, headers=h) as r:
        return r.status, await r.read(), r.headers.get("Content-Type", "")


async def _publish(s: aiohttp.ClientSession, hq: Hq, stores: Any, role: str | None = None):
    body = {"stores": stores, "note": "test"}
    async with s.post(hq.url + "/v1/hq/publish", json=body, headers=hq.hq(role)) as r:
        return r.status, await r.json()


def _run(tmp_path: Path, scenario: Any) -> None:
    async def main() -> None:
        hq = await Hq(tmp_path).start()
        try:
            async with aiohttp.ClientSession() as s:
                await scenario(s, hq)
        finally:
            await hq.stop()

    asyncio.run(main())


def test_pull_full_then_up_to_date_then_delta(tmp_path: Path) -> None:
    async def scenario(s: aiohttp.ClientSession, hq: Hq) -> None:
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, None))
        assert st == 404 and orjson.loads(raw)["code"] == "catalogue.none_published"

        st, js = await _publish(s, hq, None)
        assert st == 200 and js["stores"] == [S1, S2]
        v1 = js["version"]
        st, raw, ctype = await _pull(s, hq, *hq.signed(S1, None))
        assert (st, ctype) == (200, "application/vnd.kassa.bundle")
        full = unpack(raw, hq.public_key, store=S1)
        assert (full.kind, full.version, len(full.products)) == ("full", v1, 40)
        held = apply_delta({}, None, full)
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, v1))
        assert (st, raw) == (204, b"")

        # HQ edits: a price, a name, a new product, a removal, a scheduled price
        hq.master.upsert_products(
            [_product(3, 4242), {**_product(5), "names": {"en": "Five"}}], "t"
        )
        hq.master.upsert_products([_product(100)], "t")
        hq.master.delete_product("P0007", "t")
        later = hq.clock.now_us() + 3_600_000_000
        hq.master.add_price({"sku": "P0009", "group": "default", "price": 1, "from_us": later}, "t")
        hq.clock.advance(60)
        st, js = await _publish(s, hq, [S1], role="catalogue")
        assert st == 200 and js["stores"] == [S1]
        v2 = js["version"]
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, v1))
        delta = unpack(raw, hq.public_key, store=S1)
        assert (st, delta.kind, delta.base, delta.version) == (200, "delta", v1, v2)
        assert sorted(p["sku"] for p in delta.products) == ["P0005", "P0100"]
        assert delta.repriced == [["P0003", 4242]]  # its price alone changed: a pair, not a row
        assert delta.removed == ["P0007"]
        assert delta.prices == [{"sku": "P0009", "price": 1, "from_us": later}]
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, None))
        assert apply_delta(held, v1, delta) == apply_delta(
            {}, None, unpack(raw, hq.public_key, store=S1)
        )
        # S2 was not in the second publication: still v1, up to date
        st, raw, _ = await _pull(s, hq, *hq.signed(S2, v1))
        assert st == 204

        async with s.get(hq.url + "/v1/hq/stores/catalogue", headers=hq.hq("support")) as r:
            rows = {x["store"]: x for x in (await r.json())["stores"]}
        assert (rows[S1]["published"], rows[S1]["pulled"], rows[S1]["up_to_date"]) == (v2, v2, True)
        assert rows[S1]["pulled_at_us"] == hq.clock.now_us()
        assert (rows[S2]["published"], rows[S2]["pulled"]) == (v1, v1)
        async with s.get(hq.url + "/v1/hq/publications", headers=hq.hq("finance")) as r:
            pubs = (await r.json())["publications"]
        assert [(p["version"], p["who"]) for p in pubs] == [(v2, "cat"), (v1, "token")]

    _run(tmp_path, scenario)


def test_unsigned_forged_replayed_and_stale_pulls_are_refused(tmp_path: Path) -> None:
    async def scenario(s: aiohttp.ClientSession, hq: Hq) -> None:
        assert (await _publish(s, hq, None))[0] == 200
        h, body = hq.signed(S1, None)
        async with s.post(hq.url + "/v1/catalogue/pull", data=body) as r:
            assert (r.status, (await r.json())["code"]) == (401, "auth.missing")
        cases = {
            "auth.bad_signature": hq.signed(S1, None, secret=os.urandom(32)),
            "auth.unknown_store": hq.signed("S404", None, secret=os.urandom(32)),
            "auth.stale": hq.signed(S1, None, shift=-3600),
        }
        for code, (hh, bb) in cases.items():
            st, raw, _ = await _pull(s, hq, hh, bb)
            assert (st, orjson.loads(raw)["code"]) == (401, code)
        # S2 signs as itself but claims S1's name: its secret does not sign for S1
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, None, secret=hq.secrets[S2]))
        assert (st, orjson.loads(raw)["code"]) == (401, "auth.bad_signature")
        # a body changed after signing
        st, raw, _ = await _pull(s, hq, h, orjson.dumps({"have": 0}))
        assert orjson.loads(raw)["code"] == "auth.bad_signature"
        st, raw, _ = await _pull(s, hq, h, body)
        assert st == 200 and unpack(raw, hq.public_key, store=S1).kind == "full"
        st, raw, _ = await _pull(s, hq, h, body)  # the same request again
        assert (st, orjson.loads(raw)["code"]) == (409, "auth.replay")
        # HQ's token is not a store's proof
        async with s.post(hq.url + "/v1/catalogue/pull", data=body, headers=hq.hq()) as r:
            assert r.status == 401

    _run(tmp_path, scenario)


def test_roles_preview_and_concurrent_publishes(tmp_path: Path) -> None:
    async def scenario(s: aiohttp.ClientSession, hq: Hq) -> None:
        for role in ("support", "finance"):
            st, js = await _publish(s, hq, [S1], role=role)
            assert (st, js["code"]) == (403, "hquser.role_refused"), role
        async with s.post(hq.url + "/v1/hq/publish", json={"stores": [S1]}) as r:
            assert r.status == 401
        async with s.get(hq.url + "/v1/hq/publications", headers=hq.hq("support")) as r:
            assert (r.status, (await r.json())["publications"]) == (200, [])

        st, js = await _publish(s, hq, [S1, "S0O1"], role="catalogue")
        assert (st, js["code"]) == (400, "publish.unknown_store")
        st, js = await _publish(s, hq, [S1], role="catalogue")
        v1 = js["version"]
        hq.master.upsert_products([_product(2, 777)], "t")
        hq.master.delete_product("P0004", "t")
        hq.master.upsert_products([_product(200)], "t")
        url = hq.url + "/v1/hq/publish/preview?store=" + S1
        async with s.get(url, headers=hq.hq("support")) as r:
            pv = await r.json()
        assert (pv["from_version"], pv["to_version"]) == (v1, v1 + 1)
        assert pv["changed"] == [{"sku": "P0002", "fields": {"price": [1002, 777]}}]
        assert pv["removed"] == ["P0004"] and [a["sku"] for a in pv["added"]] == ["P0200"]
        assert pv["counts"] == {"added": 1, "changed": 1, "removed": 1}

        a, b = await asyncio.gather(
            _publish(s, hq, [S1], role="catalogue"), _publish(s, hq, [S1, S2])
        )
        assert a[0] == b[0] == 200 and a[1]["version"] != b[1]["version"]
        newest = max(a[1]["version"], b[1]["version"])
        st, raw, _ = await _pull(s, hq, *hq.signed(S1, v1))
        bundle = unpack(raw, hq.public_key, store=S1)
        assert (bundle.kind, bundle.base, bundle.version) == ("delta", v1, newest)

    _run(tmp_path, scenario)
