"""Over real HTTP on loopback: the cloud's licence route on a bare aiohttp app, the store's
client."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

from actors.licence import HttpTransport, LicenceKeeper
from cloud.licence import CHECK_PATH, LicenceAuthority, setup
from domain.licence import LicenceChecked, LicenceCheckFailed
from domain.ports import ManualClock
from licence_helpers import DAY, START, StoreClock, _no_ray  # noqa: F401

pytestmark = pytest.mark.timeout(60)


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_check_over_http(tmp_path):
    true = ManualClock(START)
    hq = LicenceAuthority(tmp_path / "hq", clock=true)
    hq.ensure_key()
    doc = hq.issue(  # activation over HTTP: test_activation.py
        "S001", START, START + 365 * DAY, 7, 2, ["wallet"], licence_id="LIC-H1", activation=False
    )
    events: list = []

    async def journal(ev):
        events.append(ev)

    async def scenario():
        app = web.Application()
        setup(app, tmp_path / "hq", clock=true)
        runner, base = await _serve(app)
        try:
            keeper = LicenceKeeper(
                tmp_path / "store",
                "S001",
                hq.public_key_text(),
                HttpTransport(base, timeout_s=5),
                StoreClock(true),
                journal,
            )
            await keeper.install(doc)
            res = await keeper.check_once()
            assert res["ok"] and res["server_time"] == START
            assert (await keeper.may_open_day())["ok"]

            hq.revoke("LIC-H1", "fraud")
            true.advance(us=DAY)
            res = await keeper.check_once()
            assert res["code"] == "licence.revoked" and res["message"] == "fraud"
            st = await keeper.may_open_day()
            assert not st["ok"] and st["code"] == "licence.revoked"

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
                async with s.post(base + CHECK_PATH, data=b"{nope") as r:
                    assert r.status == 400 and (await r.json())["code"] == "input.bad_json"
                async with s.post(base + CHECK_PATH, json={"store_id": "S001"}) as r:
                    assert r.status == 400 and (await r.json())["code"] == "licence.bad_request"
                # a licence presented by another store is "unknown", still signed and nonce-echoed
                async with s.post(
                    base + CHECK_PATH, json={"store_id": "S999", "licence": doc, "nonce": "x" * 16}
                ) as r:
                    body = await r.json()
                    assert r.status == 200 and body["result"]["status"] == "unknown"
                    assert body["result"]["nonce"] == "x" * 16
        finally:
            await runner.cleanup()
        # the cloud is gone: a failure, journalled, never raised
        res = await keeper.check_once()
        assert not res["ok"] and res["code"] == "licence.cloud_unreachable"

    asyncio.run(asyncio.wait_for(scenario(), 30))
    kinds = [type(e) for e in events]
    assert kinds.count(LicenceChecked) == 2 and kinds[-1] is LicenceCheckFailed


def test_cloud_without_key_answers_503(tmp_path):
    async def scenario():
        app = web.Application()
        setup(app, tmp_path / "cloud-without-key")
        runner, base = await _serve(app)
        try:
            body = {"store_id": "S001", "nonce": "n" * 16, "licence": {"licence": {}}}
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s,
                s.post(base + CHECK_PATH, json=body) as r,
            ):
                assert r.status == 503 and (await r.json())["code"] == "licence.no_key"
            t = HttpTransport(base, timeout_s=5)
            with pytest.raises(Exception) as exc:
                await t.check({"store_id": "S001", "nonce": "n" * 16, "licence": {"licence": {}}})
            assert exc.value.code == "licence.no_key"
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_unreachable_port_is_a_clean_failure():
    port = _free_port()  # nobody listens there

    async def scenario():
        t = HttpTransport(f"http://127.0.0.1:{port}", timeout_s=3)
        with pytest.raises(Exception) as exc:
            await t.check({})
        return exc.value

    err = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert err.code == "licence.cloud_unreachable"
