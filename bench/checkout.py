"""Checkout bench: N simulated tills doing scan-scan-scan-pay through the store's LAN gateway.

Prints scan p50/p99 (ms, as a till sees them over HTTP), orders committed per second, and, in the
same run, this machine's raw SQLite commit rate (WAL, synchronous=FULL, one row per transaction) as
the baseline; then where the CPU went, per order and per kind of process. Ends with one JSON line.

    uv run python bench/checkout.py --tills 8 --seconds 20 [--tls]

Plain HTTP by default; ``--tls`` turns the store's TLS on first (its own CA) and drives it over
HTTPS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from actors.process import StoreProcess, proc_stat, session_members
from actors.server import run_loop


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
    async with s.post(
        f"{url}/v1/sessions",
        json={"id": str(uuid.uuid4()), "staff": staff, "pin": pin, "till": till},
    ) as r:
        data = await r.json()
        if r.status != 200:
            raise RuntimeError(f"sign-in failed: {data}")
    return {"Authorization": f"Bearer {data['token']}"}


async def open_tills(s: aiohttp.ClientSession, url: str, tills: int) -> dict[str, dict]:
    """The manager opens every bench till's day; one demo cashier signs in at each till."""
    manager = await sign_in(s, url, "m1", "9999", "BM")
    for i in range(tills):
        async with s.post(
            f"{url}/v1/day/open",
            json={"id": str(uuid.uuid4()), "till": f"B{i}", "float": 0},
            headers=manager,
        ) as r:
            data = await r.json()
            if r.status != 200 and data["error"]["code"] != "day.already_open":
                raise RuntimeError(f"day open failed: {data}")
    cashiers = [("c1", "1111"), ("c2", "2222"), ("c3", "3333")]
    out = {"manager": manager}
    for i in range(tills):
        out[f"B{i}"] = await sign_in(s, url, *cashiers[i % len(cashiers)], f"B{i}")
    return out


class TillConnection:
    """One till's keep-alive HTTP/1.1 connection to the gateway.

    A real till is its own PC; here all eight share the store server's two cores, so the client
    is kept lean (one socket, requests written and responses read by hand, uvloop) to leave the
    cores to the server being measured. Responses must carry Content-Length (the gateway's do).
    """

    def __init__(self, url: str, headers: dict, ssl_ctx=None) -> None:
        u = urlsplit(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.ssl = ssl_ctx
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.ssl
            )
        raw = json.dumps(body).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
            + raw
        )
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (
                int(v)
                for k, _, v in (ln.partition(":") for ln in lines[1:])
                if k.lower() == "content-length"
            ),
            None,
        )
        if length is None:
            raise RuntimeError(f"no Content-Length in the answer to {path}")
        return status, json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def till_loop(
    conn: TillConnection,
    till: str,
    codes: list[str],
    stop_at: float,
    scans: list[float],
    orders: list[int],
) -> None:
    rng = random.Random(till)
    path = f"/v1/tills/{till}/commands"
    while time.perf_counter() < stop_at:
        for _ in range(3):
            t0 = time.perf_counter()
            status, data = await conn.post(
                path, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": rng.choice(codes)}}
            )
            if status != 200:
                raise RuntimeError(f"scan failed: {data}")
            scans.append((time.perf_counter() - t0) * 1000)
        total = data["view"]["total"]
        status, data = await conn.post(
            path,
            {
                "id": str(uuid.uuid4()),
                "op": "pay",
                "args": {"tenders": [{"kind": "cash", "amount": total + 10_000}]},
            },
        )
        if status != 200:
            raise RuntimeError(f"pay failed: {data}")
        orders.append(1)


def cpu_by_process(sid: int) -> dict[str, float]:
    """CPU seconds used so far by each kind of process of the store server's session (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for pid in session_members(sid):
        fields = proc_stat(pid)
        if fields is None:  # gone meanwhile
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith("ray::"):
            name = cmd.split()[0].split(".")[0]  # ray::LedgerActor.wait -> ray::LedgerActor
        elif pid == sid:
            name = "store server (gateway, tills; demo HQ cloud)"
        else:
            name = "Ray daemons"
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


async def drive(
    url: str,
    tills: int,
    seconds: float,
    warmup: float,
    cpu: Callable[[], dict[str, float]] | None = None,
    ssl_ctx=None,
) -> dict:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ssl=ssl_ctx if ssl_ctx is not None else True)
    ) as s:
        auth = await open_tills(s, url, tills)
        async with s.get(
            f"{url}/v1/products", params={"q": "885", "limit": 200}, headers=auth["manager"]
        ) as r:
            codes = [p["barcodes"][0] for p in await r.json() if p["barcodes"]]
    conns = [TillConnection(url, auth[f"B{i}"], ssl_ctx) for i in range(tills)]
    try:
        # warm up: every till actor created and its catalogue loaded
        w_scans: list[float] = []
        w_orders: list[int] = []
        end = time.perf_counter() + warmup
        await asyncio.gather(
            *(till_loop(c, f"B{i}", codes, end, w_scans, w_orders) for i, c in enumerate(conns))
        )
        scans: list[float] = []
        orders: list[int] = []
        cpu0 = cpu() if cpu else {}
        own0 = time.process_time()
        t0 = time.perf_counter()
        await asyncio.gather(
            *(
                till_loop(c, f"B{i}", codes, t0 + seconds, scans, orders)
                for i, c in enumerate(conns)
            )
        )
        elapsed = time.perf_counter() - t0
        own = time.process_time() - own0
        cpu1 = cpu() if cpu else {}
    finally:
        for c in conns:
            c.close()
    scans.sort()
    n = max(1, len(orders))
    cpu_ms = {k: round((v - cpu0.get(k, 0.0)) * 1000 / n, 3) for k, v in cpu1.items()}
    cpu_ms[f"bench client ({tills} tills' HTTP)"] = round(own * 1000 / n, 3)
    return {
        "scan_p50_ms": round(statistics.median(scans), 2),
        "scan_p99_ms": round(scans[int(len(scans) * 0.99) - 1], 2),
        "orders_per_s": round(len(orders) / elapsed, 1),
        "orders": len(orders),
        "scans": len(scans),
        "cpu_ms_per_order": cpu_ms,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tills", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--tls", action="store_true", help="HTTPS with the store's own CA")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = sqlite_baseline(Path(tmp) / "baseline.sqlite")
        ssl_ctx = None
        if args.tls:
            from actors import tls

            tls.enable(Path(tmp) / "store", ["localhost"], [])
            ssl_ctx = tls.client_context(Path(tmp) / "store")
        store = StoreProcess(Path(tmp) / "store").start()
        try:
            sid = store.proc.pid if store.proc else 0
            res = run_loop(
                drive(
                    store.url,
                    args.tills,
                    args.seconds,
                    args.warmup,
                    lambda: cpu_by_process(sid),
                    ssl_ctx,
                )
            )
        finally:
            store.stop()
    res.update({"sqlite_commits_per_s": round(base, 1), "tills": args.tills, "tls": args.tls})
    print(f"{'figure':<28}{'kassa':>12}{'target':>12}")
    print(f"{'scan p50 (ms)':<28}{res['scan_p50_ms']:>12}{'':>12}")
    print(f"{'scan p99 (ms)':<28}{res['scan_p99_ms']:>12}{'<= 20':>12}")
    print(f"{'orders committed / s':<28}{res['orders_per_s']:>12}{'>= 300':>12}")
    print(f"{'baseline: raw SQLite tx/s':<28}{res['sqlite_commits_per_s']:>12}{'':>12}")
    print(f"{'events/s vs raw SQLite':<28}{res['orders_per_s'] * 4 / base:>12.2f}{'':>12}")
    print("CPU per order (ms), by process:")
    for name, ms in sorted(res["cpu_ms_per_order"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<46}{ms:>8.3f}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
