"""A product as the store keeps it on disk (``catalogue.json``) and sends it to a till host: the
``Product.to_dict`` form without the fields at their defaults, and back.

``product_trusted`` rebuilds a product from a row this store wrote itself after checking it under
the same rules (``RULES``), without checking it again: checking 300,000 products took seconds of a
store's start. A file written under other rules is checked product by product as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.catalogue import Product

__all__ = ["RULES", "product_row", "product_trusted"]

RULES = 1  # raise when Product's checks change: rows saved before are then checked again at load

_new = object.__new__
_slot: dict[str, Callable[[Product, Any], None]] = {
    f: getattr(Product, f).__set__ for f in Product.__slots__
}
_sku, _names, _price, _tax = _slot["sku"], _slot["names"], _slot["price"], _slot["tax_class"]
_cat, _codes, _unit, _plu = _slot["category"], _slot["barcodes"], _slot["unit"], _slot["plu"]
_sell, _low, _fav = _slot["sellable"], _slot["low_stock"], _slot["favourite"]
_image, _merge = _slot["image"], _slot["merge"]


def product_row(p: Product) -> dict[str, Any]:
    """``p.to_dict()`` without the fields holding their default value (a third of the size)."""
    d: dict[str, Any] = {"sku": p.sku, "names": p.names, "price": p.price}
    if p.tax_class != "std":
        d["tax_class"] = p.tax_class
    if p.category:
        d["category"] = p.category
    if p.barcodes:
        d["barcodes"] = p.barcodes
    if p.unit != "each":
        d["unit"] = p.unit
    if p.plu:
        d["plu"] = p.plu
    if not p.sellable:
        d["sellable"] = False
    if p.low_stock:
        d["low_stock"] = p.low_stock
    if p.favourite:
        d["favourite"] = True
    if p.image:
        d["image"] = p.image
    if p.merge is not None:
        d["merge"] = p.merge
    return d


def product_trusted(d: dict[str, Any]) -> Product:
    """The product of a row ``product_row`` wrote from a checked product (not checked again)."""
    p: Product = _new(Product)
    get = d.get
    _sku(p, d["sku"])
    _names(p, d["names"])
    _price(p, d["price"])
    _tax(p, get("tax_class", "std"))
    _cat(p, get("category", ""))
    _codes(p, tuple(get("barcodes", ())))
    _unit(p, get("unit", "each"))
    _plu(p, get("plu", ""))
    _sell(p, get("sellable", True))
    _low(p, get("low_stock", 0))
    _fav(p, get("favourite", False))
    _image(p, get("image", ""))
    _merge(p, get("merge"))
    return p
