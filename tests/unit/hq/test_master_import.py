"""HQ's product files (``cloud.master_io``): every bad row with its number, code and message;
all or nothing; XLSX number cells; a dry run; what an export holds."""

from __future__ import annotations

import polars as pl
import pytest

from cloud.master import MasterData
from cloud.master_io import import_file, read_table, to_csv, to_xlsx
from domain.catalogue import ean_check_digit
from domain.errors import InvalidInput
from domain.ports import ManualClock


def ean(n: int) -> str:
    body = f"885{n:09d}"
    return body + ean_check_digit(body)


@pytest.fixture
def md(tmp_path):
    m = MasterData(tmp_path / "hq", ManualClock())
    yield m
    m.close()


def bad_rows(md, text: str, fmt: str = "csv") -> list[tuple[int, str]]:
    with pytest.raises(InvalidInput) as err:
        import_file(md, text.encode() if isinstance(text, str) else text, fmt, "ann")
    assert err.value.code == "import.bad_rows"
    assert err.value.details["bad_rows"] == len(err.value.details["rows"])
    return [(r["row"], r["code"]) for r in err.value.details["rows"]]


def test_every_bad_row_is_reported_by_its_row_in_the_file(md):
    text = (
        "SKU,Name_EN,price,barcodes,sellable,low_stock,category,tags\n"
        "A1,Cola,1500,,1,0,Drinks,\n"  # row 2: good
        "A2,Water,7.00,,1,0,,\n"  # a price with a decimal point
        "A3,Juice,900,1234,1,0,,\n"  # a barcode of 4 digits
        "\n"  # row 5: blank, skipped but counted
        "A6,,900,,1,0,,\n"  # no name
        "A7,Tea,900,,maybe,0,,\n"  # sellable neither yes nor no
        "A8,Tea,900,,1,1.5,,\n"  # low stock not whole
        "A9,Tea,900,,1,0,Drinks//Tea,\n"  # an empty category level
        f"B1,Tea,900,{ean(5)},1,0,,\n"
        f"B2,Tea,900,{ean(5)},1,0,,\n"  # B1's barcode
        "A1,Cola,1500,,1,0,,\n"  # A1 again
    )
    assert bad_rows(md, text) == [
        (3, "product.bad_price"),
        (4, "product.bad_barcode"),
        (6, "product.no_name"),
        (7, "input.bad_field"),
        (8, "product.bad_low_stock"),
        (9, "master.bad_category"),
        (11, "master.barcode_taken"),
        (12, "import.duplicate_sku"),
    ]
    assert md.version() == 0 and md.products()[1] == 0


def test_a_dry_run_reports_and_writes_nothing(md):
    res = import_file(md, b"sku,name_en,price\nA1,Cola,1500\n", "csv", "ann", dry_run=True)
    assert (res["count"], res["added"], res["dry_run"], md.version()) == (1, 1, True, 0)
    assert md.audit_log() == []
    res = import_file(md, b"sku,name_en,price\nA1,Cola,1500\n", "csv", "ann")
    assert (res["count"], res["version"]) == (1, 1)
    assert [a["what"] for a in md.audit_log()] == ["products.upsert", "products.import"]


def test_xlsx_rows_read_like_csv_rows_and_numbers_stay_whole(md, tmp_path):
    md.upsert_products(
        [
            {
                "sku": "A1",
                "names": {"en": "Cola", "ar": "كولا"},
                "price": 1500,
                "barcodes": [ean(1)],
                "tags": ["cold", "fizzy"],
                "favourite": True,
                "category": "Drinks/Soft drinks",
            }
        ],
        "ann",
    )
    rows, _ = md.products()
    x = to_xlsx(rows)
    path = tmp_path / "p.xlsx"
    path.write_bytes(x)
    df = pl.read_excel(path)
    assert df.columns[:3] == ["sku", "name_en", "name_ar"]
    assert read_table(x, "xlsx") == read_table(to_csv(rows), "csv")
    assert read_table(x, "xlsx")[0]["barcodes"] == ean(1)
    res = import_file(md, x, "xlsx", "ann", dry_run=True)
    assert (res["count"], res["unchanged"]) == (0, 1)


def test_an_unreadable_or_empty_file_is_refused(md):
    with pytest.raises(InvalidInput) as err:
        import_file(md, b"PK\x03\x04 not really", "xlsx", "ann")
    assert err.value.code == "import.bad_file"
    with pytest.raises(InvalidInput) as err:
        import_file(md, b"sku,name_en,price\n", "csv", "ann")
    assert err.value.code == "import.no_rows"
