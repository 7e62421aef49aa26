"""What a verified bundle changes in HQ's products at the store (``HqChange``), for
``actors.catalogue_sync``: HQ's rows it sends (normalised), the SKUs it removes, the scheduled
prices now due or still to come, and HQ's ``[sku, price]`` pairs of a reprice (a format-2 delta's
``repriced``: products whose price alone changed, kept as pairs so that neither their rows nor
HQ's rows until now are read when the catalogue can reprice them itself; ``expanded`` makes them
rows for the long way).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from actors.catalogue import paused_gc
from actors.catalogue_hq_store import HqStore
from domain.catalogue import normal_dict
from domain.catalogue_bundle import Bundle, apply_delta
from domain.catalogue_merge import due_prices, with_prices
from domain.errors import InvalidInput

__all__ = ["HqChange", "hq_after", "expanded"]


@dataclass(frozen=True, slots=True)
class HqChange:
    """What a bundle changes in HQ's products (``hq_after``)."""

    full: bool  # a full (or setup) bundle: ``upsert`` is all of HQ's products
    upsert: dict[str, dict[str, Any]]  # HQ's products it sends or reprices (normalised)
    removed: list[str]  # SKUs HQ stops sending
    later: list[dict[str, Any]]  # scheduled prices still to come
    touched: list[str]  # the SKUs of ``upsert``
    prices: list[list[Any]]  # HQ's [sku, price] of products kept (in none of the above)


def _norm(p: dict[str, Any]) -> dict[str, Any]:
    """HQ's product as the store keeps it (``Product.to_dict``), so comparisons see equal
    defaults as equal. Not checked here: a row the store cannot take is refused by the
    catalogue's update, naming the row (a row that is not a product at all is kept as it came)."""
    try:
        return normal_dict(p)
    except (KeyError, TypeError, ValueError, OverflowError):
        return dict(p)


def _pairs(bundle: Bundle) -> list[list[Any]]:
    """A delta's ``repriced`` pairs (a SKU named twice: the later price)."""
    try:
        new = dict(bundle.repriced if bundle.kind == "delta" else [])
    except (TypeError, ValueError):  # not pairs
        new = {None: None}
    if set(map(type, new)) - {str} or set(map(type, new.values())) - {int}:
        raise InvalidInput("catalogue.bad_bundle", "the bundle's new prices cannot be read")
    return [[s, p] for s, p in new.items()]


def hq_after(bundle: Bundle, held: int | None, store: HqStore, now_us: int) -> HqChange:
    """What ``bundle`` (and the scheduled prices now due) changes in HQ's products: only the
    products it names are read and written (``hq.sqlite``), not every product HQ sends; its
    repriced products are not read at all."""
    with paused_gc():
        pairs = _pairs(bundle)
        incoming = {sku: _norm(p) for sku, p in apply_delta({}, held, bundle).items()}
        full = bundle.kind != "delta"
        removed = [] if full else [s for s in bundle.removed if s not in incoming]
        pairs = [p for p in pairs if p[0] not in incoming]
        asked = {str(r["sku"]) for r in bundle.prices}
        kept = set() if full else store.has(asked - set(incoming)) - set(removed)
        pending = [r for r in bundle.prices if str(r["sku"]) in kept | set(incoming)]
        due, later = due_prices(pending, now_us)
        base = dict(incoming)
        if not full:
            base.update(store.get({r["sku"] for r in due} - set(incoming)))
        priced_rows, priced = with_prices(base, due)
        upsert = {**incoming, **{s: priced_rows[s] for s in priced}}
        touched = list(dict.fromkeys([*incoming, *priced]))
        gone = set(removed) | set(upsert)  # a price now due comes after HQ's new price
        pairs = [p for p in pairs if p[0] not in gone]
        return HqChange(full, upsert, removed, later, touched, pairs)


def expanded(plan: HqChange, store: HqStore) -> HqChange:
    """``plan`` with its repriced products as HQ's rows (the row until now with the new price),
    for the long way: the store's catalogue changed since HQ's last version, the store may own
    prices, or the catalogue refuses a price (the update then names its row)."""
    if not plan.prices:
        return plan
    new = dict(plan.prices)
    with paused_gc():
        rows = store.get(new)
        for sku, row in rows.items():
            row["price"] = new[sku]
    upsert = {**plan.upsert, **rows}
    return replace(plan, upsert=upsert, touched=[*plan.touched, *rows], prices=[])
