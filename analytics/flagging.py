"""Anomaly flags of the store's recent orders, journaled: a flag once, a freeze where a rule says.

Used by the store's analytics actor every ``flag_every_s``; ``submit(cid, body)`` journals a body
under a command id (the same id has no second effect), so scoring twice journals a flag once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from analytics.anomaly import RuleConfig
from analytics.events import flags_to_events
from domain.commands import FreezeOrder
from domain.errors import KassaError

__all__ = ["journal_new_flags"]

log = logging.getLogger(__name__)


async def journal_new_flags(
    store: Any,
    rules: RuleConfig,
    today: date,
    days: int,
    submit: Callable[[str, Any], Awaitable[Any]],
) -> int:
    """Score the orders of the last ``days`` business days up to ``today`` (``store``: the
    ``StoreAnalytics`` copy); journal new flags and the freezes they ask for. Flag ids derive from
    (store, rule, order). Returns how many flags were new."""
    frame = store.new_flags(rules, today - timedelta(days=days - 1), today)
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
