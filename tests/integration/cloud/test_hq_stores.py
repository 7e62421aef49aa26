"""A new store made from the admin app's route, ``POST /v1/hq/stores``, over real HTTP on
loopback: the setup file it answers is HQ-signed for that store and opens with the setup code to
the store's registered upload secret and its licence; the code is kept nowhere at HQ; a second
store of the same id (also two at once) is refused; bad fields are named; only an admin may."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from cloud.app import AUTH, make_app
from cloud.licence import AUTHORITY_KEY
from cloud.master import MASTER
from cloud.registry import Registry
from domain.catalogue_bundle import unpack
from domain.licence import read_licence
from domain.ports import ManualClock
from domain.setup_secrets import open_sealed

pytestmark = pytest.mark.timeout(180)

PASSWORD = "correct horse battery"
NEW = {
    "store": "S009",
    "name": "Riverside",
    "zone": "Asia/Bangkok",
    "currency": "THB",
    "tills": 2,
    "days": 30,
    "features": "bigscreen",
    "cloud_url": "http://127.0.0.1:9",
    "manager_name": "Somchai",
    "manager_lang": "th",
}


def _run(tmp_path: Path, scenario: Any) -> None:
    async def main() -> None:
        app = make_app(tmp_path, clock=ManualClock(), export_delay_s=0.05)
        app[MASTER].upsert_products(
            [{"sku": f"P{i}", "names": {"en": f"P{i}"}, "price": 100 + i} for i in range(5)], "t"
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        admin = {"Authorization": f"Bearer {app[AUTH].token}"}
        try:
            async with aiohttp.ClientSession() as s:
                user = {"user": "sup", "role": "support", "password": PASSWORD}
                async with s.post(url + "/v1/hq/users", json=user, headers=admin) as r:
                    assert r.status == 201, await r.text()
                async with s.post(url + "/v1/hq/login", json=user) as r:
                    support = {"Authorization": f"Bearer {(await r.json())['token']}"}
                await scenario(s, url, app, admin, support)
        finally:
            await runner.cleanup()

    asyncio.run(main())


async def _create(s: aiohttp.ClientSession, url: str, h: dict, body: Any) -> tuple[int, dict]:
    async with s.post(url + "/v1/hq/stores", json=body, headers=h) as r:
        return r.status, await r.json()


def test_a_store_created_from_the_admin_app_gets_a_setup_file_that_opens_with_its_code(
    tmp_path: Path,
) -> None:
    async def scenario(s, url, app, admin, support) -> None:
        status, out = await _create(s, url, admin, NEW)
        assert status == 200, out
        data = base64.b64decode(out["bundle"])
        assert out["file_name"] == "S009.setup" and out["manager"] == "m1"
        authority = app[AUTHORITY_KEY]
        b = unpack(data, authority.public_key_text(), store="S009")
        assert b.kind == "setup" and len(b.products) == 5
        assert b.payload["profile"]["zone"] == "Asia/Bangkok"
        sealed = open_sealed(b.payload["sealed"], out["setup_code"])
        reg = Registry(tmp_path)
        try:
            entry = reg.store("S009")
        finally:
            reg.close()
        assert entry is not None and bytes.fromhex(sealed["upload_secret"]) == entry.secret
        lic = read_licence(sealed["licence"], authority.key.public_key())
        assert (lic.store_id, lic.tills, list(lic.features)) == ("S009", 2, ["bigscreen"])
        assert sealed["first_manager"]["name"] == "Somchai"
        for path in tmp_path.rglob("*"):  # HQ keeps no copy of the code
            if path.is_file():
                assert out["setup_code"].encode() not in path.read_bytes(), path

        status, again = await _create(s, url, admin, {**NEW, "name": "Another"})
        assert (status, again["code"]) == (409, "setup.store_exists")

    _run(tmp_path, scenario)


def test_bad_fields_are_named_and_only_an_admin_may_create(tmp_path: Path) -> None:
    async def scenario(s, url, app, admin, support) -> None:
        for field, value in (
            ("zone", "Mars/Olympus"),
            ("currency", "XQZ"),
            ("store", "S 9"),
            ("tills", 0),
            ("cloud_url", "hq.example"),
            ("manager_lang", "fr"),
        ):
            status, out = await _create(s, url, admin, {**NEW, field: value})
            assert status == 400 and out["code"] == "input.bad_field", (field, out)
            assert out["details"]["field"] == field, out
        async with s.post(url + "/v1/hq/stores", data=b"{not json", headers=admin) as r:
            assert r.status == 400 and (await r.json())["code"] == "input.bad_json"
        status, out = await _create(s, url, support, NEW)
        assert status == 403, out
        async with s.post(url + "/v1/hq/stores", json=NEW) as r:
            assert r.status == 401
        reg = Registry(tmp_path)
        try:
            assert reg.store("S009") is None  # nothing was made by a refused request
        finally:
            reg.close()

    _run(tmp_path, scenario)


def test_two_creates_of_one_store_at_once_make_one_store(tmp_path: Path) -> None:
    async def scenario(s, url, app, admin, support) -> None:
        results = await asyncio.gather(*(_create(s, url, admin, NEW) for _ in range(2)))
        assert sorted(status for status, _ in results) == [200, 409], results

    _run(tmp_path, scenario)
