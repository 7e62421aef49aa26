"""HQ's products at the store kept by row (``actors.catalogue_hq_store``): a store's ``hq.json``
moves into ``hq.sqlite`` once, and the next delta applies on it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

import actors.catalogue_hq_store as hq_store_mod
from actors.catalogue_hq_store import HqStore
from actors.catalogue_sync import SYNC_DIR, CatalogueSync
from actors.catalogue_sync_local import LocalTarget
from bundlekit import TestHQ
from domain.ports import ManualClock
from domain.store import StoreConfig
from kassa_cli.sample import sample_products


def test_hq_json_of_an_older_store_moves_into_hq_sqlite_once(tmp_path: Path) -> None:
    """A store updated from a version that kept HQ's products in ``hq.json``: its version,
    prices and products are read from there once, and the next delta applies on them."""
    hq = TestHQ()
    folder = tmp_path / SYNC_DIR
    folder.mkdir()
    products = {p["sku"]: p for p in sample_products(50)}
    doc = {
        "version": 4,
        "base": None,
        "sha256": "ab" * 32,
        "products": products,
        "prices": [],
        "store_fields": ["favourite"],
        "catalogue": "",
    }
    (folder / "hq.json").write_bytes(orjson.dumps(doc))
    target = LocalTarget(tmp_path, StoreConfig(store_id="S001"))
    try:
        sync = CatalogueSync(tmp_path, "S001", hq.public, target, target.journal, ManualClock())
        assert sync.status()["version"] == 4 and not (folder / "hq.json").exists()
        assert HqStore(folder).all() == products
        sku = next(iter(products))
        changed = {**products[sku], "price": 1234}
        out = asyncio.run(sync.apply_bytes(hq.bundle("S001", 5, [changed], base=4), "hq"))
        assert out["applied"] and out["version"] == 5
        assert HqStore(folder).get([sku])[sku]["price"] == 1234
        assert len(HqStore(folder).all()) == 50
    finally:
        target.close()


def test_a_save_rewriting_most_rows_writes_a_new_file_in_hq_order(tmp_path: Path) -> None:
    """HQ repricing most products: the save writes a new ``hq.sqlite`` and renames it in (not
    300,000 updates in place); the rows keep HQ's order, removed SKUs go, new ones come last,
    the rows it does not name stay as they were, and no temporary file is left."""
    store = HqStore(tmp_path)
    products = {p["sku"]: p for p in sample_products(40)}
    store.save({"version": 1}, products, replace=True)
    skus = list(products)
    repriced = {s: {**products[s], "price": products[s]["price"] + 7} for s in skus[5:]}
    new = {**sample_products(41)[-1], "sku": "NEW-1"}
    before = (tmp_path / "hq.sqlite").stat().st_ino
    store.save({"version": 2}, {**repriced, "NEW-1": new}, delete=[skus[2]])
    assert (tmp_path / "hq.sqlite").stat().st_ino != before  # a new file, renamed in
    after = store.all()
    assert list(after) == [*skus[:2], *skus[3:], "NEW-1"]
    assert after[skus[0]] == products[skus[0]] and after[skus[9]] == repriced[skus[9]]
    assert store.meta() == {"version": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hq.sqlite"]


def test_hqs_later_prices_are_read_back_until_a_row_or_a_new_file_replaces_them(
    tmp_path: Path,
) -> None:
    """HQ's new prices of kept products go into ``prices``, not into their rows: they are
    read back with the rows; a row written later carries its own price; a save that writes a
    new file (most rows changed) keeps the prices of the rows it copies."""
    store = HqStore(tmp_path)
    rows = {p["sku"]: p for p in sample_products(10)}
    skus = list(rows)
    store.save({"version": 1}, rows, replace=True)
    store.save({"version": 2}, {}, prices=[[skus[0], 7], [skus[1], 8], [skus[2], 9]])
    got = store.all()
    assert [got[s]["price"] for s in skus[:4]] == [7, 8, 9, rows[skus[3]]["price"]]
    assert store.get([skus[1]]) == {skus[1]: {**rows[skus[1]], "price": 8}}
    assert list(got) == skus  # HQ's order
    store.save({"version": 3}, {skus[0]: {**rows[skus[0]], "price": 1}}, delete=[skus[1]])
    got = store.all()
    assert got[skus[0]]["price"] == 1 and skus[1] not in got and got[skus[2]]["price"] == 9
    most = {s: {**rows[s], "names": {"en": "new"}} for s in skus[3:]}
    store.save({"version": 4}, most)  # 7 of 9 rows: a new file, renamed in
    got = store.all()
    assert got[skus[2]]["price"] == 9 and got[skus[5]]["names"] == {"en": "new"}
    assert store.meta() == {"version": 4}


def test_many_new_prices_are_written_ahead_and_seen_only_once_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many of HQ's new prices are written into ``prices_next`` while the catalogue commits
    (``stage``): no reader sees them until ``save`` puts them in with the version; a staged
    apply that fails leaves the prices as they were."""
    monkeypatch.setattr(hq_store_mod, "STAGE_PRICES", 2)
    store = HqStore(tmp_path)
    rows = {p["sku"]: p for p in sample_products(10)}
    skus = list(rows)
    store.save({"version": 1}, rows, replace=True)
    pairs = [[s, 100 + i] for i, s in enumerate(skus)]
    staged = store.stage({}, (), False, pairs)
    assert staged == store.path and store.all() == rows  # not seen yet
    store.discard(staged)  # the apply failed: nothing changes
    assert store.all() == rows and store.meta() == {"version": 1}
    staged = store.stage({}, (), False, pairs[:5])
    store.save({"version": 2}, {}, staged=staged, prices=pairs[:5])
    got = store.all()
    assert [got[s]["price"] for s in skus] == [100, 101, 102, 103, 104] + [
        rows[s]["price"] for s in skus[5:]
    ]
    assert store.meta() == {"version": 2}
