"""The catalogue file and its updates at scale: what is saved comes back the same after a
restart, an unchanged product is not checked again but a changed or wrong one is, and a till host
gets the products changed since the version it holds; a small update is put into the held
catalogue in place and ends exactly as the same catalogue written whole would."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from actors.catalogue import Catalogue, CatalogueDelta, products_of_chunks
from domain.catalogue import CatalogueIndex
from domain.errors import InvalidInput
from domain.store import StoreConfig
from kassa_cli.sample import sample_products


def fresh(tmp_path: Path, rows: list[dict]) -> Catalogue:
    cat = Catalogue(tmp_path, StoreConfig())
    merged, ev = cat.prepare_update(rows, "test", replace_all=True)
    cat.commit(merged, ev.version)
    return cat


def test_a_restart_reads_back_the_same_products_and_version(tmp_path: Path) -> None:
    rows = sample_products(3000)
    cat = fresh(tmp_path, rows)
    again = Catalogue(tmp_path, StoreConfig())
    assert again.version == cat.version
    assert list(again.index.by_sku.values()) == list(cat.index.by_sku.values())
    assert again.search("lotus cola") == cat.search("lotus cola")
    doc = orjson.loads((tmp_path / "catalogue.json").read_bytes())
    assert {"sku", "names", "price"} <= set(doc["products"][0])  # what analytics reads is there


def test_a_file_from_before_the_rules_marker_is_checked_product_by_product(tmp_path: Path) -> None:
    rows = sample_products(20)
    rows[3] = dict(rows[3], barcodes=["8850000000000"])  # wrong check digit
    doc = {"version": "old", "products": rows}
    (tmp_path / "catalogue.json").write_bytes(orjson.dumps(doc))
    cat = Catalogue(tmp_path, StoreConfig())
    assert len(cat.index) == 19 and rows[3]["sku"] not in cat.index.by_sku


def test_unchanged_products_are_kept_and_changed_or_wrong_ones_checked(tmp_path: Path) -> None:
    rows = sample_products(3000)
    cat = fresh(tmp_path, rows)
    before = cat.index.by_sku
    again = [dict(r) for r in rows]
    again[5]["price"] += 25
    merged, ev = cat.prepare_update(again, "hq", replace_all=True)
    assert merged[5].price == rows[5]["price"] + 25
    assert merged[6] is before[rows[6]["sku"]]  # the same product, not checked again
    assert ev.version != cat.version
    for bad in ({"price": float(rows[7]["price"])}, {"price": True}, {"barcodes": ["123"]}):
        wrong = [dict(r) for r in rows]
        wrong[7].update(bad)
        with pytest.raises(InvalidInput) as err:
            cat.prepare_update(wrong, "hq", replace_all=True)
        assert err.value.details["row"] == 8


def test_a_till_host_gets_the_changes_since_its_version(tmp_path: Path) -> None:
    rows = sample_products(3000)
    cat = fresh(tmp_path, rows)
    kind, v1, chunks, _ = cat.changes("")
    assert kind == "full" and len(products_of_chunks(chunks)) == 3000
    host = CatalogueIndex(products_of_chunks(chunks), v1)
    again = [dict(r) for r in rows[:-1]]  # the last product removed
    again[10]["price"] += 25
    merged, ev = cat.prepare_update(again, "hq", replace_all=True)
    cat.commit(merged, ev.version)
    kind, v2, chunks, removed = cat.changes(v1)
    assert (kind, v2, removed) == ("delta", cat.version, [rows[-1]["sku"]])
    changed = products_of_chunks(chunks)
    assert [p.sku for p in changed] == [rows[10]["sku"]]
    for sku in removed:
        host.remove(sku)
    for p in changed:
        host.put(p)
    assert dict(host.by_sku) == dict(cat.index.by_sku)
    assert cat.changes(v2)[0] == "same"
    assert cat.changes("some other version")[0] == "full"


def test_a_small_update_ends_as_the_whole_catalogue_written_again(tmp_path: Path) -> None:
    rows = sample_products(3000)
    cat = fresh(tmp_path / "small", rows)
    ref = fresh(tmp_path / "whole", rows)
    search = cat.index.prepare_search()
    repriced = [{**r, "price": r["price"] + 7} for r in rows[100:400]]
    renamed = [{**rows[500], "names": {"en": "Durian crisps"}}]
    new = [{"sku": "NEW-1", "names": {"en": "Mango sticky rice"}, "price": 9000}]
    gone = [rows[7]["sku"], rows[2999]["sku"]]
    change, ev = cat.prepare_update(repriced, "hq")
    assert isinstance(change, CatalogueDelta) and len(change.changed) == 300
    cat.commit(change, ev.version)
    assert cat.index.prepare_search() is search  # prices only: the search index kept
    for part in (renamed + new, []):
        change, ev = cat.prepare_update(part, "hq", remove=gone if part else [])
        cat.commit(change, ev.version)
    assert ev.version == cat.version  # nothing changed: the same version
    whole = {r["sku"]: r for r in rows}
    for r in repriced + renamed + new:
        whole[r["sku"]] = r
    for sku in gone:
        del whole[sku]
    merged, ev = ref.prepare_update(list(whole.values()), "hq", replace_all=True)
    ref.commit(merged, ev.version)
    assert list(cat.index.by_sku.values()) == list(ref.index.by_sku.values())
    assert cat.search("durian") == ref.search("durian") != []
    assert cat.search("sticky rice") == ref.search("sticky rice") != []
    again = Catalogue(tmp_path / "small", StoreConfig())  # a restart reads the same back
    assert again.version == cat.version
    assert list(again.index.by_sku.values()) == list(ref.index.by_sku.values())
    kind, version, _, _ = cat.changes("a version no host holds")
    assert kind == "full" and version == cat.version


def test_a_till_host_gets_a_small_update_as_a_delta(tmp_path: Path) -> None:
    rows = sample_products(3000)
    cat = fresh(tmp_path, rows)
    v1 = cat.version
    change, ev = cat.prepare_update([{**rows[3], "price": 1}], "hq", remove=[rows[4]["sku"]])
    cat.commit(change, ev.version)
    kind, v2, chunks, removed = cat.changes(v1)
    assert (kind, v2, removed) == ("delta", cat.version, [rows[4]["sku"]])
    assert [r["sku"] for r in orjson.loads(chunks[0])] == [rows[3]["sku"]]


def test_a_lazy_catalogue_answers_its_version_before_its_products_are_read(tmp_path) -> None:
    """The catalogue actor at a start: its version comes from the saved file's head at once, and
    a look-up waits for the products rather than finding none."""
    cat = Catalogue(tmp_path, StoreConfig(store_id="S001"))
    merged, ev = cat.prepare_update(sample_products(3000), "test", replace_all=True)
    cat.commit(merged, ev.version)
    lazy = Catalogue(tmp_path, StoreConfig(store_id="S001"), lazy=True)
    assert lazy.version == cat.version != ""
    code = sample_products(3000)[-1]["barcodes"][0]
    assert lazy.lookup(code)["sku"] == sample_products(3000)[-1]["sku"]
    assert len(lazy.index) == 3000 and lazy.version == cat.version
