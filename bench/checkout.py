"""Checkout bench: N simulated tills doing scan-scan-scan-pay through the store's LAN gateway.

Prints scan p50/p99 (ms, as a till sees them over HTTP), orders committed per second, and, in the
same run, this machine's raw SQLite commit rate (WAL, synchronous=FULL, one row per transaction) as
the baseline. Ends with one JSON line.

    uv run python bench/checkout.py --tills 8 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from actors.process import StoreProcess


def sqlite_baseline(path: Path, seconds: float = 3.0) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    n, end = 0, time.perf_counter() + seconds
    body = b"x" * 300
    while time.perf_counter() < end:
        con.execute("BEGIN")
        con.execute("INSERT INTO t(body) VALUES (?)", (body,))
        con.execute("COMMIT")
        n += 1
    con.close()
    return n / seconds


async def sign_in(s: aiohttp.ClientSession, url: str, staff: str, pin: str, till: str) -> dict:
    """A demo staff member signed in at ``till``: the Authorization header to send."""
    async with s.post(f"{url}/v1/sessions", json={"id": str(uuid.uuid4()), "staff": staff,
                                                  "pin": pin, "till": till}) as r:
        data = await r.json()
        if r.status != 200:
            raise RuntimeError(f"sign-in failed: {data}")
    return {"Authorization": f"Bearer {data['token']}"}


async def open_tills(s: aiohttp.ClientSession, url: str, tills: int) -> dict[str, dict]:
    """The manager opens every bench till's day; one demo cashier signs in at each till."""
    manager = await sign_in(s, url, "m1", "9999", "BM")
    for i in range(tills):
        async with s.post(f"{url}/v1/day/open", json={"id": str(uuid.uuid4()), "till": f"B{i}",
                                                       "float": 0}, headers=manager) as r:
            data = await r.json()
            if r.status != 200 and data["error"]["code"] != "day.already_open":
                raise RuntimeError(f"day open failed: {data}")
    cashiers = [("c1", "1111"), ("c2", "2222"), ("c3", "3333")]
    out = {"manager": manager}
    for i in range(tills):
        out[f"B{i}"] = await sign_in(s, url, *cashiers[i % len(cashiers)], f"B{i}")
    return out


async def till_loop(session: aiohttp.ClientSession, url: str, till: str, codes: list[str],
                    stop_at: float, scans: list[float], orders: list[int],
                    headers: dict) -> None:
    rng = random.Random(till)
    cmd_url = f"{url}/v1/tills/{till}/commands"
    while time.perf_counter() < stop_at:
        for _ in range(3):
            t0 = time.perf_counter()
            async with session.post(cmd_url, json={"id": str(uuid.uuid4()), "op": "scan",
                                                   "args": {"code": rng.choice(codes)}},
                                    headers=headers) as r:
                data = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"scan failed: {data}")
            scans.append((time.perf_counter() - t0) * 1000)
        total = data["view"]["total"]
        async with session.post(cmd_url, json={"id": str(uuid.uuid4()), "op": "pay", "args": {
                "tenders": [{"kind": "cash", "amount": total + 10_000}]}}, headers=headers) as r:
            data = await r.json()
            if r.status != 200:
                raise RuntimeError(f"pay failed: {data}")
        orders.append(1)


async def drive(url: str, tills: int, seconds: float, warmup: float) -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        auth = await open_tills(s, url, tills)
        async with s.get(f"{url}/v1/products", params={"q": "885", "limit": 200},
                         headers=auth["manager"]) as r:
            codes = [p["barcodes"][0] for p in await r.json() if p["barcodes"]]
        # warm up: every till actor created and its catalogue loaded
        w_scans: list[float] = []
        w_orders: list[int] = []
        end = time.perf_counter() + warmup
        await asyncio.gather(*(till_loop(s, url, f"B{i}", codes, end, w_scans, w_orders,
                                         auth[f"B{i}"]) for i in range(tills)))
        scans: list[float] = []
        orders: list[int] = []
        t0 = time.perf_counter()
        await asyncio.gather(*(till_loop(s, url, f"B{i}", codes, t0 + seconds, scans, orders,
                                         auth[f"B{i}"]) for i in range(tills)))
        elapsed = time.perf_counter() - t0
    scans.sort()
    return {"scan_p50_ms": round(statistics.median(scans), 2),
            "scan_p99_ms": round(scans[int(len(scans) * 0.99) - 1], 2),
            "orders_per_s": round(len(orders) / elapsed, 1), "orders": len(orders),
            "scans": len(scans)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tills", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = sqlite_baseline(Path(tmp) / "baseline.sqlite")
        store = StoreProcess(Path(tmp) / "store").start()
        try:
            res = asyncio.run(drive(store.url, args.tills, args.seconds, args.warmup))
        finally:
            store.stop()
    res.update({"sqlite_commits_per_s": round(base, 1), "tills": args.tills})
    print(f"{'figure':<28}{'kassa':>12}{'target':>12}")
    print(f"{'scan p50 (ms)':<28}{res['scan_p50_ms']:>12}{'':>12}")
    print(f"{'scan p99 (ms)':<28}{res['scan_p99_ms']:>12}{'<= 20':>12}")
    print(f"{'orders committed / s':<28}{res['orders_per_s']:>12}{'>= 300':>12}")
    print(f"{'baseline: raw SQLite tx/s':<28}{res['sqlite_commits_per_s']:>12}{'':>12}")
    print(f"{'events/s vs raw SQLite':<28}{res['orders_per_s'] * 4 / base:>12.2f}{'':>12}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
