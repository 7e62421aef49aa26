"""The feed file format (docs/feed-format.md): every field checked on its own row, bad rows
reported with row number, field and code, the diff against master data."""

from __future__ import annotations

import orjson
import pytest

from cloud.feed_format import diff, merged, parse, to_master
from domain.error_codes import lookup

HEADER = "sku,barcodes,name_en,name_zh,brand,spec,category,price,unit,image,supplier_code\n"
GOOD = "TEA-1,4006381333931,Green tea,绿茶,Leaf,500 ml,Drinks/Tea,1250,each,tea.png,SUP-9\n"


def _one_bad(line: str) -> dict:
    p = parse((HEADER + GOOD + line).encode())
    assert len(p.good) == 1 and p.good[0][1]["sku"] == "TEA-1"
    assert len(p.bad) == 1, p.bad
    bad = p.bad[0]
    assert bad["row"] == 3  # the header is row 1, the good row 2
    lookup(bad["code"])  # every row code is a registered code
    return bad


def test_a_good_csv_row_in_master_form() -> None:
    p = parse((HEADER + GOOD).encode())
    assert p.bad == [] and p.rows == 1
    row = p.good[0][1]
    assert row["names"] == {"en": "Green tea", "zh": "绿茶"}
    assert row["price"] == 1250 and isinstance(row["price"], int)
    assert row["barcodes"] == ["4006381333931"] and row["category"] == "Drinks/Tea"
    master = to_master(row)
    assert "tax_class" not in master and "supplier_code" not in master
    assert row["supplier_code"] == "SUP-9"  # kept in the feed's staging and reports


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        (",4006381333931,Tea,,,,,100,,,\n", "sku", "feed.missing"),
        ("A B,,Tea,,,,,100,,,\n", "sku", "feed.bad_sku"),
        ("T2,4006381333932,Tea,,,,,100,,,\n", "barcodes", "feed.bad_barcode"),
        ("T2,12345,Tea,,,,,100,,,\n", "barcodes", "feed.bad_barcode"),
        ("T2,,,,,,,100,,,\n", "name_en", "feed.missing"),
        ("T2,,Tea,,,,,12.50,,,\n", "price", "feed.bad_price"),
        ("T2,,Tea,,,,,-5,,,\n", "price", "feed.bad_price"),
        ("T2,,Tea,,,,,,,,\n", "price", "feed.missing"),
        ("T2,,Tea,,,,,100,box,,\n", "unit", "feed.bad_unit"),
        ("T2,,Tea,,,,Drinks//Tea,100,,,\n", "category", "feed.bad_category"),
        ("T2,,Tea,,,,,100,,pics/tea.png,\n", "image", "feed.bad_image"),
        ("TEA-1,,Tea again,,,,,100,,,\n", "sku", "feed.duplicate"),
        ("T2,4006381333931,Tea,,,,,100,,,\n", "barcodes", "feed.duplicate"),
        ("T2,,Tea,,,,,100\n", "", "feed.bad_row"),
    ],
)
def test_each_bad_field_is_reported_on_its_row(line: str, field: str, code: str) -> None:
    bad = _one_bad(line)
    assert (bad["field"], bad["code"]) == (field, code), bad
    assert bad["message"]


def test_json_array_and_json_lines() -> None:
    rows = [
        {"sku": "A", "names": {"en": "Apple", "th": "แอปเปิล"}, "price": 300, "unit": "kg"},
        {"sku": "B", "name_en": "Bean", "price": "120", "barcodes": ["96385074"]},
        {"sku": "C", "name_en": "Cake", "price": 1.5},
        {"sku": "D", "name_en": "Dates", "price": 100, "tax_class": "zero"},
        {"sku": "E", "name_en": "Eggs", "price": 100, "colour": "white"},
    ]
    for data in (orjson.dumps(rows), b"\n".join(orjson.dumps(r) for r in rows) + b"\nnot json\n"):
        p = parse(data)
        assert [r["sku"] for _, r in p.good] == ["A", "B"]
        assert p.good[0][1]["names"] == {"en": "Apple", "th": "แอปเปิล"}
        assert p.good[1][1]["price"] == 120
        bad = [(b["row"], b["field"], b["code"]) for b in p.bad]
        assert bad[:3] == [
            (3, "price", "feed.bad_price"),
            (4, "tax_class", "feed.refused_field"),  # HQ decides the tax class
            (5, "colour", "feed.unknown_field"),
        ]
    assert parse(b"\n".join(orjson.dumps(r) for r in rows) + b"\nnot json\n").bad[3]["row"] == 6


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xff\xfesku,price\n", "UTF-8"),
        (b"name,price\nTea,100\n", "sku"),
        (b"sku,name_en,price,colour\nA,B,1,red\n", "colour"),
        (b'{"sku": "A"', ""),
        (b'[{"sku": "A"}', "JSON"),
        (b'"text"', "sku"),
    ],
)
def test_a_file_that_is_not_the_format_at_all(data: bytes, needle: str) -> None:
    from domain.errors import InvalidInput

    try:
        p = parse(data)
    except InvalidInput as exc:
        assert exc.code == "feed.bad_file" and needle in exc.message
        return
    assert p.good == [] and p.bad  # JSON lines: the broken line is a bad row


def test_diff_new_changed_unchanged_and_merge_keeps_hq_fields() -> None:
    staged = [
        parse((HEADER + GOOD).encode()).good[0][1],
        {**parse((HEADER + GOOD).encode()).good[0][1], "sku": "TEA-2", "barcodes": []},
        {**parse((HEADER + GOOD).encode()).good[0][1], "sku": "NEW", "barcodes": []},
    ]
    current = {
        "TEA-1": {**to_master(staged[0]), "tax_class": "reduced"},
        "TEA-2": {
            **to_master(staged[1]),
            "price": 1100,
            "names": {"en": "Green tea", "ar": "شاي"},
        },
    }
    d = diff(staged, current)
    assert [r["sku"] for r in d["new"]] == ["NEW"]
    assert d["unchanged"] == ["TEA-1"]
    assert d["changed"] == [
        {
            "sku": "TEA-2",
            "fields": {
                "names": [
                    {"en": "Green tea", "ar": "شاي"},
                    {"en": "Green tea", "ar": "شاي", "zh": "绿茶"},
                ],
                "price": [1100, 1250],
            },
        }
    ]
    m = merged(staged[0], current["TEA-1"], "std")
    assert m["tax_class"] == "reduced"  # an existing product keeps HQ's tax class
    assert merged(staged[2], None, "std")["tax_class"] == "std"
    assert merged(staged[1], current["TEA-2"], "std")["names"]["ar"] == "شاي"
