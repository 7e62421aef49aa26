"""Uploader → fault proxy → cloud, all on 127.0.0.1: whatever the link does, the warehouse ends with
exactly the shop's events (same rows, same money to the minor unit, same hash chain)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from cloud.app import REGISTRY
from cloudkit import Cloud, Shop, assert_warehouse_matches, make_uploader, wait_for
from domain.ports import ManualClock
from faultproxy import FaultProxy

pytestmark = pytest.mark.timeout(240)


def _quiet(p: FaultProxy) -> None:
    pass


def _down(p: FaultProxy) -> None:
    p.down = True


def _drop_requests(p: FaultProxy) -> None:
    p.p_drop_request = 0.35


def _drop_replies(p: FaultProxy) -> None:
    p.p_drop_reply = 0.4


def _duplicates(p: FaultProxy) -> None:
    p.p_duplicate = 0.5


def _reorder(p: FaultProxy) -> None:
    p.p_reorder = 0.35


def _slow(p: FaultProxy) -> None:
    p.delay_s = 0.03
    p.bps = 200_000


def _chaos(p: FaultProxy) -> None:
    p.p_drop_request = p.p_drop_reply = p.p_duplicate = p.p_reorder = 0.15
    p.delay_s = 0.005


SCENARIOS = {
    "clean": (_quiet, None),
    "cloud_down_long": (_down, None),
    "requests_dropped": (_drop_requests, "dropped_requests"),
    "lost_acks": (_drop_replies, "dropped_replies"),
    "duplicated": (_duplicates, "duplicated"),
    "reordered": (_reorder, "reordered"),
    "slow_link": (_slow, None),
    "chaos": (_chaos, None),
}


async def _run_scenario(tmp_path, configure, counter, orders=40, restart_at=(), down_until=None):
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock, seed=len(str(tmp_path)))
    shop.member("M1", 300_000)
    data = tmp_path / "cloud"
    secret = Cloud.register(data)
    cloud = await Cloud(data, clock).start()
    proxy = await FaultProxy(cloud.port).start()
    configure(proxy)
    up = make_uploader(shop, proxy.url, secret, tmp_path / "shop" / "uploader.json", max_events=12)
    stop = asyncio.Event()
    task = asyncio.ensure_future(up.run(stop))
    try:
        for i in range(orders):
            shop.trade(1, refund_every=0 if i % 7 else 1)
            up.notify()
            await asyncio.sleep(0.01)
            if i in restart_at:
                proxy.delay_s = 0.05  # so that a batch is in flight when the cloud goes
                await asyncio.sleep(0.03)
                await cloud.stop()
                await asyncio.sleep(0.2)
                await cloud.start()
                proxy.delay_s = 0.0
        if down_until is not None:
            await asyncio.sleep(down_until)
            assert up.acked == 0 and up.failures > 0
            st = await up.status()
            assert st["backlog_events"] == shop.seq
        proxy.down = False
        await wait_for(lambda: up.acked == shop.seq, timeout=90)
        if counter:
            assert getattr(proxy, counter) > 0, counter
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await up.transport.close()
        await proxy.stop()
        await cloud.warehouse.flush()
        alerts = cloud.app[REGISTRY].alerts()
        stats = cloud.ingestor.stats.to_dict()
        print(
            "proxy",
            {
                k: getattr(proxy, k)
                for k in (
                    "requests",
                    "forwarded",
                    "dropped_requests",
                    "dropped_replies",
                    "duplicated",
                    "reordered",
                    "upstream_failures",
                )
            },
            "cloud",
            stats["refused"],
            stats["events_duplicate"],
            "uploader",
            up.sent_batches,
        )
        await cloud.stop()
    assert alerts == []
    summary = assert_warehouse_matches(shop.ledger.journal.path, data)
    assert summary["orders"]["rows"] == orders
    st = await up.status()
    assert st["backlog_events"] == 0 and st["oldest_unsent_age_s"] is None
    shop.close()
    return summary, proxy


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_event_arrives_exactly_once(tmp_path, name):
    configure, counter = SCENARIOS[name]
    down = 1.0 if name == "cloud_down_long" else None
    asyncio.run(_run_scenario(tmp_path, configure, counter, down_until=down))


def test_cloud_restarted_mid_batch(tmp_path):
    asyncio.run(_run_scenario(tmp_path, _quiet, None, orders=40, restart_at=(10, 22, 33)))


def test_thirty_day_outage_then_the_backlog_drains(tmp_path):
    """A month of trading with the cloud unreachable (fake clock), then the link comes back."""
    start = 1_767_225_600_000_000  # 2026-01-01T00:00Z = 07:00 in Bangkok
    clock = ManualClock(start)
    shop = Shop(tmp_path / "shop", clock, seed=30)
    shop.member("M1", 500_000)
    data = tmp_path / "cloud"

    async def main():
        secret = Cloud.register(data)
        cloud = await Cloud(data, clock).start()
        proxy = await FaultProxy(cloud.port).start()
        proxy.down = True
        up = make_uploader(
            shop,
            proxy.url,
            secret,
            tmp_path / "shop" / "uploader.json",
            max_events=500,
            backoff_base_s=0.5,
            backoff_cap_s=300.0,
        )
        try:
            for day in range(30):
                clock.t = start + day * 86_400_000_000 + 2 * 3_600_000_000  # 09:00 local
                shop.trade(15, step_s=1800, refund_every=6)  # 09:00–16:30
                for _ in range(4):
                    assert await up.step() == "failed"
                assert up.next_delay_s <= 300.0
            clock.t = start + 30 * 86_400_000_000
            st = await up.status()
            assert st["backlog_events"] == shop.seq
            assert st["oldest_unsent_age_s"] >= 29.5 * 86_400
            assert st["last_success_us"] is None and st["failures"] == 120
            # the shop restarts during the outage: nothing is lost
            up2 = make_uploader(
                shop, proxy.url, secret, tmp_path / "shop" / "uploader.json", max_events=500
            )
            proxy.down = False
            stop = asyncio.Event()
            task = asyncio.ensure_future(up2.run(stop))
            await wait_for(lambda: up2.acked == shop.seq, timeout=60)
            stop.set()
            await asyncio.wait_for(task, 10)
            st = await up2.status()
            assert st["backlog_events"] == 0 and st["last_success_us"] == clock.now_us()
            async with aiohttp.ClientSession() as s:
                async with s.get(cloud.url + "/v1/revenue", headers=cloud.hq) as r:
                    rev = (await r.json())["revenue"]
                async with s.get(cloud.url + "/v1/members/M1/balance", headers=cloud.hq) as r:
                    bal = await r.json()
            await up.transport.close()
            await up2.transport.close()
        finally:
            await proxy.stop()
            await cloud.stop()
        return rev, bal

    rev, bal = asyncio.run(main())
    summary = assert_warehouse_matches(shop.ledger.journal.path, data)
    assert summary["orders"]["rows"] == 450
    assert len(rev) == 30 and all(r["orders"] == 15 for r in rev)
    assert sum(r["sales"] for r in rev) == summary["orders"]["total"]
    assert sum(r["refunded"] for r in rev) == summary["refunds"]["amount"]
    assert rev[0]["day"] == "2026-01-01" and rev[-1]["day"] == "2026-01-30"
    assert bal["balance"] == shop.ledger.balance("M1")
    assert bal["as_of_us"] == start + 30 * 86_400_000_000
    assert bal["as_of"] == "2026-01-31T00:00:00Z"
    shop.close()


async def _start_cloud_process(data, port: int):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kassa_cli.main",
            "cloud",
            "serve",
            "--data",
            str(data),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    async with aiohttp.ClientSession() as s:
        while True:
            try:
                async with s.get(f"http://127.0.0.1:{port}/v1/health") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            if loop.time() > end or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the cloud process did not start")
            await asyncio.sleep(0.05)


def test_cloud_process_killed_mid_batch(tmp_path):
    """The cloud is a real process, killed with SIGKILL three times while batches stream in."""
    import time

    from cloudkit import free_port

    clock = ManualClock(time.time_ns() // 1000)  # the cloud process uses the real clock
    shop = Shop(tmp_path / "shop", clock, seed=9)
    shop.member("M1", 100_000)
    shop.trade(150, step_s=0.1)
    data = tmp_path / "cloud"
    secret = Cloud.register(data)
    port = free_port()

    async def main():
        proc = await _start_cloud_process(data, port)
        proxy = await FaultProxy(port).start()
        up = make_uploader(
            shop,
            proxy.url,
            secret,
            tmp_path / "shop" / "uploader.json",
            max_events=20,
            backoff_cap_s=0.2,
        )
        stop = asyncio.Event()
        task = asyncio.ensure_future(up.run(stop))
        kills = 0
        try:
            for frac in (0.2, 0.5, 0.8):
                await wait_for(lambda f=frac: up.acked >= f * shop.seq, timeout=60, every=0.001)
                proc.kill()
                proc.wait(10)
                kills += 1
                await asyncio.sleep(0.3)
                assert up.acked < shop.seq
                proc = await _start_cloud_process(data, port)
            await wait_for(lambda: up.acked == shop.seq, timeout=60)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await up.transport.close()
            await proxy.stop()
            proc.terminate()
            proc.wait(10)
        return kills, up.failures

    kills, _ = asyncio.run(main())
    assert kills == 3
    from cloud.registry import Registry
    from cloud.warehouse import Warehouse

    reg = Registry(data)
    try:
        Warehouse(data, reg, clock).export_all()
        assert reg.alerts() == []
    finally:
        reg.close()
    summary = assert_warehouse_matches(shop.ledger.journal.path, data)
    assert summary["orders"]["rows"] == 150
    shop.close()
