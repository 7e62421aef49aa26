"""Product import from CSV or XLSX: read, check each row, preview, then send the good rows.

Columns (header names, case-insensitive): ``sku``, ``name_en`` / ``name_zh`` / ``name_th`` /
``name_ar`` (or a single ``name``), ``price`` (in currency units as text, e.g. ``12.50``; parsed
exactly into minor units), ``tax_class``, ``category``, ``barcodes`` (separated by ``;``, ``|`` or
spaces), ``unit`` (``each``/``kg``), ``plu``, ``sellable`` (1/0, yes/no), ``low_stock``. Every row
is checked with the domain's own product rules, and its text (names, category) must not hold a card
number (``domain.pan``); a row with an error is shown with its error and is not sent. A price above
the store's ``limits`` (``GET /v1/config``) is refused on its row (``amount.too_large``).

``row_error_text(row)`` says in the manager's language which row is wrong, what is wrong with it
and what to change in the file (the column to fill, the value that was refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.catalogue import check_product, product_from_dict
from domain.error_codes import Import, Product, Tax
from domain.errors import KassaError
from domain.money import Limits, to_minor
from domain.pan import CODE_FIELDS, refuse_card_numbers_in
from kiosk.i18n import N_, _

__all__ = ["ImportRow", "read_table", "check_rows", "load", "row_error_text"]


@dataclass
class ImportRow:
    row: int  # 1-based data row number as in the file (header is row 1 → data from 2)
    product: dict[str, Any] | None
    error: str = ""
    error_code: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    other_row: int = 0  # the row with the same SKU (import.duplicate_sku)


# what is wrong and what to change in the file, per error code (a code prefix as a fallback)
FIXES: dict[str, str] = {
    Product.BAD_SKU: N_("The sku column is empty or too long. Write a SKU of 1 to 64 characters."),
    Import.DUPLICATE_SKU: N_(
        "SKU {sku} is also on row {other}. Give each product its own SKU or delete one of the rows."
    ),
    Product.BAD_PRICE: N_("The price is missing or below 0. Write a price such as 12.50."),
    "money.too_precise": N_(
        "The price {price} has too many decimals. Write it in the price column like 12.50."
    ),
    "money.": N_(
        "The price {price} is not an amount. Write it in the price column like 12.50, without "
        "a currency."
    ),
    "amount.too_large": N_(
        "The price {price} is more than this store allows. Check the price column."
    ),
    Tax.UNKNOWN_CLASS: N_("Tax class {tax} is not set up in this store. Write one of: {classes}."),
    Product.BAD_LOW_STOCK: N_("Write a whole number in the low_stock column, for example 5."),
    Product.BAD_BARCODE: N_(
        "A barcode in the barcodes column is not valid ({barcodes}). Check its digits."
    ),
    Product.BAD_PLU: N_("The plu column holds 5 digits."),
    Product.BAD_UNIT: N_("Write each or kg in the unit column."),
    Product.NO_NAME: N_("The product has no name. Fill in name_en (or name, name_zh, name_th)."),
    "payment.card_number_refused": N_(
        "A name or the category holds what looks like a card number. Remove it."
    ),
}


def row_error_text(r: ImportRow, tax_classes: dict[str, int] | None = None) -> str:
    """ "Row 5: …" in the manager's language: what is wrong and what to change in the file."""
    if not r.error_code:
        return ""
    fix = FIXES.get(r.error_code) or next(
        (t for k, t in FIXES.items() if k.endswith(".") and r.error_code.startswith(k)), None
    )
    if fix is None:
        from kiosk.errors import error_text

        text = (
            error_text(KassaError(r.error_code, r.error)) + " " + _("Check this row in the file.")
        )
    else:
        text = _(fix).format(
            sku=r.raw.get("sku", ""),
            other=r.other_row,
            price=r.raw.get("price", ""),
            tax=r.raw.get("tax_class", ""),
            classes=", ".join(sorted(tax_classes or {})),
            barcodes=r.raw.get("barcodes", ""),
        )
    return _("Row {row}: {problem}").format(row=r.row, problem=text)


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV or XLSX file as dicts of text (every cell read as a string)."""
    import polars as pl

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        df = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    else:
        df = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    df = df.rename({c: str(c).strip().lower() for c in df.columns})
    return [
        {k: ("" if v is None else str(v).strip()) for k, v in r.items()}
        for r in df.iter_rows(named=True)
    ]


def _bool(text: str) -> bool:
    return text.strip().lower() not in ("0", "no", "n", "false", "f", "off")


def check_rows(
    rows: list[dict[str, Any]],
    currency: str,
    tax_classes: dict[str, int] | None = None,
    limits: Limits | dict | None = None,
) -> list[ImportRow]:
    lim = limits if isinstance(limits, Limits) else Limits.from_dict(limits)
    out: list[ImportRow] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(rows, start=2):
        other = 0
        try:
            sku = r.get("sku", "")
            if not sku:
                raise KassaError(Product.BAD_SKU, "SKU is missing")
            if sku in seen:
                other = seen[sku]
                raise KassaError(Import.DUPLICATE_SKU, f"SKU also on row {seen[sku]}")
            names = {
                lang: r[f"name_{lang}"]
                for lang in ("en", "zh", "th", "ar")
                if r.get(f"name_{lang}")
            }
            if not names and r.get("name"):
                names = {"en": r["name"]}
            price_text = r.get("price", "")
            if not price_text:
                raise KassaError(Product.BAD_PRICE, "price is missing")
            price = to_minor(price_text, currency)
            tax = r.get("tax_class") or "std"
            if tax_classes is not None and tax not in tax_classes:
                raise KassaError(Tax.UNKNOWN_CLASS, f"unknown tax class {tax!r}")
            barcodes = [b for b in re.split(r"[;|,\s]+", r.get("barcodes", "")) if b]
            low = r.get("low_stock") or "0"
            if not low.lstrip("-").isdigit() or len(low) > 14:
                raise KassaError(Product.BAD_LOW_STOCK, "low_stock is a whole number")
            d = {
                "sku": sku,
                "names": names,
                "price": price,
                "tax_class": tax,
                "category": r.get("category", ""),
                "barcodes": barcodes,
                "unit": (r.get("unit") or "each").lower(),
                "plu": r.get("plu", ""),
                "sellable": _bool(r.get("sellable") or "1"),
                "low_stock": int(low),
            }
            # the domain's own checks (names, unit, EAN check digits, PLU, the price's bounds)
            check_product(product_from_dict(d), lim)
            refuse_card_numbers_in(d, "product", CODE_FIELDS)  # names, category: no card number
            seen[sku] = i
            out.append(ImportRow(i, d, raw=r))
        except KassaError as exc:
            out.append(ImportRow(i, None, exc.message, exc.code, raw=r, other_row=other))
    return out


def load(
    path: str | Path,
    currency: str,
    tax_classes: dict[str, int] | None = None,
    limits: Limits | dict | None = None,
) -> list[ImportRow]:
    return check_rows(read_table(path), currency, tax_classes, limits)
