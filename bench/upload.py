"""Upload bench: drain a store's backlog of N orders to a cloud on loopback.

1. Writes a journal of N orders straight through ``actors.journal.Journal.append`` in big batches of
   real event bodies (each order: 1–4 ``basket.line_added`` + one ``order.completed``, hash-chained
   like the ledger does; the ledger itself would take minutes for 300k orders).
2. Starts the cloud as its own process (``kassa cloud serve``), registers the store, and drains the
   whole backlog with the real ``Uploader`` + ``HttpTransport`` through a byte-counting proxy
   (``tests/kits/faultproxy.py`` with no faults): events/s, seconds to drain, wire bytes per order
   (request bytes as they cross the socket, headers included).
3. Baseline, same run, same cloud: a naive uploader that posts one order per request as plain JSON
   (``Envelope.to_wire()``), signed, uncompressed, over a keep-alive connection, through the same
   proxy. It runs on a sample (``--baseline-orders``, default 3,000) of the same orders under a
   second store id, and its drain time is *extrapolated* linearly to N orders.
4. The cloud's ingest rate per process: events accepted / CPU seconds the cloud process used while
   draining (user + system, from /proc: HTTP, decompression, hash-chain checks, SQLite commits),
   and the cloud's own busy-time figure (decode + verify + commit only) beside it.
5. After the drain: the time to flatten everything into the Parquet warehouse (not part of the
   drain).

Ends with one JSON line. Targets: drain <= 60 s, <= 300 bytes/order, ingest >= 50,000 events/s.

    uv run python bench/upload.py [--orders 300000] [--batch 10000] [--level 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.journal import Journal, Pending  # noqa: E402
from actors.uploader import HttpTransport, JournalSource, MemoryState, Uploader  # noqa: E402
from cloud.registry import Registry  # noqa: E402
from domain.events import LineAdded, OrderCompleted, OrderLine, Payment, encode_body  # noqa: E402
from domain.ports import SystemClock  # noqa: E402
from domain.upload import JSON_TYPE, signed_headers  # noqa: E402


def _load_proxy():
    spec = importlib.util.spec_from_file_location(
        "faultproxy", ROOT / "tests" / "kits" / "faultproxy.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.FaultProxy


# ---------------------------------------------------------------- the backlog

CATEGORIES = ["dairy", "bakery", "drinks", "snacks", "produce", "household", "frozen", "rice"]


def _catalogue(rng: random.Random, n: int = 2400) -> list[dict]:
    out = []
    for i in range(n):
        stem = f"885{i:09d}"
        out.append(
            {
                "sku": f"SKU{i:05d}",
                "names": {"en": f"Product {i}", "th": f"สินค้า {i}"},
                "price": rng.choice([1000, 1500, 2000, 2500, 3900, 4500, 5900, 8900, 12900, 18900]),
                "category": CATEGORIES[i % len(CATEGORIES)],
                "code": stem + "0",
                "rate": 700 if i % 10 else 0,
            }
        )
    return out


def make_backlog(path: Path, orders: int, seed: int = 1) -> tuple[int, list[int]]:
    """Write ``orders`` orders; returns (events, events per order)."""
    rng = random.Random(seed)
    cat = _catalogue(rng)
    j = Journal(path)
    ts = SystemClock().now_us() - orders * 3_000_000  # one order every ~3 s, ending now
    tills = [f"T{i}" for i in range(1, 5)]
    staff = ["alice", "bob", "chai", "dao"]
    per_order: list[int] = []
    pending: list[Pending] = []
    cmd = hashlib.sha256(b"bench").digest()
    for n in range(orders):
        till = rng.choice(tills)
        who = staff[tills.index(till)]
        ip = f"10.0.0.{tills.index(till) + 11}"
        bid = str(uuid.uuid4())
        lines = []
        for k in range(rng.choice([1, 1, 2, 2, 2, 3, 4])):
            p = rng.choice(cat)
            qty = rng.choice([1, 1, 1, 2, 3])
            ts += rng.randint(500_000, 4_000_000)
            ev = LineAdded(
                bid,
                f"L{k + 1}",
                p["sku"],
                p["names"],
                "pc",
                qty,
                p["price"],
                "std" if p["rate"] else "zero",
                p["rate"],
                p["category"],
                p["code"],
            )
            pending.append(
                Pending(
                    str(uuid.uuid4()),
                    cmd,
                    ts,
                    "basket.line_added",
                    1,
                    who,
                    till,
                    ip,
                    bid,
                    encode_body(ev),
                )
            )
            base = p["price"] * qty
            tax = (base * p["rate"] + (10_000 + p["rate"]) // 2) // (10_000 + p["rate"])
            lines.append(
                OrderLine(
                    f"L{k + 1}",
                    p["sku"],
                    p["names"],
                    p["category"],
                    "pc",
                    qty,
                    p["price"],
                    base,
                    0,
                    base,
                    tax,
                    base,
                    "std" if p["rate"] else "zero",
                    p["rate"],
                )
            )
        total = sum(ln.total for ln in lines)
        if rng.random() < 0.45:
            pays = (Payment("card", total, reference=f"{rng.randrange(10**8):08d}", last4="4242"),)
            rounding, change = 0, 0
        else:
            paid = (total + 12) // 25 * 25
            rounding = paid - total
            tendered = (paid + 9_999) // 10_000 * 10_000
            change = tendered - paid
            pays = (Payment("cash", paid, tendered, change),)
        ts += rng.randint(1_000_000, 5_000_000)
        oc = OrderCompleted(
            bid,
            f"{till}-{n + 1:06d}",
            "THB",
            True,
            tuple(lines),
            total,
            0,
            sum(ln.tax for ln in lines),
            total,
            rounding,
            pays,
            change,
        )
        pending.append(
            Pending(
                str(uuid.uuid4()),
                cmd,
                ts,
                "order.completed",
                1,
                who,
                till,
                ip,
                bid,
                encode_body(oc),
            )
        )
        per_order.append(len(lines) + 1)
        if len(pending) >= 50_000:
            j.append(pending)
            pending = []
    if pending:
        j.append(pending)
    events = j.seq
    j.close()
    return events, per_order


# ---------------------------------------------------------------- the cloud process


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


async def start_cloud(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kassa_cli.main",
            "cloud",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--export-delay",
            "100000",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as s:
        for _ in range(600):
            try:
                async with s.get(f"http://127.0.0.1:{port}/v1/health") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError("the cloud did not start")


async def cloud_stats(port: int, data: Path) -> dict:
    from cloud.hqauth import read_token  # the token the cloud created in its folder at start

    hq = {"Authorization": f"Bearer {read_token(data)}"}
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"http://127.0.0.1:{port}/v1/stats", headers=hq) as r,
    ):
        return (await r.json())["ingest"]


def free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------- the runs


async def drain(
    journal: Path, url: str, secret: str, batch: int, level: int
) -> tuple[float, Uploader]:
    j = Journal(journal)
    transport = HttpTransport(url, timeout_s=120)
    up = Uploader(
        JournalSource(j),
        transport,
        MemoryState(),
        SystemClock(),
        store="S001",
        secret=secret,
        max_events=batch,
        max_bytes=64 * 1024 * 1024,
        level=level,
    )
    t0 = time.perf_counter()
    while True:
        res = await up.step()
        if res == "idle":
            break
        if res == "failed":
            raise RuntimeError(f"upload failed: {up.last_error}")
    dt = time.perf_counter() - t0
    await transport.close()
    j.close()
    return dt, up


async def baseline(
    journal: Path, url: str, secret: bytes, per_order: list[int], sample: int
) -> tuple[float, int]:
    """One order per request, plain JSON, under store S002 (the same events, its own chain)."""
    j = Journal(journal)
    n_events = sum(per_order[:sample])
    envs = j.read(0, n_events)
    j.close()
    clock = SystemClock()
    sent = 0
    async with aiohttp.ClientSession() as s:
        t0 = time.perf_counter()
        pos = 0
        for k in per_order[:sample]:
            chunk = envs[pos : pos + k]
            pos += k
            body = orjson.dumps({"store": "S002", "events": [e.to_wire() for e in chunk]})
            h = signed_headers(
                secret,
                "S002",
                clock.now_us() // 1_000_000,
                body,
                content_type=JSON_TYPE,
                encoding=None,
            )
            async with s.post(url + "/v1/ingest", data=body, headers=h) as r:
                js = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"baseline refused: {js}")
            sent += 1
        dt = time.perf_counter() - t0
    return dt, sent


async def main_async(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kassa-upload-bench-"))
    journal = tmp / "store" / "journal.sqlite"
    t0 = time.perf_counter()
    events, per_order = make_backlog(journal, args.orders)
    gen_s = time.perf_counter() - t0
    print(
        f"backlog: {args.orders:,} orders, {events:,} events written in {gen_s:.1f} s "
        f"({events / args.orders:.2f} events/order)",
        flush=True,
    )

    data = tmp / "cloud"
    reg = Registry(data)
    s1 = reg.add_store("S001", zone="Asia/Bangkok")
    s2 = reg.add_store("S002", zone="Asia/Bangkok")
    reg.close()
    port = free_port()
    proc = await start_cloud(data, port)
    FaultProxy = _load_proxy()
    proxy = await FaultProxy(port, timeout_s=120).start()
    try:
        # --- baseline on a sample, through the same proxy
        b_up0 = proxy.bytes_up
        b_dt, b_reqs = await baseline(
            journal, proxy.url, bytes.fromhex(s2), per_order, min(args.baseline_orders, args.orders)
        )
        b_bytes = proxy.bytes_up - b_up0
        b_orders = b_reqs
        baseline_drain_s = b_dt * args.orders / b_orders
        print(
            f"baseline (one order per JSON request): {b_orders:,} orders in {b_dt:.2f} s "
            f"-> {baseline_drain_s:.1f} s extrapolated to {args.orders:,}; "
            f"{b_bytes / b_orders:.0f} bytes/order",
            flush=True,
        )

        # --- the real uploader
        st0 = await cloud_stats(port, data)
        cpu0 = cpu_seconds(proc.pid)
        up0 = proxy.bytes_up
        dt, up = await drain(journal, proxy.url, s1, args.batch, args.level)
        cpu1 = cpu_seconds(proc.pid)
        st1 = await cloud_stats(port, data)
        wire = proxy.bytes_up - up0
        assert up.acked == events, (up.acked, events)
        accepted = st1["events_accepted"] - st0["events_accepted"]
        busy = st1["busy_s"] - st0["busy_s"]
        cpu = cpu1 - cpu0
        print(
            f"uploader: {events:,} events in {dt:.2f} s = {events / dt:,.0f} events/s, "
            f"{up.sent_batches} requests, {wire / args.orders:.1f} wire bytes/order "
            f"(body {up.wire_bytes / args.orders:.1f})",
            flush=True,
        )
        print(
            f"cloud: {accepted:,} events accepted, process CPU {cpu:.2f} s -> "
            f"{accepted / cpu:,.0f} events/s per process; busy (decode+verify+commit) "
            f"{busy:.2f} s -> {accepted / busy:,.0f} events/s",
            flush=True,
        )
    finally:
        await proxy.stop()
        proc.terminate()
        proc.wait(30)

    # --- the warehouse, after the drain (not part of it)
    from cloud.warehouse import Warehouse

    reg = Registry(data)
    t0 = time.perf_counter()
    exported = Warehouse(data, reg, SystemClock()).export_store("S001")
    wh_s = time.perf_counter() - t0
    reg.close()
    print(
        f"warehouse: {exported:,} events flattened to Parquet in {wh_s:.1f} s "
        f"({exported / wh_s:,.0f} events/s)",
        flush=True,
    )
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}")
    return {
        "orders": args.orders,
        "events": events,
        "drain_s": round(dt, 3),
        "events_per_s": round(events / dt),
        "bytes_per_order": round(wire / args.orders, 1),
        "requests": up.sent_batches,
        "baseline_orders_measured": b_orders,
        "baseline_extrapolated": b_orders < args.orders,
        "baseline_drain_s": round(baseline_drain_s, 1),
        "baseline_bytes_per_order": round(b_bytes / b_orders, 1),
        "cloud_ingest_events_per_s": round(accepted / cpu),
        "cloud_busy_events_per_s": round(accepted / busy),
        "warehouse_export_s": round(wh_s, 1),
        "targets_met": {
            "drain_s<=60": dt <= 60,
            "bytes_per_order<=300": wire / args.orders <= 300,
            "ingest>=50000": accepted / cpu >= 50_000,
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--orders", type=int, default=300_000)
    ap.add_argument("--batch", type=int, default=10_000, help="events per request at most")
    ap.add_argument("--level", type=int, default=3, help="zstd level")
    ap.add_argument("--baseline-orders", type=int, default=3_000)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()
    res = asyncio.run(main_async(args))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
