"""HQ repricing a store's catalogue: which of HQ's new products differ from the ones the store
holds only in their price, and those products with their new prices — without a product's other
fields being read, checked, serialised or indexed again.

``price_split`` runs where the store's products are held (the catalogue actor): HQ's new rows
(``Product.to_dict`` form, as ``domain.catalogue.normal_dict`` makes them) are compared with the
products held, field by field, the price aside. A product that differs only in a valid price is
one ``domain.catalogue.product_against`` would not check again; its new product is the held one
with the new price (``repriced``), equal to the product HQ's row makes. The rest are merged the
long way (``domain.catalogue_merge``) by whoever holds HQ's rows until now.

A till host is sent the new prices of such products as ``[sku, price]`` pairs (``put_prices``),
not their rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from domain.catalogue import CatalogueIndex, Product
from domain.errors import InvalidInput, KassaError
from domain.money import CEILING, Limits

__all__ = [
    "price_split",
    "BAD_PRICE",
    "hq_prices",
    "repriced",
    "repriced_products",
    "row_repriced",
    "put_prices",
    "index_copy",
    "index_put",
]

BAD_PRICE = "product.bad_price"  # a price change the catalogue cannot take as a pair
_KEYS = tuple(Product.__slots__)  # sku, names, price, tax_class, category, barcodes, ...
_new = object.__new__
_SLOTS = tuple(getattr(Product, f).__set__ for f in _KEYS)


def repriced(p: Product, price: int) -> Product:
    """``p`` with ``price`` (not checked: the caller checked the price; ``p`` itself the held,
    checked product). ``p`` itself when its price is ``price``."""
    if p.price == price:
        return p
    q: Product = _new(Product)
    s = _SLOTS  # written out: 300,000 products repriced at once
    s[0](q, p.sku), s[1](q, p.names), s[2](q, price), s[3](q, p.tax_class)
    s[4](q, p.category), s[5](q, p.barcodes), s[6](q, p.unit), s[7](q, p.plu)
    s[8](q, p.sellable), s[9](q, p.low_stock), s[10](q, p.favourite), s[11](q, p.image)
    s[12](q, p.merge)
    return q


def row_repriced(row: bytes, price: int) -> bytes:
    """A saved row (``orjson.dumps(product_row(p), option=OPT_SORT_KEYS)``) with ``price``: the
    same bytes as the row of ``repriced(p, price)``. The product's own ``"price":`` is the last
    in the row (only ``sellable``, ``sku``, ``tax_class`` and ``unit`` follow it, and a JSON
    string holds no unescaped quote), and ``sku`` always follows it."""
    start = row.rindex(b'"price":') + 8
    return row[:start] + str(price).encode() + row[row.index(b",", start) :]


def _same_but_price(row: dict[str, Any], p: Product) -> bool:
    """``row`` (a ``Product.to_dict`` form) is ``p.to_dict()`` but for its price (the same keys,
    equal values: what comparing the two dicts answers; field by field, most telling first)."""
    if len(row) != len(_KEYS) - ("price" not in row):
        return False
    try:
        codes = row["barcodes"]
        return (
            row["names"] == p.names
            and row["sku"] == p.sku
            and type(codes) is list
            and codes == list(p.barcodes)
            and row["tax_class"] == p.tax_class
            and row["category"] == p.category
            and row["unit"] == p.unit
            and row["plu"] == p.plu
            and row["sellable"] == p.sellable
            and row["low_stock"] == p.low_stock
            and row["favourite"] == p.favourite
            and row["image"] == p.image
            and row["merge"] == p.merge
        )
    except KeyError:
        return False


def price_split(
    held: dict[str, Product],
    hq: dict[str, dict[str, Any]],
    limits: Limits,
    rate_of: Callable[[str], Any],
) -> tuple[list[tuple[str, int]], list[Product]]:
    """(prices, rest) of HQ's new rows ``hq`` (by SKU) against the products ``held``:
    ``(sku, new price)`` of each held product whose row equals HQ's new row but for the price,
    in the order of ``hq``, and the held products of the others (HQ's products the store does
    not hold are in neither). When any of those prices would be refused (not a whole number,
    below zero, above the store's ``limits``; a tax class the store no longer has), no product
    is a price change: the catalogue's update then refuses the rows the long way, naming them."""
    prices: list[tuple[str, int]] = []
    rest: list[Product] = []
    classes: set[str] = set()
    top = min(CEILING, limits.max_unit_price)
    get = held.get
    for sku, row in hq.items():
        p = get(sku)
        if p is None:
            continue
        if type(row) is dict and _same_but_price(row, p):
            price = row.get("price")  # none: refused the long way
            if type(price) is not int or not 0 <= price <= top:
                return [], [p for p in map(get, hq) if p is not None]
            prices.append((sku, price))
            classes.add(p.tax_class)
        else:
            rest.append(p)
    if not _classes_known(classes, rate_of):  # refused the long way, with the row named
        return [], [p for p in map(get, hq) if p is not None]
    return prices, rest


def _classes_known(classes: set[str], rate_of: Callable[[str], Any]) -> bool:
    try:
        for c in classes:
            rate_of(c)
    except KassaError:
        return False
    return True


def hq_prices(
    held: dict[str, Product],
    pairs: Sequence[Sequence[Any]],
    limits: Limits,
    rate_of: Callable[[str], Any],
) -> list[tuple[str, int]] | None:
    """HQ's ``[sku, price]`` pairs (a format-2 delta's ``repriced``) as ``price_split``'s
    prices, each checked as ``price_split`` checks a price; None when any would be refused (a
    product not held, a price not a whole number in the store's ``limits``, a tax class the
    store no longer has): they then go the long way, as rows, refused naming their rows."""
    if not pairs:
        return []
    skus, prices = list(map(itemgetter(0), pairs)), list(map(itemgetter(1), pairs))
    top = min(CEILING, limits.max_unit_price)
    if set(map(type, prices)) != {int} or min(prices) < 0 or max(prices) > top:
        return None  # (a bool is no whole number here either)
    if not held.keys() >= set(skus):
        return None
    classes = set(map(attrgetter("tax_class"), map(held.__getitem__, skus)))
    return list(zip(skus, prices, strict=True)) if _classes_known(classes, rate_of) else None


def repriced_products(
    held: dict[str, Product],
    prices: Sequence[Sequence[Any]],
    limits: Limits,
    rate_of: Callable[[str], Any] | None = None,
) -> list[Product]:
    """The held products of ``[sku, price]`` pairs (``price_split``'s or HQ's own) with their
    new prices; a pair naming a product not held, a price ``price_split`` would not have given
    or (with ``rate_of``) a tax class the store no longer has is refused (``product.bad_price``:
    nothing changes; the sync then sends them the long way, refused naming their rows)."""
    top = min(CEILING, limits.max_unit_price)
    out: list[Product] = []
    for sku, price in prices:
        p = held.get(sku)
        if p is None or type(price) is not int or not 0 <= price <= top:
            raise InvalidInput(BAD_PRICE, f"no price change for {sku!r}", sku=sku)
        out.append(repriced(p, price))
    if rate_of is not None and not _classes_known({p.tax_class for p in out}, rate_of):
        raise InvalidInput(BAD_PRICE, "a repriced product's tax class is unknown")
    return out


def put_prices(index: CatalogueIndex, prices: Sequence[Sequence[Any]]) -> None:
    """Put ``[sku, price]`` pairs into ``index`` (products it holds, prices checked by the
    catalogue that sent them); the search index stays (no name changed)."""
    get = index.by_sku.get
    _put_priced(index, [repriced(p, price) for sku, price in prices if (p := get(sku)) is not None])


def _put_priced(index: CatalogueIndex, products: Sequence[Product]) -> None:
    """``CatalogueIndex.put`` of held products whose price alone changed: their places taken
    (no code, PLU or name changed, so nothing else of the index is touched)."""
    by_sku, items, pos = index.by_sku, index._items, index._pos
    for p in products:
        by_sku[p.sku] = items[pos[p.sku]] = p


def index_copy(index: CatalogueIndex) -> CatalogueIndex:
    """A copy of ``index`` that can be changed while ``index`` is read (the products themselves
    are shared: they never change; so is the search index, made again if a name changes)."""
    new = CatalogueIndex((), index.version)
    new.by_sku = dict(index.by_sku)
    new.by_code = dict(index.by_code)
    new.by_plu = dict(index.by_plu)
    new._items = list(index._items)
    new._pos = dict(index._pos)
    new._search = index._search
    return new


def index_put(
    index: CatalogueIndex,
    changed: Sequence[Product],
    gone: Sequence[str],
    v: str,
    priced: frozenset[str] = frozenset(),
) -> None:
    """``index`` made version ``v``: the SKUs of ``gone`` taken out, ``changed`` put in (those
    of ``priced``, held products whose price alone changed, put in their places)."""
    for sku in gone:
        index.remove(sku)
    if priced:
        _put_priced(index, [p for p in changed if p.sku in priced])
    for p in changed if not priced else [p for p in changed if p.sku not in priced]:
        index.put(p)
    index.version = v
