"""Ingest over real HTTP on loopback: signatures, replays, foreign stores, gaps, conflicts, broken
chains; the uploader against an in-process cloud; warehouse crash recovery and compaction."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path

import aiohttp
import polars as pl
import pytest

from actors.uploader import FakeTransport, FileState, MemoryState, Uploader, anchor_of
from cloud.registry import Registry
from cloudkit import STORE, Cloud, LedgerSource, Shop, assert_warehouse_matches, make_uploader
from cloudkit import shop_events as recorded_events
from domain.events import Envelope
from domain.ports import ManualClock
from domain.upload import H_SIG, compress, decode_batch, encode_batch, signed_headers

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def shop_events(tmp_path_factory) -> tuple[list[Envelope], ManualClock]:
    return recorded_events(tmp_path_factory.mktemp("shop"))


def _req(secret: str, envs, clock, store=STORE, body_store=None, ts_shift=0, nonce=None):
    body = compress(encode_batch(body_store or store, envs))
    h = signed_headers(
        bytes.fromhex(secret), store, clock.now_us() // 1_000_000 + ts_shift, body, nonce=nonce
    )
    return h, body


async def _post(session, url, h, body):
    async with session.post(url + "/v1/ingest", data=body, headers=h) as r:
        return r.status, await r.json()


def test_signature_replay_and_foreign_store(tmp_path, shop_events):
    envs, clock = shop_events
    clock = ManualClock(clock.now_us())

    async def main():
        s1 = Cloud.register(tmp_path)
        s2 = Cloud.register(tmp_path, "S002")
        cloud = await Cloud(tmp_path, clock).start()
        try:
            async with aiohttp.ClientSession() as s:
                ok_h, ok_body = _req(s1, envs[:5], clock)
                assert await _post(s, cloud.url, ok_h, ok_body) == (
                    200,
                    {"ok": True, "ack": 5, "accepted": 5, "duplicates": 0},
                )
                # the exact same request again, inside the window: a replay
                st, js = await _post(s, cloud.url, ok_h, ok_body)
                assert (st, js["code"]) == (409, "auth.replay")
                # the same events, freshly signed: an exact repeat, ignored
                st, js = await _post(s, cloud.url, *_req(s1, envs[:5], clock))
                assert (st, js["ack"], js["accepted"], js["duplicates"]) == (200, 5, 0, 5)
                # a body altered after signing
                h, body = _req(s1, envs[5:8], clock)
                st, js = await _post(s, cloud.url, h, body[:-1] + bytes([body[-1] ^ 1]))
                assert (st, js["code"]) == (401, "auth.bad_signature")
                # a signature that is not hex / not for this body
                h, body = _req(s1, envs[5:8], clock)
                st, js = await _post(s, cloud.url, {**h, H_SIG: "00" * 32}, body)
                assert (st, js["code"]) == (401, "auth.bad_signature")
                # claiming to be another store with our secret
                h, body = _req(s1, envs[5:8], clock, store="S002", body_store=STORE)
                st, js = await _post(s, cloud.url, h, body)
                assert (st, js["code"]) == (401, "auth.bad_signature")
                # S002, correctly signed, sending S001's batch
                h, body = _req(s2, envs[5:8], clock, store="S002", body_store=STORE)
                st, js = await _post(s, cloud.url, h, body)
                assert (st, js["code"]) == (403, "auth.store_mismatch")
                # an unknown store
                h, body = _req(s1, envs[5:8], clock, store="S999")
                st, js = await _post(s, cloud.url, h, body)
                assert (st, js["code"]) == (401, "auth.unknown_store")
                # outside the ±300 s window, either way
                for shift in (-301, 301):
                    st, js = await _post(s, cloud.url, *_req(s1, envs[5:8], clock, ts_shift=shift))
                    assert (st, js["code"]) == (401, "auth.stale"), shift
                # inside the window is fine
                st, js = await _post(s, cloud.url, *_req(s1, envs[5:8], clock, ts_shift=-299))
                assert (st, js["ack"]) == (200, 8)
                # unsigned
                async with s.post(cloud.url + "/v1/ingest", data=ok_body) as r:
                    assert r.status == 401
                # nothing of S001 went to S002
                async with s.get(cloud.url + "/v1/stores", headers=cloud.hq) as r:
                    held = {x["id"]: x["held"] for x in (await r.json())["stores"]}
                assert held == {"S001": 8, "S002": 0}
        finally:
            await cloud.stop()

    asyncio.run(main())


def test_gap_conflict_and_broken_chain_raise_alerts(tmp_path, shop_events):
    envs, clock = shop_events
    clock = ManualClock(clock.now_us())

    async def main():
        secret = Cloud.register(tmp_path)
        cloud = await Cloud(tmp_path, clock).start()
        try:
            async with aiohttp.ClientSession() as s:
                # out of order: 6..10 before 1..5 is refused with what is held, then fits
                st, js = await _post(s, cloud.url, *_req(secret, envs[5:10], clock))
                assert (st, js["code"], js["ack"]) == (409, "ingest.gap", 0)
                st, js = await _post(s, cloud.url, *_req(secret, envs[0:5], clock))
                assert (st, js["ack"]) == (200, 5)
                st, js = await _post(s, cloud.url, *_req(secret, envs[5:10], clock))
                assert (st, js["ack"]) == (200, 10)
                # overlapping batch: the held part is a repeat, the rest is new
                st, js = await _post(s, cloud.url, *_req(secret, envs[8:12], clock))
                assert (st, js["ack"], js["duplicates"], js["accepted"]) == (200, 12, 2, 2)
                # a different event under an existing seq (the store's past was rewritten,
                # hashes recomputed to look consistent)
                forged = dataclasses.replace(envs[3], staff="mallory")
                st, js = await _post(s, cloud.url, *_req(secret, [forged], clock))
                assert (st, js["code"], js["ack"], js["seq"]) == (409, "ingest.conflict", 12, 4)
                # a broken chain beyond what is held: 13, 14 fine, 15 edited without its hash
                bad = dataclasses.replace(envs[14], till="T9")
                st, js = await _post(
                    s, cloud.url, *_req(secret, [envs[12], envs[13], bad, envs[15]], clock)
                )
                assert (st, js["code"], js["ack"], js["seq"]) == (
                    409,
                    "ingest.chain_broken",
                    14,
                    15,
                )
                async with s.get(cloud.url + "/v1/alerts", headers=cloud.hq) as r:
                    alerts = (await r.json())["alerts"]
                codes = {(a["code"], a["seq"]) for a in alerts}
                assert codes == {("ingest.conflict", 4), ("ingest.chain_broken", 15)}
                # the genuine events still go in afterwards
                st, js = await _post(s, cloud.url, *_req(secret, envs[14:], clock))
                assert (st, js["ack"]) == (200, len(envs))
        finally:
            await cloud.stop()

    asyncio.run(main())


def test_batch_codec_round_trip(shop_events):
    envs, _ = shop_events
    b = decode_batch(encode_batch(STORE, envs, hash_bytes=32))
    assert [Envelope(*r, hash=p) for r, p in zip(b.rows, b.prefixes, strict=True)] == envs
    assert b.last == envs[-1].hash


def _cloud_handler(tmp_path: Path, clock):
    from cloud.ingest import Ingestor

    reg = Registry(tmp_path)
    secret = reg.add_store(STORE)
    ing = Ingestor(tmp_path, reg, clock)
    return secret, ing


def test_uploader_with_fake_transport_survives_restarts_and_lost_acks(tmp_path):
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)
    shop.trade(30)
    secret, ing = _cloud_handler(tmp_path / "cloud", clock)
    fake = FakeTransport(ing.handle)
    state = FileState(tmp_path / "shop" / "uploader.json")

    def uploader():
        return Uploader(
            LedgerSource(shop.ledger),
            fake,
            state,
            clock,
            store=STORE,
            secret=secret,
            max_events=7,
            backoff_base_s=0.01,
            backoff_cap_s=0.02,
        )

    async def main():
        up = uploader()
        st = await up.status()
        assert st["backlog_events"] == shop.seq and st["oldest_unsent_age_s"] == 30 * 60
        fake.down = True
        assert await up.step() == "failed"
        assert up.acked == 0 and up.failures == 1
        fake.down = False
        fake.drop_replies = 1  # stored, but the ack is lost
        assert await up.step() == "failed"
        assert up.acked == 0 and ing.store_status(STORE)["held"] == 7
        # it asks what the cloud holds (7), then sends only the rest: nothing twice
        assert await up.step() == "sent" and up.acked == 14 and up.holdings_asked == 1
        assert ing.stats.events_duplicate == 0
        # the furthest acknowledged event and its hash: the anchor `kassa journal verify` uses
        assert anchor_of(tmp_path / "shop") == (14, shop.ledger.journal.read(13, 1)[0].hash)
        # the store restarts: progress comes back from the file
        up2 = uploader()
        assert up2.acked == 14
        # the progress file is lost: the cloud's answer puts it right
        state.save({})
        up3 = uploader()
        assert up3.acked == 0
        assert await up3.step() == "sent" and up3.acked == 14
        await up3.drain()
        st = await up3.status()
        assert st["backlog_events"] == 0 and st["last_success_us"] == clock.now_us()
        assert json.loads((tmp_path / "shop" / "uploader.json").read_text())["acked"] == shop.seq
        # the cloud lost its data (restored from an old backup): gap, then resend from its ack
        ing.close()
        (tmp_path / "cloud" / "stores" / STORE / "events.sqlite").unlink()
        for p in (tmp_path / "cloud" / "stores" / STORE).glob("events.sqlite-*"):
            p.unlink()
        shop.trade(2)
        before = anchor_of(tmp_path / "shop")
        assert await up3.step() == "retry" and up3.acked == 0
        assert anchor_of(tmp_path / "shop") == before  # an anchor never moves back
        await up3.drain()
        assert ing.store_status(STORE)["held"] == shop.seq
        assert anchor_of(tmp_path / "shop")[0] == shop.seq

    asyncio.run(main())
    shop.close()


def test_uploader_batches_are_small_on_the_wire(tmp_path):
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)
    shop.trade(200, refund_every=0)
    secret, ing = _cloud_handler(tmp_path / "cloud", clock)
    fake = FakeTransport(ing.handle)
    up = Uploader(
        LedgerSource(shop.ledger),
        fake,
        MemoryState(),
        clock,
        store=STORE,
        secret=secret,
        max_events=5000,
    )
    asyncio.run(up.drain())
    assert up.acked == shop.seq
    per_order = sum(len(b) for _, b in fake.sent) / 200
    assert per_order < 300, per_order
    shop.close()


def test_a_selling_shop_uploads_a_batch_per_linger_not_per_sale(tmp_path):
    """While sales keep coming, a caught-up uploader waits ``linger_s`` and sends what came in
    meanwhile as one batch, instead of one small request per round trip; nothing is left behind."""
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)
    secret, ing = _cloud_handler(tmp_path / "cloud", clock)

    async def selling(linger_s: float) -> tuple[int, float]:
        fake = FakeTransport(ing.handle)
        up = Uploader(
            LedgerSource(shop.ledger),
            fake,
            MemoryState(),
            clock,
            store=STORE,
            secret=secret,
            linger_s=linger_s,
            interval_s=0.05,
        )
        stop = asyncio.Event()
        task = asyncio.ensure_future(up.run(stop))
        loop = asyncio.get_running_loop()
        began = loop.time()
        for _ in range(60):  # a sale every 20 ms for 1.2 s (longer on a loaded machine)
            shop.sell()
            await asyncio.sleep(0.02)
        selling_s = loop.time() - began
        end = loop.time() + 5
        while up.acked < shop.seq and loop.time() < end:
            await asyncio.sleep(0.02)
        stop.set()
        await task
        assert up.acked == shop.seq
        return len(fake.sent), selling_s

    eager, _ = asyncio.run(selling(0.0))
    lingering, selling_s = asyncio.run(selling(0.4))
    # about one batch per linger window while selling (however long selling took on this machine;
    # a stall can end a window early), plus the first sale and the tail — far fewer than eager
    assert lingering <= 1.5 * selling_s / 0.4 + 3, (lingering, selling_s)
    assert eager >= 2 * lingering, (lingering, eager)
    assert ing.store_status(STORE)["held"] == shop.seq
    shop.close()


def test_warehouse_recovers_from_a_crash_and_compacts(tmp_path):
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)
    shop.member("M1", 100_000)

    async def main():
        secret = Cloud.register(tmp_path / "cloud")
        cloud = await Cloud(tmp_path / "cloud", clock, export_delay_s=0.0).start()
        up = make_uploader(shop, cloud.url, secret, tmp_path / "shop" / "up.json", max_events=20)
        try:
            for _ in range(4):
                shop.trade(15)
                await up.drain()
                await cloud.warehouse.flush()
            assert_warehouse_matches(shop.ledger.journal.path, tmp_path / "cloud")
            part = next(p for p in cloud.warehouse.partitions(STORE) if "orders" in str(p))
        finally:
            await up.transport.close()
            await cloud.stop()
        # a crash left a half-done export: a file beyond the recorded "exported" seq
        files = sorted(part.glob("seq-*.parquet"))
        assert len(files) >= 2
        pl.read_parquet(files[0]).write_parquet(part / "seq-000000900000-000000900010.parquet")
        (part / ".seq-000000900011-000000900020.parquet.tmp").write_bytes(b"partial")
        cloud2 = await Cloud(tmp_path / "cloud", clock).start()
        try:
            await cloud2.warehouse.flush()
            assert sorted(part.iterdir()) == files
            assert cloud2.warehouse.compact(STORE)["partitions"] >= 1
        finally:
            await cloud2.stop()
        return part

    part = asyncio.run(main())
    assert len(list(part.glob("seq-*.parquet"))) == 1
    summary = assert_warehouse_matches(shop.ledger.journal.path, tmp_path / "cloud")
    assert summary["orders"]["rows"] == 60
    shop.close()


def test_compaction_leftovers_are_removed(tmp_path):
    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)

    async def main():
        secret = Cloud.register(tmp_path / "cloud")
        cloud = await Cloud(tmp_path / "cloud", clock).start()
        up = make_uploader(shop, cloud.url, secret, tmp_path / "shop" / "up.json", max_events=10)
        try:
            for _ in range(3):
                shop.trade(5, refund_every=0)
                await up.drain()
                await cloud.warehouse.flush()
        finally:
            await up.transport.close()
            await cloud.stop()

    asyncio.run(main())
    from cloud.warehouse import Warehouse

    reg = Registry(tmp_path / "cloud")
    wh = Warehouse(tmp_path / "cloud", reg, clock)
    part = next(p for p in wh.partitions(STORE) if "orders" in str(p))
    inputs = {p.name: p.read_bytes() for p in part.glob("seq-*.parquet")}
    assert len(inputs) >= 3  # one file per flush at least (a loaded machine may flush more often)
    wh.compact(STORE)
    # simulate a crash between writing the merged file and deleting its inputs
    for name, data in inputs.items():
        (part / name).write_bytes(data)
    wh2 = Warehouse(tmp_path / "cloud", reg, clock)
    wh2.export_store(STORE)  # runs the start-up cleanup
    assert len(list(part.glob("seq-*.parquet"))) == 1
    reg.close()
    assert_warehouse_matches(shop.ledger.journal.path, tmp_path / "cloud")
    shop.close()


def test_cli_store_add_prints_a_secret(tmp_path, capsys):
    from kassa_cli.main import main

    assert (
        main(
            [
                "cloud",
                "store",
                "add",
                "--data",
                str(tmp_path),
                "--id",
                "S042",
                "--zone",
                "Asia/Bangkok",
            ]
        )
        == 0
    )
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(bytes.fromhex(secret)) == 32
    reg = Registry(tmp_path)
    assert reg.store("S042").secret.hex() == secret
    reg.close()
    assert main(["cloud", "store", "add", "--data", str(tmp_path), "--id", "S042"]) == 1
    assert main(["cloud", "compact", "--data", str(tmp_path)]) == 0
    con = sqlite3.connect(str(tmp_path / "cloud.sqlite"))
    assert con.execute("SELECT count(*) FROM stores").fetchone()[0] == 1
    con.close()


def test_revenue_and_balance_endpoints(tmp_path):
    start = 1_767_225_600_000_000
    clock = ManualClock(start)
    shop = Shop(tmp_path / "shop", clock, seed=5)
    shop.member("M7", 80_000)
    for day in range(3):
        clock.t = start + day * 86_400_000_000 + 3_600_000_000
        shop.trade(6, step_s=600, refund_every=3)

    async def main():
        secret = Cloud.register(tmp_path / "cloud")
        cloud = await Cloud(tmp_path / "cloud", clock, hq_token="hq-secret").start()
        up = make_uploader(shop, cloud.url, secret, tmp_path / "shop" / "up.json")
        out = {}
        try:
            await up.drain()
            auth = {"Authorization": "Bearer hq-secret"}
            async with aiohttp.ClientSession() as s:
                async with s.get(cloud.url + "/v1/revenue") as r:
                    assert r.status == 401
                async with s.get(cloud.url + "/v1/revenue", headers=auth) as r:
                    out["all"] = (await r.json())["revenue"]
                async with s.get(
                    cloud.url + "/v1/revenue?store=S001&from=2026-01-02&to=2026-01-02", headers=auth
                ) as r:
                    out["one"] = (await r.json())["revenue"]
                async with s.get(cloud.url + "/v1/revenue?from=yesterday", headers=auth) as r:
                    assert r.status == 400
                async with s.get(cloud.url + "/v1/members/M7/balance", headers=auth) as r:
                    out["bal"] = await r.json()
                async with s.get(cloud.url + "/v1/members/NOPE/balance", headers=auth) as r:
                    out["none"] = await r.json()
        finally:
            await up.transport.close()
            await cloud.stop()
        return out

    out = asyncio.run(main())
    summary = assert_warehouse_matches(shop.ledger.journal.path, tmp_path / "cloud")
    assert [r["day"] for r in out["all"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert sum(r["sales"] for r in out["all"]) == summary["orders"]["total"]
    assert (
        sum(r["net"] for r in out["all"])
        == summary["orders"]["total"] - summary["refunds"]["amount"]
    )
    assert [r["day"] for r in out["one"]] == ["2026-01-02"] and out["one"][0]["orders"] == 6
    assert out["bal"]["balance"] == shop.ledger.balance("M7") and out["bal"]["found"]
    assert out["bal"]["as_of_us"] == clock.now_us()
    assert out["none"]["found"] is False and out["none"]["balance"] == 0
    shop.close()


def test_journal_file_source_reads_while_the_ledger_writes(tmp_path):
    from actors.uploader import JournalFileSource

    clock = ManualClock()
    shop = Shop(tmp_path / "shop", clock)
    shop.trade(3)
    src = JournalFileSource(shop.ledger.journal.path)

    async def main():
        n = await src.last_seq()
        assert n == shop.seq
        shop.trade(2)
        assert await src.last_seq() == shop.seq > n
        assert await src.read(0, 10_000) == shop.ledger.read(0, 10_000)
        assert [e.seq for e in await src.read(n, 2)] == [n + 1, n + 2]

    asyncio.run(main())
    src.close()
    shop.close()


def test_a_store_whose_clock_is_hours_off_still_uploads(tmp_path):
    """Shop PCs keep bad time: the cloud refuses signatures outside its window and says by how
    much; the uploader signs with the cloud's time from then on and the backlog drains."""
    cloud_clock = ManualClock(1_767_225_600_000_000)
    shop_clock = ManualClock(cloud_clock.t + 3 * 3_600_000_000 + 17_000_000)  # 3 h 17 s fast
    shop = Shop(tmp_path / "shop", shop_clock, seed=9)
    shop.trade(5, step_s=60)

    async def main():
        secret = Cloud.register(tmp_path / "cloud")
        cloud = await Cloud(tmp_path / "cloud", cloud_clock).start()
        up = make_uploader(shop, cloud.url, secret, tmp_path / "shop" / "up.json")
        try:
            await up.drain(max_steps=20)
            await cloud.warehouse.flush()
            return await up.status()
        finally:
            await cloud.stop()

    st = asyncio.run(main())
    assert st["backlog_events"] == 0 and st["acked"] == shop.ledger.seq
    assert st["clock_offset_s"] == -((shop_clock.t - cloud_clock.t) // 1_000_000)  # ≈ −3 h
    assert_warehouse_matches(tmp_path / "shop" / "journal.sqlite", tmp_path / "cloud")
