"""HQ publishing at catalogue scale, through HQ's real master data (SQLite), not a stand-in.

    uv run python bench/publish_speed.py [--products 300000] [--changes 1000]

Loads N products with ``MasterData.upsert_products`` (chunks of 10,000), then times: a full
publish to one store, the store's first full bundle (built on its first request), ``changes``
products edited (prices and names) plus a scheduled price coming due, the publish after them, the
delta bundle the store pulls, and the full bundle of that version. Issue 14 asks: full publish
<= 10 s, a publish of 1,000 changes <= 1 s. Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from cloud.licence import LicenceAuthority
from cloud.master import MasterData
from cloud.publish import Publisher
from domain.catalogue import ean_check_digit
from domain.catalogue_bundle import unpack
from domain.ports import ManualClock

STORE = "S001"
CHUNK = 10_000


def product(i: int, price: int, name: str = "Rice") -> dict[str, Any]:
    body = f"885{i:09d}"
    return {
        "sku": f"P{i:07d}",
        "names": {"en": f"{name} {i}", "th": f"ข้าว {i}", "zh": f"大米 {i}"},
        "price": price,
        "barcodes": [body + ean_check_digit(body)],
        "category": f"Food/Dept{i % 40}",
        "brand": f"Brand{i % 300}",
    }


def timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def measure(n: int, k: int) -> dict[str, Any]:
    """Load ``n`` products into HQ's real master data, publish, change ``k`` and publish again."""
    with tempfile.TemporaryDirectory() as tmp:
        hq = Path(tmp)
        clock = ManualClock()
        md = MasterData(hq, clock)
        md.put_store_profile({"id": STORE, "name": "Bench", "group": "default"}, "bench")
        t = time.perf_counter()
        for start in range(0, n, CHUNK):
            md.upsert_products(
                [product(i, 1000 + i % 500) for i in range(start, min(n, start + CHUNK))], "bench"
            )
        load_s = time.perf_counter() - t
        auth = LicenceAuthority(hq, clock)
        auth.ensure_key()
        pub = Publisher(hq, md, auth, clock)
        v1, full_s = timed(lambda: pub.publish([STORE], "bench"))
        full1, full1_s = timed(lambda: pub.bundle_for(STORE, None) or b"")
        clock.advance(60)
        step = max(1, n // max(1, k))
        md.upsert_products(
            [product(i, 2000 + i % 77, "Edited") for i in range(0, n, step)][:k], "bench"
        )
        md.add_price(
            {"sku": "P0000001", "group": "*", "price": 5, "from_us": clock.now_us() + 1}, "b"
        )
        clock.advance(60)  # that price comes due before the next publish
        v2, delta_pub_s = timed(lambda: pub.publish([STORE], "bench"))
        delta, pull_s = timed(lambda: pub.bundle_for(STORE, v1) or b"")
        full2, full2_s = timed(lambda: pub.bundle_for(STORE, None) or b"")
        d = unpack(delta, auth.public_key_text(), store=STORE)
        pub.close()
        md.close()
    figures = {
        "products": n,
        "changes": k,
        "load_master_s": round(load_s, 1),
        "publish_full_s": round(full_s, 2),
        "full_bundle_first_request_s": round(full1_s, 2),
        "publish_delta_s": round(delta_pub_s, 3),
        "delta_pull_s": round(pull_s, 4),
        "full_bundle_after_delta_s": round(full2_s, 2),
        "delta_products": len(d.products),
        "bundle_full_mb": round(len(full1) / 1e6, 1),
        "bundle_delta_kb": round(len(delta) / 1e3, 1),
        "versions": [v1, v2],
    }
    assert len(full2) > len(delta)
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=300_000)
    ap.add_argument("--changes", type=int, default=1000)
    args = ap.parse_args()
    figures = measure(args.products, args.changes)
    for key, value in figures.items():
        print(f"{key:30} {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
