"""Products, barcodes and in-store price/weight-embedded EAN-13 codes.

Embedded barcodes (EAN-13 starting with 2, the range GS1 keeps for in-store use) follow the common
``2P IIIII VVVVV C`` layout: ``P`` the prefix digit, ``IIIII`` the item code (the product's
``plu``), ``VVVVV`` the value and ``C`` the EAN check digit. Prefixes 20–22 carry a price in minor
units, 23–25 a weight in grams, others are plain in-store codes looked up as they are. The table is
configurable per store (``EmbeddedRules``).
"""

from __future__ import annotations

import operator
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from stdnum import ean

from domain.catalogue_index import SearchIndex, scan
from domain.errors import InvalidInput, NotFound
from domain.money import CEILING, DEFAULT_LIMITS, Limits, check_amount

__all__ = [
    "Product",
    "validate_barcode",
    "ean_check_digit",
    "EmbeddedRules",
    "Scan",
    "decode_scan",
    "normalise",
    "product_from_dict",
    "check_product",
    "product_against",
    "normal_dict",
]

Unit = Literal["each", "kg"]


def ean_check_digit(digits: str) -> str:
    """The EAN/UPC check digit for ``digits`` (12 for EAN-13, 7 for EAN-8, 11 for UPC-A)."""
    return ean.calc_check_digit(digits)


def validate_barcode(code: str) -> str:
    """Return ``code`` if it is a valid EAN-13, EAN-8 or UPC-A (12 digits); raise otherwise."""
    code = str(code).strip()
    if len(code) not in (8, 12, 13) or not code.isdigit():
        raise InvalidInput("product.bad_barcode", "a barcode has 8, 12 or 13 digits", barcode=code)
    body = code[:-1]  # the check digit by hand: a 300,000-product import checks every code
    if not code.isascii() or (
        -(3 * sum(map(int, body[-1::-2])) + sum(map(int, body[-2::-2]))) % 10 != int(code[-1])
    ):
        raise InvalidInput("product.bad_barcode", f"check digit wrong in {code}", barcode=code)
    return code


def normalise(text: str) -> str:
    """Case- and width-folded text for searching names in any script."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    names: dict[str, str]
    price: int  # minor units; per kg when unit == "kg"
    tax_class: str = "std"
    category: str = ""
    barcodes: tuple[str, ...] = ()
    unit: Unit = "each"
    plu: str = ""  # 5-digit item code used inside embedded barcodes
    sellable: bool = True
    low_stock: int = 0
    favourite: bool = False  # on the till's item grid first page
    image: str = ""  # a picture's file name in the till's image folder (item grid)
    merge: bool | None = None  # repeat scans add to one line; None: the store's setting

    def __post_init__(self) -> None:
        _check(self)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its fields and rebuilt without checking them again (a copy of a checked
        product: a snapshot of 300,000 products crosses Ray in a fraction of the time)."""
        return _product_of, (
            self.sku, self.names, self.price, self.tax_class, self.category, self.barcodes,
            self.unit, self.plu, self.sellable, self.low_stock, self.favourite, self.image,
            self.merge,
        )  # fmt: skip

    def name(self, lang: str = "en") -> str:
        if lang in self.names:
            return self.names[lang]
        base = lang.split("_")[0].split("-")[0]
        for key, value in self.names.items():
            if key.split("_")[0].split("-")[0] == base:
                return value
        return self.names.get("en") or next(iter(self.names.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "names": dict(self.names),
            "price": self.price,
            "tax_class": self.tax_class,
            "category": self.category,
            "barcodes": list(self.barcodes),
            "unit": self.unit,
            "plu": self.plu,
            "sellable": self.sellable,
            "low_stock": self.low_stock,
            "favourite": self.favourite,
            "image": self.image,
            "merge": self.merge,
        }


_new = object.__new__
_SLOTS = tuple(getattr(Product, f).__set__ for f in Product.__slots__)


_fields_of = operator.attrgetter(*Product.__slots__)  # a product's fields in ``__slots__`` order


def _product_of(*f: Any) -> Product:
    """A product of its fields in ``__slots__`` order, not checked (see ``__reduce__``)."""
    p: Product = _new(Product)
    s = _SLOTS  # written out: 300,000 products are made at an HQ reprice
    s[0](p, f[0]), s[1](p, f[1]), s[2](p, f[2]), s[3](p, f[3]), s[4](p, f[4]), s[5](p, f[5])
    s[6](p, f[6]), s[7](p, f[7]), s[8](p, f[8]), s[9](p, f[9]), s[10](p, f[10])
    s[11](p, f[11]), s[12](p, f[12])
    return p


def _check(p: Product, barcodes: bool = True) -> None:
    """The rules every product obeys (``barcodes``: also each barcode's check digit)."""
    if not p.sku or not isinstance(p.sku, str) or len(p.sku) > 64:
        raise InvalidInput("product.bad_sku", "SKU must be 1–64 characters")
    if isinstance(p.price, bool) or not isinstance(p.price, int) or p.price < 0:
        raise InvalidInput(
            "product.bad_price",
            "price must be a non-negative integer of minor units",
            sku=p.sku,
        )
    if p.price > CEILING:
        raise InvalidInput(
            "amount.too_large",
            "the price is larger than any store allows",
            sku=p.sku,
            field="price",
            limit=CEILING,
        )
    if (
        isinstance(p.low_stock, bool)
        or not isinstance(p.low_stock, int)
        or abs(p.low_stock) > CEILING
    ):
        raise InvalidInput("product.bad_low_stock", "low_stock is a whole number", sku=p.sku)
    if p.unit not in ("each", "kg"):
        raise InvalidInput("product.bad_unit", "unit is 'each' or 'kg'", sku=p.sku)
    if not p.names or not any(str(n).strip() for n in p.names.values()):
        raise InvalidInput("product.no_name", "a product needs a name", sku=p.sku)
    if barcodes:
        for code in p.barcodes:
            validate_barcode(code)
    if p.plu and not (len(p.plu) == 5 and p.plu.isdigit()):
        raise InvalidInput("product.bad_plu", "PLU is 5 digits", sku=p.sku)
    if not isinstance(p.image, str) or len(p.image) > 200 or "/" in p.image:
        raise InvalidInput("input.bad_field", "image is a file name", field="image")


def product_fields(d: dict[str, Any]) -> tuple[Any, ...]:
    """A product dict's fields in ``__slots__`` order, with the conversions a product from a dict
    gets (not checked)."""
    get = d.get
    merge = get("merge")
    return (
        str(d["sku"]), dict(d["names"]), d["price"], get("tax_class", "std"), get("category", ""),
        tuple(get("barcodes", ())), get("unit", "each"), get("plu", ""),
        bool(get("sellable", True)), int(get("low_stock", 0)), get("favourite") is True,
        str(get("image") or ""), None if merge is None else merge is True,
    )  # fmt: skip


def product_from_dict(d: dict[str, Any]) -> Product:
    return Product(*product_fields(d))


def normal_dict(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` as ``Product.to_dict`` writes it (defaults filled in, conversions made), NOT checked:
    for comparing products from different sources; the catalogue checks them when it takes them.
    Raises ``KeyError``/``TypeError``/``ValueError`` for a dict that is not a product at all.
    Written out (not through a ``Product``): HQ's 300,000 products are normalised at an apply."""
    get = d.get
    merge = get("merge")
    return {
        "sku": str(d["sku"]), "names": dict(d["names"]), "price": d["price"],
        "tax_class": get("tax_class", "std"), "category": get("category", ""),
        "barcodes": list(get("barcodes", ())), "unit": get("unit", "each"), "plu": get("plu", ""),
        "sellable": bool(get("sellable", True)), "low_stock": int(get("low_stock", 0)),
        "favourite": get("favourite") is True, "image": str(get("image") or ""),
        "merge": None if merge is None else merge is True,
    }  # fmt: skip


def product_against(d: dict[str, Any], held: dict[str, Product]) -> Product:
    """The product ``d`` describes, checked only where it differs from the one ``held`` under
    its SKU (a checked product): the same product is the held one; one differing only in a valid
    price is not checked again (HQ repricing 300,000 products); one with the same barcodes skips
    their check digits; anything else is checked in full."""
    fields = product_fields(d)
    old, price = held.get(fields[0]), fields[2]
    if old is None or type(price) is not int:
        return Product(*fields)
    if fields == (was := _fields_of(old)):
        return old
    new = _product_of(*fields)
    if fields[3:] == was[3:] and fields[1] == was[1] and 0 <= price <= CEILING:
        return new
    _check(new, barcodes=new.barcodes != old.barcodes)
    return new


def check_product(p: Product, limits: Limits = DEFAULT_LIMITS) -> Product:
    """``p`` if its price is within the store's ``limits`` (``amount.too_large`` otherwise)."""
    check_amount(p.price, limits.max_unit_price, "price")
    return p


@dataclass(frozen=True, slots=True)
class EmbeddedRules:
    """Which ``2x`` prefixes carry a price and which a weight."""

    price_prefixes: tuple[str, ...] = ("20", "21", "22")
    weight_prefixes: tuple[str, ...] = ("23", "24", "25")


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scanned code means: a barcode to look up, or a PLU with an embedded value."""

    code: str
    plu: str = ""
    price: int | None = None
    weight_g: int | None = None
    kind: Literal["barcode", "price", "weight", "sku"] = "barcode"
    extra: dict[str, Any] = field(default_factory=dict)


def decode_scan(code: str, rules: EmbeddedRules = EmbeddedRules()) -> Scan:
    """Interpret a scanned or typed code. Digits of EAN length are check-digit validated."""
    code = str(code).strip()
    if not code:
        raise InvalidInput("scan.empty", "nothing was scanned")
    if not code.isdigit() or len(code) not in (8, 12, 13):
        return Scan(code=code, kind="sku")
    validate_barcode(code)
    if len(code) == 13 and code[0] == "2":
        prefix, plu, value = code[:2], code[2:7], int(code[7:12])
        if prefix in rules.price_prefixes:
            return Scan(code=code, plu=plu, price=value, kind="price")
        if prefix in rules.weight_prefixes:
            if value == 0:
                raise InvalidInput("scan.zero_weight", "embedded weight is zero", barcode=code)
            return Scan(code=code, plu=plu, weight_g=value, kind="weight")
    return Scan(code=code, kind="barcode")


def not_found(code: str) -> NotFound:
    return NotFound("product.not_found", f"no product for {code!r}", code=code)


class CatalogueIndex:
    """Look-ups by barcode, SKU, PLU, and search by name in any of a product's languages.

    The search index (``domain.catalogue_index``) is built at the first search, or ahead of it by
    ``prepare_search`` (the catalogue actor does so off its serving path); a till host, which only
    looks products up, never builds it."""

    def __init__(
        self, products: list[Product] | tuple[Product, ...] = (), version: str = ""
    ) -> None:
        self.version = version
        self.by_sku: dict[str, Product] = {}
        self.by_code: dict[str, str] = {}
        self.by_plu: dict[str, str] = {}
        self._items: list[Product | None] = []  # in search order; None: replaced since
        self._pos: dict[str, int] = {}
        self._search: SearchIndex | None = None
        self._lock = threading.Lock()
        if isinstance(products, list | tuple) and len({p.sku for p in products}) == len(products):
            self._fill(products)
        else:
            for p in products:
                self.put(p)

    def _fill(self, products: list[Product] | tuple[Product, ...]) -> None:
        """A new index of products with distinct SKUs (the common case, in bulk)."""
        self.by_sku = {p.sku: p for p in products}
        self._items = list(products)
        self._pos = {p.sku: i for i, p in enumerate(products)}
        by_code, by_plu = self.by_code, self.by_plu
        for p in products:
            for code in p.barcodes:
                by_code[code] = p.sku
            if p.plu:
                by_plu[p.plu] = p.sku

    def put(self, p: Product) -> None:
        """Add ``p`` or replace the product of its SKU in its place (catalogue order kept). The
        search index stays when the replaced product's SKU, names and barcodes are the same (a
        price change), and is built again at the next search otherwise."""
        old = self.by_sku.get(p.sku)
        if old is None:
            self.by_sku[p.sku] = p
            self._pos[p.sku] = len(self._items)
            self._items.append(p)
            for code in p.barcodes:
                self.by_code[code] = p.sku
            if p.plu:
                self.by_plu[p.plu] = p.sku
            self._search = None
            return
        if old.barcodes != p.barcodes:
            for code in old.barcodes:
                if self.by_code.get(code) == p.sku:
                    del self.by_code[code]
            for code in p.barcodes:
                self.by_code[code] = p.sku
            self._search = None
        if old.plu != p.plu:
            if old.plu and self.by_plu.get(old.plu) == p.sku:
                del self.by_plu[old.plu]
            if p.plu:
                self.by_plu[p.plu] = p.sku
        if old.names != p.names:
            self._search = None
        self.by_sku[p.sku] = p
        self._items[self._pos[p.sku]] = p

    def remove(self, sku: str) -> None:
        old = self.by_sku.pop(sku, None)
        if old is None:
            return
        for code in old.barcodes:
            if self.by_code.get(code) == sku:
                del self.by_code[code]
        if old.plu and self.by_plu.get(old.plu) == sku:
            del self.by_plu[old.plu]
        self._items[self._pos.pop(sku)] = None
        self._search = None

    def __len__(self) -> int:
        return len(self.by_sku)

    def resolve(self, scan: Scan) -> Product:
        """The product a decoded scan refers to (raises ``product.not_found``)."""
        if scan.kind in ("price", "weight"):
            sku = self.by_plu.get(scan.plu)
        elif scan.kind == "barcode":
            sku = self.by_code.get(scan.code)
            if sku is None and len(scan.code) == 12:  # UPC-A read as EAN-13 with a leading 0
                sku = self.by_code.get("0" + scan.code)
            if sku is None and len(scan.code) == 13 and scan.code.startswith("0"):
                sku = self.by_code.get(scan.code[1:])
        else:
            sku = scan.code if scan.code in self.by_sku else None
        if sku is None or sku not in self.by_sku:
            raise not_found(scan.code)
        return self.by_sku[sku]

    def grid(self, category: str = "", limit: int = 60) -> tuple[list[str], list[Product]]:
        """The till's item grid: every category, and the sellable products of ``category`` (the
        favourites when it is empty), in catalogue order."""
        cats = sorted({p.category for p in self.by_sku.values() if p.category})
        items = [
            p
            for p in self.by_sku.values()
            if p.sellable and (p.category == category if category else p.favourite)
        ]
        return cats, items[:limit]

    def hays(self) -> list[str | None]:
        """What a search looks in, per product in search order: SKU, names and barcodes."""
        return [
            None if p is None else normalise(" ".join([p.sku, *p.names.values(), *p.barcodes]))
            for p in self._items
        ]

    def prepare_search(self) -> SearchIndex:
        """The search index, built now if it is not yet (thread-safe: one build at a time)."""
        with self._lock:
            if self._search is None:
                self._search = SearchIndex(self.hays())
            return self._search

    def search(
        self, query: str, limit: int = 50, sellable_only: bool = False, linear: bool = False
    ) -> list[Product]:
        """Products whose SKU, names or barcodes hold every word of ``query`` (an exact SKU
        first), in catalogue order; ``linear``: by checking every product (the old way)."""
        q = normalise(query)
        if not q:
            return []
        words = q.split()
        exact = self.by_sku.get(query.strip())
        items = self._items

        def accept(i: int) -> bool:
            p = items[i]
            return p is not None and p is not exact and (p.sellable or not sellable_only)

        want = limit - (exact is not None)
        if linear:
            ids = scan(self.prepare_search().hays, words, want, accept) if want > 0 else []
        else:
            ids = self.prepare_search().search(words, want, accept) if want > 0 else []
        found = [p for p in (items[i] for i in ids) if p is not None]
        return [exact, *found] if exact is not None else found
