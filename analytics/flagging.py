"""Anomaly flags of the store's recent orders, journaled: a flag once, a freeze where a rule says.

Used by the store's analytics actor every ``flag_every_s``; ``submit(cid, body)`` journals a body
under a command id (the same id has no second effect), so scoring twice journals a flag once.
``score_store`` is the scoring itself (also ``kassa analytics flags``): the store's tables, its
catalogue's prices (``catalogue_frame``) and its own thresholds.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from analytics.anomaly import RuleConfig, score
from analytics.events import flags_to_events
from domain.commands import FreezeOrder
from domain.errors import KassaError

__all__ = ["journal_new_flags", "score_store", "catalogue_frame"]

log = logging.getLogger(__name__)


def catalogue_frame(data_dir: Path | str | None, store_id: str) -> pl.DataFrame | None:
    """The catalogue's prices in force (store_id, sku, unit, price) from ``catalogue.json``."""
    if data_dir is None:
        return None
    path = Path(data_dir) / "catalogue.json"
    try:
        rows = orjson.loads(path.read_bytes()).get("products", [])
    except (OSError, ValueError):
        return None
    out = [
        {"store_id": store_id, "sku": p["sku"], "unit": p.get("unit", "each"), "price": p["price"]}
        for p in rows
        if isinstance(p, dict) and isinstance(p.get("price"), int) and "sku" in p
    ]
    schema = {"store_id": pl.String, "sku": pl.String, "unit": pl.String, "price": pl.Int64}
    return pl.DataFrame(out, schema=schema)


def score_store(
    store: Any,
    rules: RuleConfig,
    start: date | str | None,
    end: date | str | None,
    data_dir: Path | str | None = None,
    new_only: bool = True,
) -> pl.DataFrame:
    """Flags over business days ``start..end`` (``store``: a ``StoreAnalytics``; stock and the
    till's scan prices over their whole history); ``new_only``: those not journaled yet."""
    frames: dict[str, Any] = dict(store.frames(start, end))
    frames["stock_movements"] = store.table("stock_movements")
    frames["basket_lines"] = store.table("basket_lines")
    cat = catalogue_frame(data_dir, store.store_id)
    if cat is not None:
        frames["catalogue"] = cat
    return score(frames, rules, existing=store.table("flags") if new_only else None)


async def journal_new_flags(
    store: Any,
    rules: RuleConfig,
    today: date,
    days: int,
    submit: Callable[[str, Any], Awaitable[Any]],
    data_dir: Path | str | None = None,
) -> int:
    """Score the orders of the last ``days`` business days up to ``today`` (``store``: the
    ``StoreAnalytics`` copy); journal new flags and the freezes they ask for. Flag ids derive from
    (store, rule, order). Returns how many flags were new."""
    frame = score_store(store, rules, today - timedelta(days=days - 1), today, data_dir)
    n = 0
    for ev in flags_to_events(frame):
        ack = await submit(ev.flag_id, ev)
        n += 0 if ack.duplicate else 1
        if ev.freeze:
            try:
                await submit(
                    str(uuid.uuid5(uuid.UUID(ev.flag_id), "freeze")),
                    FreezeOrder(ev.order_id, f"flag: {ev.rule}", ev.rule),
                )
            except KassaError as exc:  # already frozen, or a voided basket
                log.info("not frozen: %s", exc)
    return n
