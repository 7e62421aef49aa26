"""The pure pieces of publishing: canonical hashes per product, field-level changes, and the kept
bundle files (private, pruned when a newer version is published)."""

from __future__ import annotations

import os
import stat

import orjson

from cloud.publish_snap import BundleFiles, encode, field_changes


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


def test_field_changes() -> None:
    old = _p("A", 100, category="x")
    new = _p("A", 120, tags=["t"])
    assert field_changes(old, new) == {
        "category": ["x", None],
        "price": [100, 120],
        "tags": [None, ["t"]],
    }


def test_bundle_files_are_private_and_pruned_below_the_newest(tmp_path) -> None:
    files = BundleFiles(tmp_path, "S001")
    for v in (1, 2, 3):
        files.write_bundle(b"full%d" % v, v)
    files.write_bundle(b"delta", 3, 2)
    files.write_bundle(b"delta", 2, 1)
    (files.dir / "2.lines").write_bytes(b"{}")  # what an earlier HQ kept
    files.prune(3)
    assert sorted(p.name for p in files.dir.iterdir()) == ["delta-2-3.bundle", "full-3.bundle"]
    assert files.read_bundle(3) == b"full3" and files.read_bundle(2) is None
    assert stat.S_IMODE(os.stat(files.dir).st_mode) == 0o700
    for f in files.dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
