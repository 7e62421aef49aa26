"""HQ repricing every product, the catalogue's pieces timed in one process (no Ray, no server):
the long way (every row to the merge and back, the catalogue written whole, its search index and
the tills' copy made again) beside the catalogue repricing itself (HQ's rows in once, prices in
place, the tills sent prices). Not the store's apply end to end: ``bench/catalogue.py`` is.

    uv run python bench/catalogue_reprice_pieces.py --products 50000

It then times the store's whole apply of HQ's delta repricing every product in one process
(``CatalogueSync`` over ``LocalTarget``: the bundle, the merge, the catalogue, ``hq.sqlite``, the
journal; no Ray, no tills; ``hq.sqlite`` is written after the catalogue here, not beside it),
the long way, HQ's rows inside the catalogue, and HQ's ``[sku, price]`` pairs inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "kits"))

from actors.catalogue import Catalogue, paused_gc, products_of_chunks
from actors.catalogue_sync import CatalogueSync
from actors.catalogue_sync_local import LocalTarget
from actors.shared_catalogue import SharedCatalogue, _build
from bundlekit import TestHQ
from domain.catalogue import CatalogueIndex, normal_dict
from domain.catalogue_merge import effective, price_only
from domain.ports import ManualClock
from domain.store import StoreConfig
from kassa_cli.sample import sample_products

FIELDS = ["favourite", "low_stock", "image"]


def timed(out: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    gc.collect()
    t = time.perf_counter()
    with paused_gc():
        res = fn()
    out[name] = round(time.perf_counter() - t, 3)
    return res


def fresh(folder: Path, rows: list[dict]) -> Catalogue:
    cat = Catalogue(folder, StoreConfig())
    merged, ev = cat.prepare_update(rows, "bench", replace_all=True)
    cat.commit(merged, ev.version)
    cat.index.prepare_search()
    cat._saved_rows()  # made a few seconds after a start
    return cat


def long_way(cat: Catalogue, hq: dict[str, dict], host: CatalogueIndex) -> dict[str, float]:
    t: dict[str, float] = {}
    have = cat.version
    _, blob = timed(t, "store rows as JSON (actor)", lambda: cat.rows(list(hq)))
    current = timed(t, "store rows decoded (gateway)", lambda: orjson.loads(blob))
    same, rest = timed(t, "price_only (gateway)", lambda: price_only(current, hq, FIELDS))
    rows = same + effective({}, {}, [], FIELDS)
    sent = timed(t, "rows as JSON (gateway)", lambda: orjson.dumps(rows))
    got = timed(t, "rows decoded (actor)", lambda: orjson.loads(sent))
    merged, ev = timed(t, "prepare_update (actor)", lambda: cat.prepare_update(got, "hq"))
    saved = timed(t, "save: write + new index (actor)", lambda: cat.save(merged, ev.version))
    timed(t, "swap (actor loop)", lambda: cat.swap(saved))
    timed(t, "search index again (actor, background)", cat.index.prepare_search)
    kind, version, chunks, removed = timed(
        t, "changes for a host (actor)", lambda: cat.changes(have)
    )
    timed(t, f"host loads ({kind})", lambda: _build(chunks, version))
    t["total"] = round(sum(t.values()), 3)
    return t


def _host_takes_prices(
    t: dict[str, float], cat: Catalogue, have: str, host: CatalogueIndex
) -> dict[str, float]:
    """The end both in-catalogue ways share: a till host's changes since ``have``, taken."""
    kind, version, chunks, removed = timed(
        t, "changes for a host (actor)", lambda: cat.changes(have)
    )
    timed(
        t, f"host loads ({kind})", lambda: SharedCatalogue._reprice(host, chunks, removed, version)
    )
    t["total"] = round(sum(t.values()), 3)
    return t


def inside(cat: Catalogue, hq: dict[str, dict], host: CatalogueIndex) -> dict[str, float]:
    t: dict[str, float] = {}
    have = cat.version
    blob = timed(t, "HQ rows as JSON (gateway)", lambda: orjson.dumps(hq))
    got = timed(t, "HQ rows decoded (actor)", lambda: orjson.loads(blob))
    _, prices, rest = timed(t, "price_split (actor)", lambda: cat.price_split(got))
    pairs = timed(t, "prices decoded (gateway + actor)", lambda: orjson.loads(prices))
    timed(t, "priced set (gateway)", lambda: {s for s, _ in pairs})
    change, ev = timed(
        t, "prepare_update prices (actor)", lambda: cat.prepare_update([], "hq", prices=pairs)
    )
    saved = timed(t, "save: write rows (actor)", lambda: cat.save(change, ev.version))
    timed(t, "swap: prices into the index (actor loop)", lambda: cat.swap(saved))
    timed(t, "search index (kept)", cat.index.prepare_search)
    return _host_takes_prices(t, cat, have, host)


def as_pairs(cat: Catalogue, given: list[list], host: CatalogueIndex) -> dict[str, float]:
    """HQ's ``[sku, price]`` pairs (a format-2 delta) straight to the catalogue's update."""
    t: dict[str, float] = {}
    have = cat.version
    blob = timed(t, "HQ pairs as JSON (gateway)", lambda: orjson.dumps(given))
    pairs = timed(t, "HQ pairs decoded (actor)", lambda: orjson.loads(blob))
    change, ev = timed(  # checks the pairs as it reprices
        t, "prepare_update prices (actor)", lambda: cat.prepare_update([], "hq", prices=pairs)
    )
    saved = timed(t, "save: write rows + index copy (actor)", lambda: cat.save(change, ev.version))
    timed(t, "swap (actor loop)", lambda: cat.swap(saved))
    return _host_takes_prices(t, cat, have, host)


class LongWay(LocalTarget):
    price_split = None  # type: ignore[assignment]


def whole_apply(base: list[dict], target: type[LocalTarget], pairs: bool = False) -> float:
    """``pairs``: HQ's delta lists the new prices as ``[sku, price]`` (format 2), as HQ
    publishes a price-only change now; else every repriced product's row."""
    hq = TestHQ()
    v2 = [{**p, "price": p["price"] + 10} for p in base]
    first = hq.bundle("S001", 1, base)
    if pairs:
        new = [[p["sku"], p["price"]] for p in v2]
        second = hq.bundle("S001", 2, [], base=1, extra={"repriced": new})
    else:
        second = hq.bundle("S001", 2, v2, base=1)
    with tempfile.TemporaryDirectory() as tmp:
        shop = target(Path(tmp), StoreConfig(store_id="S001"))
        sync = CatalogueSync(tmp, "S001", hq.public, shop, shop.journal, ManualClock())
        asyncio.run(sync.apply_bytes(first, "hq"))
        shop.cat.index.prepare_search()
        shop.cat._saved_rows()
        gc.collect()
        t = time.perf_counter()
        asyncio.run(sync.apply_bytes(second, "hq"))
        took = time.perf_counter() - t
        shop.close()
    return round(took, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=50_000)
    args = ap.parse_args()
    base = sample_products(args.products)
    hq = {}
    for p in base:
        d = normal_dict(p)
        d["price"] = d["price"] + 10
        hq[d["sku"]] = d
    with tempfile.TemporaryDirectory() as tmp:
        old = fresh(Path(tmp) / "long", base)
        new = fresh(Path(tmp) / "inside", base)
        third = fresh(Path(tmp) / "pairs", base)
        host = CatalogueIndex(products_of_chunks(new.changes("")[2]), new.version)
        a = long_way(old, hq, host)
        b = inside(new, hq, host)
        c = as_pairs(third, [[s, d["price"]] for s, d in hq.items()], host)
        assert old.path.read_bytes() == new.path.read_bytes() == third.path.read_bytes()
    scale = 300_000 / args.products
    for name, t in (("long way", a), ("inside the catalogue", b), ("HQ's pairs", c)):
        print(f"{name}:")
        for k, v in t.items():
            print(f"  {k:45s} {v:7.3f} s   (x{scale:.0f}: {v * scale:6.2f} s)")
    apply = {
        "long_way": whole_apply(base, LongWay),
        "inside": whole_apply(base, LocalTarget),
        "inside_pairs": whole_apply(base, LocalTarget, pairs=True),
    }
    for name, took in apply.items():
        print(
            f"whole apply in one process, {name}: {took:.3f} s (x{scale:.0f}: {took * scale:.2f} s)"
        )
    print(
        json.dumps(
            {"products": args.products, "long_way": a, "inside": b, "pairs": c, "apply": apply}
        )
    )


if __name__ == "__main__":
    main()
