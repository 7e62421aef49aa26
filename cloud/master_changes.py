"""What changed for one store between two moments of HQ's master data, so that publishing a few
changes does not read every product (``MasterData.changes_for_store``).

A product a store gets changes for three reasons, each found through an index: its row changed
(``products.version``), a price row of its group was added or deleted (``prices.version``, the
``price.delete`` audit rows by ``audit.version``), or a scheduled price became due between the two
times (``prices(grp, from_us)``). A change of the store's subscriptions or profile (its price
group) is answered with ``None``: the caller recomputes the whole list, which is simple and right.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["changes_for_store", "store_dict", "RECOMPUTE_OVER"]

# more changed SKUs than this: reading every product is quicker than asking for each one
RECOMPUTE_OVER = 60_000
_CHUNK = 500
_STORE_WIDE = ("feed.subscribe", "feed.unsubscribe", "profile.put")


def store_dict(doc: dict[str, Any], price: int, keys: Iterable[str]) -> dict[str, Any]:
    """A store's product dict (``keys`` of HQ's form) at ``price``."""
    doc["price"] = price
    return {k: doc[k] for k in keys}


def changes_for_store(
    con: Any,
    store: str,
    group: str,
    sources: list[str],
    since_version: int,
    at_us: int,
    since_us: int,
    keys: Iterable[str],
) -> tuple[list[dict[str, Any]], list[str]] | None:
    """``(products changed, SKUs removed)`` for ``store`` from master version ``since_version``
    at ``since_us`` to now at ``at_us`` (products at the prices in force at ``at_us``), or None
    when the whole list must be read again. ``con``: the master database, read inside one
    transaction by the caller. A SKU may be listed although nothing a store sees of it changed
    (a scheduled price added for later), and a removed SKU may be one the store never had."""
    if at_us < since_us:
        return None
    for (detail,) in con.execute(
        f"SELECT detail FROM audit WHERE version > ? AND what IN ({_marks(_STORE_WIDE)})",
        (since_version, *_STORE_WIDE),
    ):
        d = orjson.loads(detail)
        if d.get("store", d.get("id")) == store:
            return None
    skus: set[str] = {
        r[0] for r in con.execute("SELECT sku FROM products WHERE version > ?", (since_version,))
    }
    skus |= {
        r[0]
        for r in con.execute(
            "SELECT sku FROM prices WHERE version > ? AND grp IN (?, '*')", (since_version, group)
        )
    }
    skus |= {
        r[0]
        for r in con.execute(
            "SELECT sku FROM prices WHERE grp IN (?, '*') AND from_us > ? AND from_us <= ?",
            (group, since_us, at_us),
        )
    }
    for (detail,) in con.execute(
        "SELECT detail FROM audit WHERE version > ? AND what = 'price.delete'", (since_version,)
    ):
        d = orjson.loads(detail)
        if d.get("group") in (group, "*"):
            skus.add(str(d["sku"]))
    if len(skus) > RECOMPUTE_OVER:
        return None
    return _read(con, sorted(skus), group, set(sources), at_us, list(keys))


def _read(
    con: Any, skus: list[str], group: str, sources: set[str], at_us: int, keys: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    changed: list[dict[str, Any]] = []
    removed: list[str] = []
    for i in range(0, len(skus), _CHUNK):
        part = skus[i : i + _CHUNK]
        rows = {
            r[0]: r[1:]
            for r in con.execute(
                f"SELECT sku, doc, source, deleted FROM products WHERE sku IN ({_marks(part)})",
                part,
            )
        }
        prices: dict[str, int] = {}
        for sku, price in con.execute(
            f"SELECT sku, price FROM prices WHERE sku IN ({_marks(part)})"
            " AND grp IN (?, '*') AND from_us <= ? ORDER BY from_us, id",
            (*part, group, at_us),
        ):
            prices[sku] = price
        for sku in part:
            row = rows.get(sku)
            if row is None or row[2] or row[1] not in sources:
                removed.append(sku)
                continue
            doc = orjson.loads(row[0])
            changed.append(store_dict(doc, prices.get(sku, doc["price"]), keys))
    return changed, removed


def _marks(items: Iterable[Any]) -> str:
    return ",".join("?" * len(list(items)))
