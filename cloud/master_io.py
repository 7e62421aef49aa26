"""HQ's product files: import and export as CSV (UTF-8) or XLSX.

One row per product, header names case-insensitive, in any order::

    sku, name_en, name_zh, name_th, name_ar (any name_<language>), price, brand, spec, category,
    tags, tax_class, unit, plu, barcodes, image, sellable, favourite, low_stock

``price`` is a whole number of minor units (``1250`` for 12.50: no currency, no decimal point);
``category`` a path (``Drinks/Soft drinks``); ``tags`` and ``barcodes`` are separated by ``;``
(barcodes also by ``|``, ``,`` or spaces); ``sellable`` / ``favourite`` are 1/0, yes/no or
true/false (empty: sellable yes, favourite no); ``unit`` is ``each`` or ``kg``. The first data row
is row 2 (the header is row 1). An import is all or nothing: every bad row is reported with its
row number, code and message, and a file with one bad row changes nothing. ``dry_run`` checks the
whole file and writes nothing.
"""

from __future__ import annotations

import io
import re
from typing import Any

from cloud.master_rules import FIELDS
from domain.error_codes import Input, Product
from domain.error_codes.hqmaster import ImportFile
from domain.errors import InvalidInput, KassaError

__all__ = ["read_table", "rows_from_table", "import_file", "export_rows", "to_csv", "to_xlsx"]

# the file's columns: every product field but the names (one name_<lang> column each) and merge
COLUMNS = tuple(f for f in FIELDS if f not in ("names", "merge"))
FORMATS = ("csv", "xlsx")
_TRUE, _FALSE = ("1", "yes", "y", "true", "t", "on"), ("0", "no", "n", "false", "f", "off")
_INT = re.compile(r"^-?\d{1,15}$")
_XLSX_INT = re.compile(r"^-?\d{1,15}(\.0)?$")  # an XLSX number cell 1250 reads as "1250.0"


def read_table(data: bytes, fmt: str) -> list[dict[str, str]]:
    """The rows of a CSV or XLSX file as dicts of text (header names lower case)."""
    import polars as pl

    if fmt not in FORMATS:
        raise InvalidInput(Input.BAD_FIELD, "format is csv or xlsx", field="format")
    try:
        if fmt == "xlsx":
            df = pl.read_excel(io.BytesIO(data), engine="calamine", infer_schema_length=0)
        else:
            df = pl.read_csv(io.BytesIO(data), infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # polars and calamine raise many kinds for a file they cannot read
        raise InvalidInput(ImportFile.BAD_FILE, f"cannot read the {fmt} file: {exc}") from None
    df = df.rename({c: str(c).strip().lower() for c in df.columns})
    return [
        {k: "" if v is None else str(v).strip() for k, v in r.items()}
        for r in df.iter_rows(named=True)
    ]


def _int(text: str, field: str, code: str, default: int | None, xlsx: bool) -> int:
    if not text and default is not None:
        return default
    if not (_XLSX_INT if xlsx else _INT).match(text):
        what = "minor units (1250 for 12.50)" if field == "price" else "a whole number"
        raise InvalidInput(code, f"{field} {text!r}: write {what}", field=field)
    return int(text.split(".")[0])


def _flag(text: str, field: str, default: bool) -> bool:
    t = text.lower()
    if not t:
        return default
    if t in _TRUE or t in _FALSE:
        return t in _TRUE
    raise InvalidInput(Input.BAD_FIELD, f"{field} {text!r}: write 1 or 0", field=field)


def _row(r: dict[str, str], xlsx: bool) -> dict[str, Any]:
    names = {k[5:]: v for k, v in r.items() if k.startswith("name_") and v}
    if not names and r.get("name"):
        names = {"en": r["name"]}
    return {
        "sku": r.get("sku", ""),
        "names": names,
        "price": _int(r.get("price", ""), "price", Product.BAD_PRICE, None, xlsx),
        "brand": r.get("brand", ""),
        "spec": r.get("spec", ""),
        "category": r.get("category", ""),
        "tags": [t for t in re.split(r"[;,]", r.get("tags", "")) if t.strip()],
        "tax_class": r.get("tax_class") or "std",
        "unit": (r.get("unit") or "each").lower(),
        "plu": r.get("plu", ""),
        "barcodes": [b for b in re.split(r"[;|,\s]+", r.get("barcodes", "")) if b],
        "image": r.get("image", ""),
        "sellable": _flag(r.get("sellable", ""), "sellable", True),
        "favourite": _flag(r.get("favourite", ""), "favourite", False),
        "low_stock": _int(r.get("low_stock", ""), "low_stock", Product.BAD_LOW_STOCK, 0, xlsx),
    }


def rows_from_table(
    table: list[dict[str, str]], fmt: str = "csv"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows in HQ's form with their ``row`` number, rows refused while reading them)."""
    rows, bad = [], []
    for num, r in enumerate(table, start=2):
        if not any(r.values()):
            continue  # a blank line
        try:
            rows.append({"row": num, **_row(r, fmt == "xlsx")})
        except KassaError as exc:
            bad.append({"row": num, "code": exc.code, "message": exc.message})
    return rows, bad


def import_file(
    master: Any, data: bytes, fmt: str, who: str, dry_run: bool = False
) -> dict[str, Any]:
    """Check a product file and apply it (``MasterData.apply_products``); all or nothing."""
    rows, bad = rows_from_table(read_table(data, fmt), fmt)
    if not rows and not bad:
        raise InvalidInput(ImportFile.NO_ROWS, "the file has no product rows")
    result: dict[str, Any] = master.apply_products(rows, who, dry_run=dry_run, bad_before=bad)
    if not dry_run:
        master.audit(who, "products.import", {"format": fmt, "rows": len(rows), **result})
    return result


def export_rows(products: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of a product file (name columns for every language used, en first)."""
    langs = sorted({lang for p in products for lang in p["names"]}, key=lambda x: (x != "en", x))
    header = ["sku", *(f"name_{lang}" for lang in langs), *COLUMNS[1:]]
    out = []
    for p in products:
        row: dict[str, Any] = {f"name_{lang}": p["names"].get(lang, "") for lang in langs}
        for col in COLUMNS:
            value = p.get(col)
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "1" if value else "0"
            row[col] = "" if value is None else value
        out.append(row)
    return header, out


def to_csv(products: list[dict[str, Any]]) -> bytes:
    import csv

    header, rows = export_rows(products)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def to_xlsx(products: list[dict[str, Any]]) -> bytes:
    import xlsxwriter

    header, rows = export_rows(products)
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf, {"in_memory": True}) as wb:
        ws = wb.add_worksheet("products")
        bold = wb.add_format({"bold": True})
        for c, name in enumerate(header):
            ws.write_string(0, c, name, bold)
        for r, row in enumerate(rows, start=1):
            for c, name in enumerate(header):
                value = row[name]
                if isinstance(value, int):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))  # barcodes keep their leading zeros
        ws.freeze_panes(1, 1)
    return buf.getvalue()
