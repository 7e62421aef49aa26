"""The pure pieces of publishing: canonical hashes per product, the diff between two versions,
field-level changes, and reading a few products back from a snapshot's lines."""

from __future__ import annotations

import os
import stat

import orjson

from cloud.publish_snap import SnapshotFiles, diff, encode, field_changes


def _p(sku: str, price: int = 100, **kw) -> dict:
    return {"sku": sku, "names": {"en": f"P {sku}"}, "price": price, **kw}


def test_hash_follows_content() -> None:
    a = encode([_p("A"), _p("B")])
    assert a.hashes == encode([_p("A"), _p("B")]).hashes
    assert encode([_p("A", 101)]).hashes["A"] != a.hashes["A"]
    assert encode([_p("A", names={"en": "P A", "th": "ก"})]).hashes["A"] != a.hashes["A"]
    assert [orjson.loads(line) for line in a.lines] == [_p("A"), _p("B")]


def test_lines_cut_from_one_dump_equal_one_dump_per_product() -> None:
    tricky = [
        _p("A", names={"en": 'has ,{"sku": inside'}),
        _p("B", tags=[{"sku": "nested"}]),  # a real ,{"sku": inside a product
        _p("C"),
    ]
    for products in (tricky, [_p("A"), {"price": 1, "sku": "Z", "names": {}}], [_p("A")]):
        enc = encode(products)
        assert enc.lines == [orjson.dumps(p) for p in products]
        assert list(enc.hashes) == [p["sku"] for p in products]


def test_duplicate_sku_later_wins_in_first_place() -> None:
    enc = encode([_p("A"), _p("B"), _p("A", 7)])
    assert list(enc.hashes) == ["A", "B"]
    assert enc.hashes["A"] == encode([_p("A", 7)]).hashes["A"]
    assert len(enc.lines) == 2 and b'"price":7' in enc.lines[0]


def test_diff_added_changed_removed() -> None:
    base = encode([_p("A"), _p("B"), _p("C")]).hashes
    new = encode([_p("A"), _p("B", 200), _p("D")]).hashes
    assert diff(base, new) == (["D"], ["B"], ["C"])
    assert diff({}, new) == (["A", "B", "D"], [], [])
    assert diff(new, new) == ([], [], [])


def test_field_changes() -> None:
    old = _p("A", 100, category="x")
    new = _p("A", 120, tags=["t"])
    assert field_changes(old, new) == {
        "category": ["x", None],
        "price": [100, 120],
        "tags": [None, ["t"]],
    }


def test_snapshot_files_read_back_chosen_products_and_are_private(tmp_path) -> None:
    products = [_p(f"S{i:05d}", i, names={"en": f"line\nbreak {i}"}) for i in range(5000)]
    enc = encode(products)
    files = SnapshotFiles(tmp_path, "S001")
    files.write(3, enc, {"prices": [], "store_fields": ["favourite"], "profile": None})
    got = files.products(3, files.hashes(3) or {}, ["S04999", "S00000", "S02500"])
    assert sorted(p["sku"] for p in got) == ["S00000", "S02500", "S04999"]
    assert {p["sku"]: p for p in got}["S02500"] == products[2500]
    assert files.all_products(3) == products
    assert files.meta(3)["store_fields"] == ["favourite"]
    assert stat.S_IMODE(os.stat(files.dir).st_mode) == 0o700
    for f in files.dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_prune_keeps_newest_and_recent_hashes(tmp_path) -> None:
    files = SnapshotFiles(tmp_path, "S001")
    for v in (1, 2, 3):
        files.write(v, encode([_p("A", v)]), {})
        files.write_bundle(b"full", v)
    files.write_bundle(b"delta", 3, 2)
    files.write_bundle(b"delta", 2, 1)
    files.prune(3, keep=[2, 3])
    names = sorted(p.name for p in files.dir.iterdir())
    assert names == sorted(
        ["2.hashes", "3.hashes", "3.lines", "3.meta", "full-3.bundle", "delta-2-3.bundle"]
    )
