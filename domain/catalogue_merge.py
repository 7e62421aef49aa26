"""How HQ's catalogue and the store's own changes make the catalogue a store sells from.

Pure rules, no I/O. Three sources:

* ``hq``: HQ's products for this store (by SKU), as of the version the store runs;
* ``overrides``: per SKU, the store's own values of the fields HQ lets a store own
  (``store_fields``, e.g. ``favourite``, ``low_stock``, ``image``; ``price`` for a franchisee);
* ``local``: products the store created itself (SKUs HQ does not send).

``split`` finds the last two in the catalogue the store runs today, against the HQ products it
last applied: a store-owned field whose value differs from HQ's is the store's own; a product HQ
never sent is the store's. ``effective`` puts them together again over HQ's new products: HQ's
updates never overwrite a store's own value, and never remove a store's own product. A field the
store has left as HQ sent it follows HQ.

``due_prices`` splits HQ's scheduled price changes into those in force at a time and those still
to come; ``with_prices`` applies the former to HQ's products.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["effective", "split", "due_prices", "with_prices", "normal", "price_only"]

Products = dict[str, dict[str, Any]]


def normal(p: dict[str, Any]) -> dict[str, Any]:
    """A product dict without HQ's extra keys' absence mattering: a copy with the SKU as text."""
    out = dict(p)
    out["sku"] = str(p["sku"])
    return out


def split(
    current: Iterable[dict[str, Any]], hq_before: Products, store_fields: Iterable[str]
) -> tuple[Products, list[dict[str, Any]]]:
    """(overrides, local) of the catalogue the store runs, against the HQ products it last
    applied (``hq_before``)."""
    fields = [f for f in store_fields if f != "sku"]
    overrides: Products = {}
    local: list[dict[str, Any]] = []
    for p in current:
        sku = str(p["sku"])
        base = hq_before.get(sku)
        if base is None:
            local.append(normal(p))
            continue
        own = {f: p[f] for f in fields if f in p and p[f] != base.get(f)}
        if own:
            overrides[sku] = own
    return overrides, local


def price_only(
    current: Iterable[dict[str, Any]], hq: Products, store_fields: Iterable[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, rest): of the store's ``current`` rows (``Product.to_dict``) of HQ's products
    ``hq`` (normalised the same way), HQ's row for each that equals it but for the price — what
    ``effective`` makes of it whatever HQ sent before, when the price is not the store's to own —
    and the rows left to merge the long way (all of them when the store may own prices)."""
    if "price" in store_fields:
        return [], list(current)
    same: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    get = hq.get
    for p in current:
        new = get(p["sku"])
        if new is not None and {**new, "price": p["price"]} == p:
            same.append(new)
        else:
            rest.append(p)
    return same, rest


def effective(
    hq: Products,
    overrides: Products,
    local: list[dict[str, Any]],
    store_fields: list[str],
) -> list[dict[str, Any]]:
    """The store's catalogue: HQ's products with the store's own values of ``store_fields``,
    then the store's own products (a store product whose SKU HQ now sends becomes HQ's, keeping
    the store's values of the store-owned fields)."""
    fields = set(store_fields) - {"sku"}
    out: list[dict[str, Any]] = []
    local_by_sku = {str(p["sku"]): p for p in local}
    for sku, p in hq.items():
        row = normal(p)
        own = dict(overrides.get(sku) or {})
        mine = local_by_sku.get(sku)
        if mine is not None:
            own = {**{f: mine[f] for f in fields if f in mine}, **own}
        for f, v in own.items():
            if f in fields:
                row[f] = v
        out.append(row)
    out.extend(normal(p) for sku, p in local_by_sku.items() if sku not in hq)
    return out


def due_prices(
    prices: Iterable[dict[str, Any]], now_us: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(due, later): scheduled changes in force at ``now_us`` (oldest first), and the rest."""
    rows: list[dict[str, Any]] = sorted(
        (
            {"sku": str(r["sku"]), "price": int(r["price"]), "from_us": int(r["from_us"])}
            for r in prices
        ),
        key=lambda r: (r["from_us"], r["sku"]),
    )
    due = [r for r in rows if int(r["from_us"]) <= now_us]
    return due, rows[len(due) :]


def with_prices(hq: Products, due: Iterable[dict[str, Any]]) -> tuple[Products, list[str]]:
    """HQ's products with ``due`` price changes applied (the latest wins), and the SKUs changed.
    A change for a product HQ no longer sends is dropped."""
    out = dict(hq)
    changed: list[str] = []
    for r in due:
        p = out.get(r["sku"])
        if p is None or p.get("price") == r["price"]:
            continue
        out[r["sku"]] = {**p, "price": r["price"]}
        if r["sku"] not in changed:
            changed.append(r["sku"])
    return out, changed
