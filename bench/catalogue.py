"""Catalogue bench at 300,000 products: HQ publish (full and a 1,000-change delta), store apply
with the tills' scan p99 during it beside the p99 without it, store start, till search p99 with
misses. Each figure is printed beside its target and, where one makes sense, a baseline measured
in the same run (the old search checking every product). Ends with one JSON line.

    uv run python bench/catalogue.py [--products 300000] [--no-store]

HQ publishing: timed through ``cloud.publish.Publisher`` on HQ's real master data (SQLite), as
``bench/publish_speed.py`` does: N products loaded, a full publish, then 1,000 changed products and
a scheduled price coming due, published as a delta. The store part starts a real store
(``kassa demo --products N``, seeded once, then restarted as ``kassa store serve``) under the
shared heavy-run lock (/tmp/kassa-heavy.lock). An apply goes all the way HQ's catalogue goes:
the demo's HQ reprices products in its master data and publishes; the bundle the store needs (a
delta from the version it runs) is handed to the running store as a USB stick's is (``kassa store
catalogue import``: the store verifies, merges with its own values, journals and applies it, as
after a pull), while two tills scan; it is timed to the answer and to the first scan at a third
till that sells a repriced product at its new price.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkout import TillConnection, open_tills

from actors.process import StoreProcess
from actors.server import run_loop
from domain.catalogue import CatalogueIndex, product_from_dict
from kassa_cli.sample import sample_products

HITS = [
    "cola",
    "可乐",
    "โคล่า",
    "lotus cola",
    "green tea large",
    "牛奶",
    "ชาเขียว",
    "885000012",
    "S012345",
    "family",
    "croissant fresh",
    "海苔",
]
MISSES = ["zzzz", "xylophone", "可乐x", "99999999", "lotus zzz", "ชาเขียวก", "S999999x", "qwerty"]
QUERIES = HITS + MISSES


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, max(0, int(len(xs) * q) - 1))], 2) if xs else float("nan")


def publish_figures(n: int) -> dict:
    """HQ publishing through its real master data (``bench/publish_speed.py``): a full catalogue,
    then 1,000 changed products and a scheduled price coming due (the delta the store pulls)."""
    from publish_speed import measure

    got = measure(n, 1000)
    keep = ("load_master_s", "publish_full_s", "publish_delta_s", "delta_pull_s")
    return {
        **{k: got[k] for k in keep},
        "bundle_full_mb": got["bundle_full_mb"],
        "bundle_delta_kb": got["bundle_delta_kb"],
        "publish_measured_by": "cloud.publish.Publisher on HQ's master data (SQLite); the "
        "publish of 1,000 changes writes the changed rows and the delta",
    }


def search_in_process(rows: list[dict], rounds: int = 3) -> dict:
    """The index against the old search (every product checked), same catalogue, same queries."""
    index = CatalogueIndex([product_from_dict(d) for d in rows])
    t = time.perf_counter()
    index.prepare_search()
    build = time.perf_counter() - t
    new, old, miss = [], [], []
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            got = index.search(q)
            ms = (time.perf_counter() - t) * 1000
            new.append(ms)
            if q in MISSES:
                miss.append(ms)
            t = time.perf_counter()
            want = index.search(q, linear=True)
            old.append((time.perf_counter() - t) * 1000)
            assert [p.sku for p in got] == [p.sku for p in want], q
    return {
        "index_build_s": round(build, 2),
        "search_p99_ms_in_process": pct(new, 0.99),
        "search_miss_max_ms_in_process": round(max(miss), 3),
        "baseline_linear_search_p99_ms": pct(old, 0.99),
    }


async def scan_loop(
    conn: TillConnection,
    till: str,
    codes: list[str],
    stop: list[bool],
    out: list[tuple[float, float]],
) -> None:
    """Scan, scan, scan, pay until ``stop``; each scan's (start time, milliseconds)."""
    rng = random.Random(till)
    path = f"/v1/tills/{till}/commands"
    while not stop:
        for _ in range(3):
            t0 = time.perf_counter()
            code = rng.choice(codes)
            status, data = await conn.post(
                path, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": code}}
            )
            if status != 200:
                raise RuntimeError(f"scan failed: {data}")
            out.append((t0, (time.perf_counter() - t0) * 1000))
        total = data["view"]["total"]
        pay = {"tenders": [{"kind": "cash", "amount": total + 10_000}]}
        status, data = await conn.post(path, {"id": str(uuid.uuid4()), "op": "pay", "args": pay})
        if status != 200:
            raise RuntimeError(f"pay failed: {data}")


def hq_bundle(store: StoreProcess, n: int, bump: int, add: int) -> tuple[bytes, str, int]:
    """At the demo's HQ: the first ``bump`` sample products repriced (``add`` on the demo's
    price) in master data and published to the store; the bundle the store needs (a delta from
    the version it runs), a repriced product's barcode and its new price."""
    from actors.catalogue_sync_local import read_status
    from actors.store_file import load_config
    from cloud.licence import LicenceAuthority
    from cloud.master import MasterData
    from cloud.publish import Publisher
    from domain.ports import SystemClock

    hq, clock = Path(f"{store.data}-hq"), SystemClock()
    store_id = load_config(store.data).store_id
    master = MasterData(hq, clock)
    publisher = Publisher(hq, master, LicenceAuthority(hq), clock)
    try:
        changed = [{**r, "price": r["price"] + add} for r in sample_products(n)[:bump]]
        master.upsert_products(changed, "bench")
        publisher.publish([store_id], "bench", f"{bump} prices")
        data = publisher.bundle_for(store_id, read_status(store.data).get("version"))
        assert data is not None
        probe = next(r for r in changed if r.get("barcodes"))
        return data, str(probe["barcodes"][0]), int(probe["price"])
    finally:
        publisher.close()
        master.close()


async def apply(
    store: StoreProcess,
    n: int,
    bump: int,
    add: int,
    conns: list[TillConnection],
    codes: list[str],
) -> dict:
    """HQ reprices ``bump`` of ``n`` products and publishes; the bundle reaches the running
    store the way a USB stick's does (``kassa store catalogue import``: the store's inbox, then
    the same verify-merge-apply as a pull) while two tills scan. Timed from the bundle handed
    over to the first scan (at a third till) that sells a repriced product at its new price."""
    from actors.catalogue_sync_local import run_on_store
    from domain.catalogue_bundle import read_header

    data, probe, price = await asyncio.to_thread(hq_bundle, store, n, bump, add)
    selling, probing = conns[:2], conns[2]
    scans: list[tuple[float, float]] = []
    stop: list[bool] = []
    loops = [
        asyncio.ensure_future(scan_loop(c, f"B{i}", codes, stop, scans))
        for i, c in enumerate(selling)
    ]
    t0 = time.perf_counter()
    res = await asyncio.to_thread(run_on_store, store.data, "import", data, 1800.0)
    applied = time.perf_counter() - t0
    path = "/v1/tills/B2/commands"
    while True:  # the tills' copies load the change before their next command
        status, out = await probing.post(
            path, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": probe}}
        )
        assert status == 200, out
        await probing.post(path, {"id": str(uuid.uuid4()), "op": "void", "args": {}})
        if out["view"]["lines"][-1]["unit_price"] == price:
            break
        await asyncio.sleep(0.05)
    new_price_s = time.perf_counter() - t0
    await asyncio.sleep(2.0)
    stop.append(True)
    await asyncio.gather(*loops)
    during = [ms for t, ms in scans if t >= t0]
    return {
        "apply_s": round(applied, 2),
        "selling_new_price_s": round(new_price_s, 2),
        "bundle_kind": str(read_header(data)[0]["kind"]),
        "applied": bool(res.get("applied")),
        "scan_p99_during_ms": pct(during, 0.99),
        "scan_max_during_ms": round(max(during), 1),
    }


async def store_run(store: StoreProcess, n: int, searches: int, scan_s: float) -> dict:
    out: dict = {}
    async with aiohttp.ClientSession() as s:
        auth = await open_tills(s, store.url, 3)
        conns = [TillConnection(store.url, auth[f"B{i}"]) for i in range(3)]
        codes = [
            r["barcodes"][0] for r in sample_products(n)[:: max(1, n // 5000)] if r["barcodes"]
        ]
        t = time.perf_counter()
        status, _ = await conns[0].post(
            "/v1/tills/B0/commands",
            {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": codes[0]}},
        )
        assert status == 200
        out["first_scan_s"] = round(time.perf_counter() - t, 2)
        lat, miss = [], []
        rng = random.Random(3)
        for _ in range(searches):
            q = rng.choice(QUERIES)
            t = time.perf_counter()
            async with s.get(
                f"{store.url}/v1/products", params={"q": q, "limit": 50}, headers=auth["manager"]
            ) as r:
                await r.read()
                assert r.status == 200
            ms = (time.perf_counter() - t) * 1000
            lat.append(ms)
            if q in MISSES:
                miss.append(ms)
        out.update(
            search_p50_ms=pct(lat, 0.5),
            search_p99_ms=pct(lat, 0.99),
            search_miss_p99_ms=pct(miss, 0.99),
        )
        scans: list[tuple[float, float]] = []
        stop: list[bool] = []
        loops = [
            asyncio.ensure_future(scan_loop(c, f"B{i}", codes, stop, scans))
            for i, c in enumerate(conns[:2])
        ]
        await asyncio.sleep(scan_s)
        stop.append(True)
        await asyncio.gather(*loops)
        out["scan_p99_ms"] = pct([ms for _, ms in scans], 0.99)
        a = await apply(store, n, 1000, 25, conns, codes)
        out.update({f"{k}_1000_changed": v for k, v in a.items()})
        a = await apply(store, n, n, 50, conns, codes)
        out.update({f"{k}_all_changed": v for k, v in a.items()})
        for c in conns:
            c.close()
    return out


def seeded_and_restarted(data: Path, n: int) -> tuple[float, float, float, StoreProcess]:
    """A demo store of ``n`` products seeded (its tills opened once, so it knows them), stopped,
    and started again as ``kassa store serve``: seconds to seed, seconds from the start to
    selling (the fast start's selling path answers) and to every actor up."""
    t = time.perf_counter()
    store = StoreProcess(data, products=n).start(timeout=1800)
    seeded = time.perf_counter() - t
    run_loop(open_tills_only(store.url))
    store.stop()
    store = StoreProcess(data, port=store.port, demo=False)
    t = time.perf_counter()
    store.start(timeout=600, all_actors=False)
    selling = time.perf_counter() - t
    store.wait_up(600)
    return seeded, selling, time.perf_counter() - t, store


def every_actor_up(store: StoreProcess, started_s: float) -> float:
    """Seconds from the launch to the last actor's first answer (``server.json``'s "boot": the
    server's own clock, from its process's creation, which the launch precedes by milliseconds);
    at least the time the bench saw the store "running"."""
    end = time.time() + 120
    while time.time() < end:
        boot = json.loads((store.data / "server.json").read_text()).get("boot") or {}
        if "all_up" in boot and boot.get("exec"):
            return round(max(started_s, boot["all_up"] - boot["exec"]), 2)
        time.sleep(0.1)
    raise TimeoutError("the store's actors did not all answer")


def store_figures(n: int, searches: int, scan_s: float, only_start: bool = False) -> dict:
    with open("/tmp/kassa-heavy.lock", "a") as lock, tempfile.TemporaryDirectory() as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)  # heavy runs on this machine queue
        _, small_sell, small_all, small = seeded_and_restarted(Path(tmp) / "small", 2400)
        small_all = every_actor_up(small, small_all)
        small.stop()
        data = Path(tmp) / "store"
        seeded, selling_s, start_s, store = seeded_and_restarted(data, n)
        start_s = every_actor_up(store, start_s)
        out = {
            "first_start_with_seed_s": round(seeded, 1),
            "catalogue_json_mb": round((data / "catalogue.json").stat().st_size / 1e6, 1),
            "store_start_selling_s": round(selling_s, 2),
            "store_start_s": round(start_s, 2),
            "baseline_store_start_selling_2400_s": round(small_sell, 2),
            "baseline_store_start_2400_s": round(small_all, 2),
        }
        try:
            if not only_start:
                out.update(run_loop(store_run(store, n, searches, scan_s)))
        finally:
            store.stop()
            for line in store.log_path.read_text(errors="replace").splitlines():
                if "catalogue: " in line:  # the store's own account of each apply's phases
                    print(line[-300:], file=sys.stderr)
        return out


async def open_tills_only(url: str) -> None:
    """The bench's tills known to the store (opened once), as a shop's tills are at a restart."""
    async with aiohttp.ClientSession() as s:
        auth = await open_tills(s, url, 2)
        async with s.get(f"{url}/v1/products", params={"q": "885"}, headers=auth["manager"]) as r:
            code = (await r.json())[0]["barcodes"][0]
        for i in range(2):  # each till has sold: a restart rebuilds it and loads its catalogue
            conn = TillConnection(url, auth[f"B{i}"])
            status, _ = await conn.post(
                f"/v1/tills/B{i}/commands",
                {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": code}},
            )
            conn.close()
            assert status == 200


ROWS = [  # figure, key, target, baseline key
    ("HQ full publish (s)", "publish_full_s", "<= 10", None),
    ("HQ publish, 1,000 changed (s)", "publish_delta_s", "<= 1", None),
    ("HQ delta served to a store (s)", "delta_pull_s", "", None),
    ("search index build (s)", "index_build_s", "", None),
    ("search p99 in process (ms)", "search_p99_ms_in_process", "", "baseline_linear_search_p99_ms"),
    ("search miss max in proc (ms)", "search_miss_max_ms_in_process", "< 1", None),
    ("catalogue.json (MB)", "catalogue_json_mb", "", None),
    (
        "store start to selling (s)",
        "store_start_selling_s",
        "<= 10",
        "baseline_store_start_selling_2400_s",
    ),
    ("store start, every actor up (s)", "store_start_s", "<= 10", "baseline_store_start_2400_s"),
    ("first scan after the start (s)", "first_scan_s", "", None),
    ("till search p99 (ms)", "search_p99_ms", "<= 30", None),
    ("till search miss p99 (ms)", "search_miss_p99_ms", "<= 30", None),
    ("scan p99, no apply (ms)", "scan_p99_ms", "", None),
    ("HQ delta of 1,000 at the store (s)", "apply_s_1000_changed", "<= 5", None),
    ("  till sells the new price (s)", "selling_new_price_s_1000_changed", "", None),
    ("  scan p99 during it (ms)", "scan_p99_during_ms_1000_changed", "", "scan_p99_ms"),
    ("HQ repricing all at the store (s)", "apply_s_all_changed", "<= 5", None),
    ("  till sells the new price (s)", "selling_new_price_s_all_changed", "", None),
    ("  scan p99 during it (ms)", "scan_p99_during_ms_all_changed", "", "scan_p99_ms"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--products", type=int, default=300_000)
    ap.add_argument("--searches", type=int, default=400)
    ap.add_argument("--scan-seconds", type=float, default=6.0)
    ap.add_argument("--no-store", action="store_true", help="only the figures without a store")
    ap.add_argument("--only", choices=["start"], help="start: only the store's start figures")
    args = ap.parse_args()
    res: dict = {"products": args.products, "publish_measured_by": "(not run)"}
    if args.only != "start":
        rows = sample_products(args.products)
        res.update(publish_figures(args.products))
        res.update(search_in_process(rows))
        del rows
    if not args.no_store:
        res.update(
            store_figures(args.products, args.searches, args.scan_seconds, args.only == "start")
        )
    print(f"{'figure':<32}{'kassa':>10}{'target':>10}{'baseline':>12}")
    for name, key, target, base in ROWS:
        if key in res:
            b = res.get(base, "") if base else ""
            print(f"{name:<32}{res[key]:>10}{target:>10}{b:>12}")
    print(
        f"(publish: {res['publish_measured_by']}; baseline of the search: the old scan of every "
        "product; of the start: the same store with 2,400 products; of the scans during an "
        "apply: the scan p99 without one)"
    )
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
