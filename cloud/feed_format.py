"""The product feed's file format (``docs/feed-format.md``): parse, validate row by row, diff.

Pure: no sockets, no SQLite, no aiohttp. A feed file is CSV (UTF-8, header names fixed) or JSON (an
array of objects, or JSON lines: one object a line). Every row is checked on its own; a bad row is
reported as ``{row, field, code, message}`` and goes no further, the good rows are returned in the
form HQ's master data takes (``to_master``).

Row numbers: CSV counts the header as row 1 (as a spreadsheet shows it), so the first product is
row 2; JSON counts objects from 1 (an array's first element, or the first non-blank line).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.catalogue import validate_barcode
from domain.error_codes.feed import FeedRow
from domain.errors import InvalidInput

__all__ = [
    "FIELDS",
    "FEED_SETS",
    "REFUSED_FIELDS",
    "MAX_PRICE",
    "Parsed",
    "parse",
    "validate_row",
    "to_master",
    "merged",
    "diff",
]

# the columns a CSV header may hold (plus any ``name_<lang>``); JSON objects use the same keys
FIELDS = (
    "sku",
    "barcodes",
    "brand",
    "spec",
    "category",
    "price",
    "unit",
    "image",
    "image_url",
    "supplier_code",
)
# fields the feed sets in master data (and the diff compares); everything else stays HQ's
FEED_SETS = ("names", "barcodes", "brand", "spec", "category", "price", "unit", "image")
# fields a feed must never send: the tax class is a legal decision HQ makes per country, and the
# rest are the store's or HQ's own settings. A row carrying one is a bad row, not silently cut.
REFUSED_FIELDS = (
    "tax_class",
    "sellable",
    "favourite",
    "low_stock",
    "plu",
    "merge",
    "source",
    "tags",
)
MAX_PRICE = 100_000_000_00  # minor units; far above any real shelf price
MAX_TEXT = 200
MAX_CATEGORY_DEPTH = 6
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")


def _bad(code: FeedRow, field_name: str, message: str) -> InvalidInput:
    return InvalidInput(code, message, field=field_name)


@dataclass
class Parsed:
    """What one feed file holds: good rows (master form, with their row numbers) and bad rows."""

    good: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    bad: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "good": len(self.good),
            "bad": len(self.bad),
            "bad_rows": self.bad,
        }


def _sniff(data: bytes, kind: str) -> str:
    if kind in ("csv", "json", "jsonl"):
        return kind
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head == b"[" else "jsonl" if head == b"{" else "csv"


def _records(data: bytes, kind: str) -> list[tuple[int, Any]]:
    """(row number, raw record) pairs; raises ``InvalidInput(feed.bad_file)`` for a file that is not
    the format at all (not UTF-8, no header, JSON that does not parse)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(FeedRow.BAD_FILE, f"not UTF-8 (byte {exc.start})") from None
    kind = _sniff(data, kind)
    if kind == "json":
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(FeedRow.BAD_FILE, f"not JSON: {exc}") from None
        if not isinstance(doc, list):
            raise InvalidInput(FeedRow.BAD_FILE, "a JSON feed is an array of objects")
        return [(i, rec) for i, rec in enumerate(doc, 1)]
    if kind == "jsonl":
        out: list[tuple[int, Any]] = []
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append((i, orjson.loads(line)))
            except orjson.JSONDecodeError:
                out.append((i, None))  # reported as a bad row, the others still count
        return out
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or "sku" not in [h.strip() for h in header]:
        raise InvalidInput(FeedRow.BAD_FILE, "the CSV header has no 'sku' column")
    names = [h.strip() for h in header]
    unknown = [h for h in names if h not in FIELDS and not h.startswith("name_")]
    unknown = [h for h in unknown if h not in REFUSED_FIELDS]
    if unknown:
        raise InvalidInput(FeedRow.BAD_FILE, f"unknown columns: {', '.join(unknown)}")
    rows: list[tuple[int, Any]] = []
    for i, values in enumerate(reader, 2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            rows.append((i, f"{len(values)} values for {len(names)} columns"))
            continue
        rows.append((i, {k: v for k, v in zip(names, values, strict=True) if v.strip() != ""}))
    return rows


def _text(rec: dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    value = rec.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(FeedRow.BAD_TEXT, key, "text expected")
    value = value.strip()
    if len(value) > limit:
        raise _bad(FeedRow.BAD_TEXT, key, f"longer than {limit} characters")
    return value


def _names(rec: dict[str, Any]) -> dict[str, str]:
    names: dict[str, Any] = {}
    given = rec.get("names")
    if given is not None:
        if not isinstance(given, dict):
            raise _bad(FeedRow.BAD_NAME, "names", "names is an object of language: name")
        names.update(given)
    for key, value in rec.items():
        if key.startswith("name_"):
            names[key[5:]] = value
    out: dict[str, str] = {}
    for lang, value in names.items():
        if not _LANG.match(lang):
            raise _bad(FeedRow.BAD_NAME, f"name_{lang}", "a language code like en, zh or pt_BR")
        text = _text({"n": value}, "n")
        if text:
            out[lang] = text
    if not out:
        raise _bad(FeedRow.MISSING, "name_en", "a product needs a name in one language at least")
    return out


def _price(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad(FeedRow.BAD_PRICE, "price", "a whole number of minor units (cents), e.g. 1250")
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise _bad(
            FeedRow.BAD_PRICE, "price", f"{text!r}: a whole number of minor units, e.g. 1250"
        )
    price = int(text)
    if price > MAX_PRICE:
        raise _bad(FeedRow.BAD_PRICE, "price", f"larger than {MAX_PRICE}")
    return price


def _barcodes(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else re.split(r"[|;\s]+", str(value).strip())
    out: list[str] = []
    for item in items:
        code = str(item).strip()
        if not code:
            continue
        try:
            validate_barcode(code)
        except InvalidInput as exc:
            raise _bad(FeedRow.BAD_BARCODE, "barcodes", exc.message) from None
        if code not in out:
            out.append(code)
    return out


def _category(value: str) -> str:
    if not value:
        return ""
    parts = [p.strip() for p in re.split(r"\s*[/>]\s*", value)]
    if any(not p for p in parts) or len(parts) > MAX_CATEGORY_DEPTH:
        raise _bad(
            FeedRow.BAD_CATEGORY,
            "category",
            f"a path like Drinks/Tea, at most {MAX_CATEGORY_DEPTH} levels",
        )
    return "/".join(parts)


def _image(rec: dict[str, Any]) -> tuple[str, str]:
    image, url = _text(rec, "image"), _text(rec, "image_url", 2000)
    if image and not _FILE_NAME.match(image):
        raise _bad(FeedRow.BAD_IMAGE, "image", "a file name, without folders")
    if url:
        if not re.match(r"^https?://[^\s/]+/\S*$", url):
            raise _bad(FeedRow.BAD_IMAGE, "image_url", "an http(s) address")
        if not image:
            image = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0][:200]
    return image, url


def validate_row(rec: Any) -> dict[str, Any]:
    """One raw record → the product in the feed's form; raises ``InvalidInput`` whose ``field``
    detail names the field at fault."""
    if isinstance(rec, str):
        raise _bad(FeedRow.BAD_ROW, "", rec)
    if not isinstance(rec, dict):
        raise _bad(FeedRow.BAD_ROW, "", "a row is an object of field: value")
    for key in REFUSED_FIELDS:
        if key in rec:
            raise _bad(FeedRow.REFUSED_FIELD, key, f"a feed may not set {key}; HQ decides it")
    unknown = [k for k in rec if k not in FIELDS and k != "names" and not k.startswith("name_")]
    if unknown:
        raise _bad(FeedRow.UNKNOWN_FIELD, unknown[0], "not a field of the feed format")
    sku = rec.get("sku")
    if sku is None or (isinstance(sku, str) and not sku.strip()):
        raise _bad(FeedRow.MISSING, "sku", "every row needs a SKU")
    sku = str(sku).strip()
    if not _SKU.match(sku):
        raise _bad(FeedRow.BAD_SKU, "sku", "1 to 64 letters, digits, '.', '_', '-' or '/'")
    if rec.get("price") in (None, ""):
        raise _bad(FeedRow.MISSING, "price", "every row needs a price")
    unit = _text(rec, "unit")
    if unit not in ("", "each", "kg"):
        raise _bad(FeedRow.BAD_UNIT, "unit", "each or kg")
    image, url = _image(rec)
    row: dict[str, Any] = {
        "sku": sku,
        "names": _names(rec),
        "price": _price(rec["price"]),
        "barcodes": _barcodes(rec.get("barcodes")),
        "brand": _text(rec, "brand"),
        "spec": _text(rec, "spec"),
        "category": _category(_text(rec, "category")),
        "unit": unit,
        "image": image,
        "image_url": url,
        "supplier_code": _text(rec, "supplier_code", 64),
    }
    # a field left empty is not given: the feed sets only what it sends (a price-only file
    # changes prices and nothing else)
    return {k: v for k, v in row.items() if v or k in ("sku", "names", "price")}


def parse(data: bytes, kind: str = "") -> Parsed:
    """Every row of a feed file, checked. ``kind`` is csv, json or jsonl (guessed when empty).
    A SKU or a barcode already on an earlier row of the same file makes a bad row."""
    out = Parsed()
    seen_sku: dict[str, int] = {}
    seen_code: dict[str, str] = {}
    for number, rec in _records(data, kind):
        out.rows += 1
        try:
            row = validate_row(rec)
            first = seen_sku.get(row["sku"])
            if first is not None:
                raise _bad(FeedRow.DUPLICATE, "sku", f"the same SKU is on row {first}")
            for code in row.get("barcodes", ()):
                other = seen_code.get(code)
                if other is not None:
                    raise _bad(FeedRow.DUPLICATE, "barcodes", f"{code} belongs to SKU {other}")
        except InvalidInput as exc:
            out.bad.append(
                {
                    "row": number,
                    "field": str(exc.details.get("field", "")),
                    "code": exc.code,
                    "message": exc.message,
                }
            )
            continue
        seen_sku[row["sku"]] = number
        for code in row.get("barcodes", ()):
            seen_code[code] = row["sku"]
        out.good.append((number, row))
    return out


def to_master(row: dict[str, Any]) -> dict[str, Any]:
    """The feed row as master data takes it: only the fields a feed may set (``FEED_SETS``); the
    tax class and the store's settings are left to HQ, the supplier's code stays in the feed's
    staging and reports."""
    return {k: row[k] for k in ("sku", *FEED_SETS) if k in row}


def merged(row: dict[str, Any], current: dict[str, Any] | None, tax_class: str) -> dict[str, Any]:
    """The product master data should hold after the feed row: the current product with the
    feed's fields laid over it (names per language added, never removed); a new product takes the
    feed's default ``tax_class``."""
    feed = to_master(row)
    current = {k: v for k, v in (current or {}).items() if k not in _NOT_PRODUCT} or None
    if current is None:
        return {"unit": "each", "barcodes": [], **feed, "tax_class": tax_class}
    return {**current, **feed, "names": {**(current.get("names") or {}), **feed["names"]}}


_NOT_PRODUCT = ("source", "version", "updated_us", "updated_by")  # master's bookkeeping


def _comparable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    return "" if value is None else value


def diff(staged: list[dict[str, Any]], current: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Staged feed rows against master data's products (by SKU): new products, changed fields
    (``{field: [old, new]}``, only the fields a feed sets) and the SKUs that would not change."""
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    unchanged: list[str] = []
    for row in staged:
        have = current.get(row["sku"])
        if have is None:
            new.append(row)
            continue
        fields = {}
        for name in (f for f in FEED_SETS if f in row):
            old, value = _comparable(have.get(name)), _comparable(row.get(name))
            if name == "names":
                old = dict(have.get("names") or {})
                value = {**old, **row["names"]}  # the feed adds languages, never removes them
            if old != value:
                fields[name] = [old, value]
        if fields:
            changed.append({"sku": row["sku"], "fields": fields})
        else:
            unchanged.append(row["sku"])
    return {"new": new, "changed": changed, "unchanged": unchanged}
