"""Catalogue bench at 300,000 products: HQ publish (full and a 1,000-change delta), store apply
with the tills' scan p99 during it beside the p99 without it, store start, till search p99 with
misses. Each figure is printed beside its target and, where one makes sense, a baseline measured
in the same run (the old search checking every product). Ends with one JSON line.

    uv run python bench/catalogue.py [--products 300000] [--no-store]

HQ publishing: timed through ``cloud.publish.Publisher`` on HQ's real master data (SQLite), as
``bench/publish_speed.py`` does: N products loaded, a full publish, then 1,000 changed products and
a scheduled price coming due, published as a delta. The store part starts a real store
(``kassa demo --products N``, seeded once, then restarted as ``kassa store serve``) under the
shared heavy-run lock (/tmp/kassa-heavy.lock). An apply goes the way HQ's catalogue is applied at
a store: the catalogue actor's ``update(replace_all=True)`` (called here from a Ray driver
attached to the store's own private Ray with its token), after which the gateway is told (a
refused import tells it, as the puller's ``catalogue_changed`` does) and its tills load the change
before their next scan.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
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
from actors.wire import run_dir
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

DRIVER = r"""
import asyncio, json, os, sys, time, uuid
import ray
from actors.client import CatalogueClient
from actors.till import Who
from kassa_cli.sample import sample_products
address, n, bump = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = sample_products(n)
for r in rows[: bump]:
    r["price"] += 25
ray.init(address=address, namespace="kassa", logging_level="ERROR", log_to_driver=False)
cat = CatalogueClient(ray.get_actor("catalogue", namespace="kassa"))
print("START", flush=True)
t = time.perf_counter()
res = asyncio.run(cat.update(str(uuid.uuid4()), rows, "bench", Who("system", ""), True))
print(json.dumps({"apply_s": time.perf_counter() - t, "count": res["count"]}), flush=True)
"""


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


def gcs_address(data: Path) -> str:
    latest = run_dir(data) / "ray" / "session_latest"
    port = next(latest.glob("gcs_server_port_*")).read_text().strip()
    return f"127.0.0.1:{port}"


async def apply(
    store: StoreProcess,
    n: int,
    bump: int,
    auth: dict,
    s: aiohttp.ClientSession,
    conns: list[TillConnection],
    codes: list[str],
) -> dict:
    """Apply a full catalogue of ``n`` products (``bump`` of them repriced) while tills scan."""
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_ENABLE_UV_RUN_RUNTIME_ENV="0")
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # 127.0.0.1 stays loopback (the store's Ray)
    env["RAY_AUTH_TOKEN"] = (run_dir(store.data) / "ray_token").read_text().strip()
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DRIVER,
        gcs_address(store.data),
        str(n),
        str(bump),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while (line := await proc.stdout.readline()).strip() != b"START":
        if not line:
            raise RuntimeError("the apply driver could not attach to the store's Ray")
    scans: list[tuple[float, float]] = []
    stop: list[bool] = []
    loops = [
        asyncio.ensure_future(scan_loop(c, f"B{i}", codes, stop, scans))
        for i, c in enumerate(conns)
    ]
    t0 = time.perf_counter()
    line = await proc.stdout.readline()
    await proc.wait()
    res = json.loads(line)
    async with s.post(  # refused (no products): it tells the gateway, as the HQ puller does
        f"{store.url}/v1/products/import",
        json={"id": str(uuid.uuid4()), "products": []},
        headers=auth,
    ) as r:
        assert r.status == 400
    t_told = time.perf_counter()
    while not any(t >= t_told for t, _ in scans):  # the first scan after it: change loaded
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)
    stop.append(True)
    await asyncio.gather(*loops)
    during = [ms for t, ms in scans if t >= t0]
    loaded = max(ms for t, ms in scans if t >= t_told)
    return {
        "apply_s": round(res["apply_s"], 2),
        "scan_p99_during_ms": pct(during, 0.99),
        "scan_max_during_ms": round(max(during), 1),
        "first_scans_after_ms": round(loaded, 1),
    }


async def store_run(store: StoreProcess, n: int, searches: int, scan_s: float) -> dict:
    out: dict = {}
    async with aiohttp.ClientSession() as s:
        auth = await open_tills(s, store.url, 2)
        conns = [TillConnection(store.url, auth[f"B{i}"]) for i in range(2)]
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
            for i, c in enumerate(conns)
        ]
        await asyncio.sleep(scan_s)
        stop.append(True)
        await asyncio.gather(*loops)
        out["scan_p99_ms"] = pct([ms for _, ms in scans], 0.99)
        a = await apply(store, n, 1000, auth["manager"], s, conns, codes)
        out.update({f"{k}_1000_changed": v for k, v in a.items()})
        a = await apply(store, n, n, auth["manager"], s, conns, codes)
        out.update({f"{k}_all_changed": v for k, v in a.items()})
        for c in conns:
            c.close()
    return out


def seeded_and_restarted(data: Path, n: int) -> tuple[float, float, StoreProcess]:
    """A demo store of ``n`` products seeded (its tills opened once, so it knows them), stopped,
    and started again as ``kassa store serve``: seconds to seed, seconds to its first answer."""
    t = time.perf_counter()
    store = StoreProcess(data, products=n).start(timeout=1800)
    seeded = time.perf_counter() - t
    run_loop(open_tills_only(store.url))
    store.stop()
    store = StoreProcess(data, port=store.port, demo=False)
    t = time.perf_counter()
    store.start(timeout=600)
    return seeded, time.perf_counter() - t, store


def store_figures(n: int, searches: int, scan_s: float) -> dict:
    with open("/tmp/kassa-heavy.lock", "a") as lock, tempfile.TemporaryDirectory() as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)  # heavy runs on this machine queue
        _, small_s, small = seeded_and_restarted(Path(tmp) / "small", 2400)
        small.stop()
        data = Path(tmp) / "store"
        seeded, start_s, store = seeded_and_restarted(data, n)
        out = {
            "first_start_with_seed_s": round(seeded, 1),
            "catalogue_json_mb": round((data / "catalogue.json").stat().st_size / 1e6, 1),
            "store_start_s": round(start_s, 2),
            "baseline_store_start_2400_s": round(small_s, 2),
        }
        try:
            out.update(run_loop(store_run(store, n, searches, scan_s)))
        finally:
            store.stop()
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
    ("store start (s)", "store_start_s", "<= 10", "baseline_store_start_2400_s"),
    ("first scan after the start (s)", "first_scan_s", "", None),
    ("till search p99 (ms)", "search_p99_ms", "<= 30", None),
    ("till search miss p99 (ms)", "search_miss_p99_ms", "<= 30", None),
    ("scan p99, no apply (ms)", "scan_p99_ms", "", None),
    ("apply 300k, 1,000 changed (s)", "apply_s_1000_changed", "<= 5", None),
    ("  scan p99 during it (ms)", "scan_p99_during_ms_1000_changed", "", "scan_p99_ms"),
    ("apply 300k, all changed (s)", "apply_s_all_changed", "<= 5", None),
    ("  scan p99 during it (ms)", "scan_p99_during_ms_all_changed", "", "scan_p99_ms"),
    ("  slowest scan after it (ms)", "first_scans_after_ms_all_changed", "", None),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--products", type=int, default=300_000)
    ap.add_argument("--searches", type=int, default=400)
    ap.add_argument("--scan-seconds", type=float, default=6.0)
    ap.add_argument("--no-store", action="store_true", help="only the figures without a store")
    args = ap.parse_args()
    rows = sample_products(args.products)
    res: dict = {"products": args.products}
    res.update(publish_figures(args.products))
    res.update(search_in_process(rows))
    del rows
    if not args.no_store:
        res.update(store_figures(args.products, args.searches, args.scan_seconds))
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
