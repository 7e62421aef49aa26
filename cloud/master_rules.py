"""What HQ's master data accepts: a product in HQ's form, a scheduled price, a store profile.

Every check raises ``InvalidInput`` with a registered code (``product.*`` for what the store's own
product rules refuse, ``master.*`` for HQ's) and ``field`` in the details when one field is wrong.

A product in HQ's form (``PUT /v1/hq/products/{sku}``, an import row,
``MasterData.upsert_products``)::

    {"sku": "A1", "names": {"en": "Cola", "th": "โคล่า"}, "price": 1500,   # minor units, an int
     "brand": "", "spec": "330 ml can", "category": "Drinks/Soft drinks", "tags": ["cold"],
     "tax_class": "std", "unit": "each" | "kg", "plu": "", "barcodes": ["8850999220017"],
     "image": "", "sellable": true, "favourite": false, "low_stock": 0, "merge": null}
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.catalogue import normalise, product_from_dict
from domain.error_codes import Input, Product
from domain.error_codes.hqmaster import Master
from domain.errors import InvalidInput
from domain.money import CEILING, TaxClass, precision

__all__ = [
    "FIELDS",
    "STORE_FIELDS",
    "DEFAULT_STORE_FIELDS",
    "check_product",
    "check_price",
    "check_group",
    "check_profile",
    "check_store_fields",
    "check_templates",
    "search_text",
]

FIELDS = (
    "sku",
    "names",
    "price",
    "brand",
    "spec",
    "category",
    "tags",
    "tax_class",
    "unit",
    "plu",
    "barcodes",
    "image",
    "sellable",
    "favourite",
    "low_stock",
    "merge",
)
# product fields HQ may let a store keep its own value of
STORE_FIELDS = ("favourite", "low_stock", "image", "price")
DEFAULT_STORE_FIELDS = ["favourite", "low_stock", "image"]
_LANG = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_STORE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _bad(field: str, message: str, code: str = Input.BAD_FIELD) -> InvalidInput:
    return InvalidInput(code, message, field=field)


def _text(d: dict[str, Any], key: str, limit: int = 200) -> str:
    value = d.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(key, f"{key} is text of at most {limit} characters")
    return value.strip()


def _flag(d: dict[str, Any], key: str, default: bool) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise _bad(key, f"{key} is true or false")
    return value


def _category(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 300:
        raise _bad("category", "a category path is text", Master.BAD_CATEGORY)
    parts = [p.strip() for p in value.split("/")]
    if any(not p or len(p) > 60 for p in parts) or len(parts) > 6:
        raise _bad("category", f"category {value!r}: 1 to 6 names joined by /", Master.BAD_CATEGORY)
    return "/".join(parts)


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [t for t in re.split(r"[;,]", value)]
    if not isinstance(value, list) or len(value) > 20:
        raise _bad("tags", "tags are a list of at most 20 words")
    out: list[str] = []
    for t in value:
        if not isinstance(t, str) or len(t.strip()) > 40:
            raise _bad("tags", "a tag is text of at most 40 characters")
        if t.strip() and t.strip() not in out:
            out.append(t.strip())
    return out


def check_product(d: Any) -> dict[str, Any]:
    """``d`` in HQ's form, checked and normalised (raises ``InvalidInput``)."""
    if not isinstance(d, dict):
        raise InvalidInput(Input.NOT_OBJECT, "a product is a JSON object")
    unknown = sorted(set(d) - set(FIELDS))
    if unknown:
        raise _bad(unknown[0], f"unknown product field {unknown[0]!r}")
    sku = d.get("sku")
    if not isinstance(sku, str) or not sku.strip() or len(sku.strip()) > 64:
        raise _bad("sku", "a SKU has 1 to 64 characters", Product.BAD_SKU)
    names = d.get("names")
    if not isinstance(names, dict):
        raise _bad("names", "names is an object of language: name", Product.NO_NAME)
    clean_names: dict[str, str] = {}
    for lang, name in names.items():
        if not isinstance(lang, str) or not _LANG.match(lang):
            raise _bad("names", f"{lang!r} is not a language code such as en or zh_TW")
        if not isinstance(name, str) or len(name) > 200:
            raise _bad("names", "a name is text of at most 200 characters")
        if name.strip():
            clean_names[lang] = name.strip()
    price = d.get("price")
    if isinstance(price, bool) or not isinstance(price, int) or price < 0:
        raise _bad(
            "price", "the price is a whole number of minor units (1250 = 12.50)", Product.BAD_PRICE
        )
    low = d.get("low_stock", 0)
    if isinstance(low, bool) or not isinstance(low, int) or abs(low) > CEILING:
        raise _bad("low_stock", "low_stock is a whole number", Product.BAD_LOW_STOCK)
    barcodes = d.get("barcodes") or []
    if not isinstance(barcodes, list) or not all(isinstance(b, str) for b in barcodes):
        raise _bad("barcodes", "barcodes is a list of texts", Product.BAD_BARCODE)
    tax = d.get("tax_class") or "std"
    if not isinstance(tax, str) or not _CODE.match(tax):
        raise _bad("tax_class", "a tax class is 1 to 40 letters, digits, - or _")
    merge = d.get("merge")
    if merge is not None and not isinstance(merge, bool):
        raise _bad("merge", "merge is true, false or null")
    unit = d.get("unit") or "each"
    form = {
        "sku": sku.strip(),
        "names": clean_names,
        "price": price,
        "brand": _text(d, "brand"),
        "spec": _text(d, "spec"),
        "category": _category(d.get("category")),
        "tags": _tags(d.get("tags")),
        "tax_class": tax,
        "unit": unit,
        "plu": _text(d, "plu", 20),
        "barcodes": list(dict.fromkeys(b.strip() for b in barcodes if b.strip())),
        "image": _text(d, "image"),
        "sellable": _flag(d, "sellable", True),
        "favourite": _flag(d, "favourite", False),
        "low_stock": low,
        "merge": merge,
    }
    # the store's own rules: names, price bounds, unit, EAN/UPC check digits, PLU, image
    product_from_dict(form)
    return form


def search_text(form: dict[str, Any]) -> str:
    """What a product is found by: SKU, barcodes, names in every language, brand, tags."""
    parts = [form["sku"], *form["barcodes"], *form["names"].values(), form["brand"], *form["tags"]]
    return "\n".join(normalise(p) for p in parts if p)


def check_group(group: Any) -> str:
    if not isinstance(group, str) or not (group == "*" or _CODE.match(group)):
        raise _bad(
            "group", "a store group is 1 to 40 letters, digits, - or _ (or *)", Master.BAD_GROUP
        )
    return group


def check_price(d: Any) -> dict[str, Any]:
    """A scheduled price ``{sku, group, price, from_us}`` (group ``*``: every group)."""
    if not isinstance(d, dict):
        raise InvalidInput(Input.NOT_OBJECT, "a price change is a JSON object")
    sku, price, from_us = d.get("sku"), d.get("price"), d.get("from_us")
    if not isinstance(sku, str) or not sku:
        raise _bad("sku", "which product: its SKU", Product.BAD_SKU)
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= CEILING:
        raise _bad(
            "price", "the price is a whole number of minor units (1250 = 12.50)", Product.BAD_PRICE
        )
    if isinstance(from_us, bool) or not isinstance(from_us, int) or not 0 <= from_us < 2**62:
        raise _bad("from_us", "from_us is UTC microseconds since 1970", Master.BAD_TIME)
    return {
        "sku": sku,
        "group": check_group(d.get("group", "default")),
        "price": price,
        "from_us": from_us,
    }


def _minute(text: Any, field: str) -> int:
    m = _HHMM.match(text) if isinstance(text, str) else None
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise _bad(field, f"{field} is HH:MM", Master.BAD_PROFILE)
    return int(m.group(1)) * 60 + int(m.group(2))


def check_profile(d: Any, store: str | None = None) -> dict[str, Any]:
    """A store profile ``{id, name, zone, currency, locale, tax_classes, tills, opening_hours,
    group}``; ``opening_hours`` is ``{"open": "08:00", "close": "22:00"}`` (store-local)."""
    if not isinstance(d, dict):
        raise InvalidInput(Input.NOT_OBJECT, "a store profile is a JSON object")
    sid = d.get("id", store)
    if store is not None and sid != store:
        raise _bad("id", "the profile's id is not the store in the address", Master.BAD_PROFILE)
    if not isinstance(sid, str) or not _STORE.match(sid):
        raise _bad("id", "a store id is 1 to 32 letters, digits, - or _", Master.BAD_PROFILE)
    zone = d.get("zone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("zone", f"unknown time zone {zone!r}", Master.BAD_PROFILE) from None
    currency = d.get("currency", "THB")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise _bad("currency", "a currency is 3 capital letters, e.g. THB", Master.BAD_PROFILE)
    precision(currency)
    taxes = d.get("tax_classes", {"std": 700, "zero": 0})
    if not isinstance(taxes, dict) or not taxes:
        raise _bad("tax_classes", "tax classes are {class: basis points}", Master.BAD_PROFILE)
    for code, rate in taxes.items():
        if not _CODE.match(str(code)):
            raise _bad("tax_classes", f"bad tax class {code!r}", Master.BAD_PROFILE)
        TaxClass(code, rate)
    tills = d.get("tills", 1)
    if isinstance(tills, bool) or not isinstance(tills, int) or not 1 <= tills <= 500:
        raise _bad("tills", "tills is a number from 1 to 500", Master.BAD_PROFILE)
    hours = d.get("opening_hours") or {"open": "08:00", "close": "22:00"}
    if not isinstance(hours, dict):
        raise _bad("opening_hours", "opening_hours is {open, close}", Master.BAD_PROFILE)
    if not _minute(hours.get("open"), "open") < _minute(hours.get("close"), "close"):
        raise _bad("opening_hours", "the store opens before it closes", Master.BAD_PROFILE)
    locale = d.get("locale", "en_US")
    if not isinstance(locale, str) or not _LANG.match(locale):
        raise _bad("locale", "a locale looks like th_TH", Master.BAD_PROFILE)
    return {
        "id": sid,
        "name": _text(d, "name") or sid,
        "zone": str(zone),
        "currency": currency,
        "locale": locale,
        "tax_classes": {str(k): v for k, v in taxes.items()},
        "tills": tills,
        "opening_hours": {"open": hours["open"], "close": hours["close"]},
        "group": check_group(d.get("group", "default")),
    }


def check_store_fields(fields: Any) -> list[str]:
    if not isinstance(fields, list) or any(f not in STORE_FIELDS for f in fields):
        raise InvalidInput(
            Master.BAD_STORE_FIELD, f"store fields are some of {', '.join(STORE_FIELDS)}"
        )
    return sorted(set(fields))


def check_templates(doc: Any) -> dict[str, Any]:
    """Staff and role templates: ``{"roles": {role: [permission, ...]}, "staff": [{"id", "name",
    "role", "lang"}]}`` (no PINs: a new store sets them)."""
    if not isinstance(doc, dict) or set(doc) - {"roles", "staff"}:
        raise InvalidInput(Master.BAD_TEMPLATE, "templates are {roles, staff}")
    roles = doc.get("roles") or {}
    staff = doc.get("staff") or []
    if not isinstance(roles, dict) or not isinstance(staff, list):
        raise InvalidInput(Master.BAD_TEMPLATE, "roles is an object, staff a list")
    for role, perms in roles.items():
        if not _CODE.match(str(role)) or not isinstance(perms, list):
            raise InvalidInput(Master.BAD_TEMPLATE, f"role {role!r}: a list of permissions")
        if not all(isinstance(p, str) and _CODE.match(p.replace(".", "_")) for p in perms):
            raise InvalidInput(Master.BAD_TEMPLATE, f"role {role!r}: bad permission")
    for i, person in enumerate(staff):
        if not isinstance(person, dict) or set(person) - {"id", "name", "role", "lang"}:
            raise InvalidInput(Master.BAD_TEMPLATE, f"staff {i + 1}: id, name, role, lang")
        if person.get("role") not in roles:
            raise InvalidInput(Master.BAD_TEMPLATE, f"staff {i + 1}: role not in the templates")
    return {"roles": roles, "staff": staff}
