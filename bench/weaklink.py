"""Weak-link bench: drain a store's backlog over a thin, lossy line to a cloud on loopback.

The line is ``tests/kits/faultproxy.py``: one line at ``--kbit`` kbit/s each way, shared by every
connection, 0.1 s latency each way, a 16 KB modem queue. The backlog is ``bench/upload.py``'s
(``--orders`` orders, 1–4 lines each). The cloud runs as its own process (``kassa cloud serve``);
each run uploads the same journal under its own store id, from nothing, with the real ``Uploader``
and ``HttpTransport`` (adaptive batches, holdings questions, the slow-line encoding):

1. a clean line (the baseline, in the same run);
2. 20 % of requests lost on the line (each after crossing it whole);
3. 20 % of replies lost (the cloud stored the batch, the store never heard);
4. ``--slow-kbit`` (9.6) kbit/s for ``--slow-s`` (120) seconds: orders delivered.

For each: wall time, events/s, bytes per order on the wire (both directions, lost requests and
replies included), requests and holdings questions, and the time 300,000 orders would take at that
pace. Exactly once: the cloud's event file for the store holds every seq once with the journal's
hash, nothing more. Ends with one JSON line (``est_300k_h`` is the worse of the two loss runs).
Targets: ``est_300k_h`` <= 2, exactly once, steady progress at 9.6 kbit/s.

    uv run python bench/weaklink.py [--orders 10000] [--kbit 64] [--slow-s 120]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from upload import _load_proxy, free_port, make_backlog, start_cloud  # noqa: E402

from actors.journal import Journal  # noqa: E402
from actors.uploader import HttpTransport, JournalSource, MemoryState, Uploader  # noqa: E402
from cloud.registry import Registry  # noqa: E402
from domain.ports import SystemClock  # noqa: E402


async def run_one(
    name: str,
    journal: Path,
    data: Path,
    port: int,
    store: str,
    secret: str,
    events: int,
    orders_at: list[int],
    kbit: float,
    *,
    p_req: float = 0.0,
    p_rep: float = 0.0,
    limit_s: float | None = None,
) -> dict:
    proxy = await _load_proxy()(port, timeout_s=120).start()
    proxy.kbit(kbit)
    proxy.delay_s = 0.1
    proxy.p_drop_request, proxy.p_drop_reply = p_req, p_rep
    j = Journal(journal)
    transport = HttpTransport(proxy.url)
    up = Uploader(
        JournalSource(j), transport, MemoryState(), SystemClock(), store=store, secret=secret
    )
    stop = asyncio.Event()
    t0 = time.perf_counter()
    task = asyncio.ensure_future(up.run(stop))
    last_print = t0
    try:
        while up.acked < events:
            await asyncio.sleep(0.25)
            now = time.perf_counter()
            if limit_s is not None and now - t0 >= limit_s:
                break
            if now - last_print >= 30:
                st = await up.status()
                last_print = now
                print(
                    f"  {name}: {now - t0:5.0f} s  acked {up.acked:,}/{events:,}  "
                    f"{st['rate_events_s'] or 0:.0f} ev/s  line {st['line_kbit_s']} kbit/s  "
                    f"eta {st['eta_s']} s  batch {st['batch_target_bytes']:,} B"
                    + (
                        f"  last error ({st['last_error_kind']}): {st['last_error']}"
                        if st["last_error"]
                        else ""
                    ),
                    flush=True,
                )
        wall = time.perf_counter() - t0
    finally:
        stop.set()
        await asyncio.wait_for(task, 180)
        await transport.close()
        await proxy.stop()
    delivered_orders = bisect.bisect_right(orders_at, up.acked)
    wire = proxy.bytes_up + proxy.bytes_down
    con = sqlite3.connect(str(data / "stores" / store / "events.sqlite"))
    held = con.execute("SELECT seq, hash FROM events ORDER BY seq").fetchall()
    con.close()
    mine = [(e.seq, e.hash) for e in j.read(0, len(held))]
    j.close()
    # every seq once, with the journal's hash; more than acked only if the last answer was lost
    exactly_once = [(s, bytes(h)) for s, h in held] == mine and len(held) >= up.acked
    res = {
        "wall_s": round(wall, 1),
        "events": up.acked,
        "orders": delivered_orders,
        "events_per_s": round(up.acked / wall, 1),
        "bytes_per_order_wire": round(wire / max(1, delivered_orders), 1),
        "bytes_per_order_up": round(proxy.bytes_up / max(1, delivered_orders), 1),
        "requests": proxy.requests,
        "holdings_asked": up.holdings_asked,
        "lost_requests": proxy.dropped_requests,
        "lost_replies": proxy.dropped_replies,
        "est_300k_h": round(wall * 300_000 / max(1, delivered_orders) / 3600, 2),
        "exactly_once": exactly_once,
    }
    print(
        f"{name}: {delivered_orders:,} orders ({up.acked:,} events) in {wall:.1f} s = "
        f"{res['events_per_s']} events/s; {res['bytes_per_order_wire']} B/order on the wire "
        f"({res['bytes_per_order_up']} up), {proxy.requests} requests "
        f"({proxy.dropped_requests} lost, {proxy.dropped_replies} replies lost, "
        f"{up.holdings_asked} holdings questions); 300,000 orders ≈ {res['est_300k_h']} h; "
        f"exactly once: {exactly_once}",
        flush=True,
    )
    return res


async def main_async(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kassa-weaklink-"))
    journal = tmp / "store" / "journal.sqlite"
    events, per_order = make_backlog(journal, args.orders)
    orders_at = list(itertools.accumulate(per_order))
    print(
        f"backlog: {args.orders:,} orders, {events:,} events; line {args.kbit} kbit/s each way, "
        f"0.1 s latency each way",
        flush=True,
    )
    data = tmp / "cloud"
    reg = Registry(data)
    secrets = {s: reg.add_store(s, zone="Asia/Bangkok") for s in ("S001", "S002", "S003", "S004")}
    reg.close()
    port = free_port()
    proc = await start_cloud(data, port)
    out: dict = {}
    try:
        common = (journal, data, port)
        out["clean"] = await run_one(
            "clean line", *common, "S001", secrets["S001"], events, orders_at, args.kbit
        )
        out["requests_lost"] = await run_one(
            "20 % of requests lost",
            *common,
            "S002",
            secrets["S002"],
            events,
            orders_at,
            args.kbit,
            p_req=0.2,
        )
        out["replies_lost"] = await run_one(
            "20 % of replies lost",
            *common,
            "S003",
            secrets["S003"],
            events,
            orders_at,
            args.kbit,
            p_rep=0.2,
        )
        out["slow"] = await run_one(
            f"{args.slow_kbit} kbit/s for {args.slow_s:.0f} s",
            *common,
            "S004",
            secrets["S004"],
            events,
            orders_at,
            args.slow_kbit,
            limit_s=args.slow_s,
        )
    finally:
        proc.terminate()
        proc.wait(30)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    worse = max(out["requests_lost"]["est_300k_h"], out["replies_lost"]["est_300k_h"])
    return {
        "orders": args.orders,
        "kbit": args.kbit,
        "est_300k_h": worse,
        "bytes_per_order_wire": out["clean"]["bytes_per_order_wire"],
        "bytes_per_order_wire_lossy": max(
            out["requests_lost"]["bytes_per_order_wire"],
            out["replies_lost"]["bytes_per_order_wire"],
        ),
        "exactly_once": all(r["exactly_once"] for r in out.values()),
        "slow_9k6_delivered": out["slow"]["orders"],
        "clean_events_per_s": out["clean"]["events_per_s"],
        "clean_est_300k_h": out["clean"]["est_300k_h"],
        "runs": out,
        "targets_met": {
            "est_300k_h<=2": worse <= 2,
            "exactly_once": all(r["exactly_once"] for r in out.values()),
            "slow_progress": out["slow"]["orders"] > 0,
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--kbit", type=float, default=64.0)
    ap.add_argument("--slow-kbit", type=float, default=9.6)
    ap.add_argument("--slow-s", type=float, default=120.0)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()
    res = asyncio.run(main_async(args))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
