"""Finding orders for the after-sales counter: by number (an order's, or a refund's: its order),
id, member, or business date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.book import OrderRecord
from domain.numbering import Numbers

__all__ = ["orders_matching", "MAX_FOUND"]

MAX_FOUND = 50
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def orders_matching(
    orders: Mapping[str, OrderRecord], key: str, zone: str = "UTC", numbers: Numbers | None = None
) -> list[dict[str, Any]]:
    """Orders whose number, id or member is ``key``, or, for ``YYYY-MM-DD``, those of that
    business date in the store's ``zone``; the newest ``MAX_FOUND``, oldest first. With the book's
    ``numbers``, an order or refund number (any case, zeros optional) finds its order at once."""
    found = numbers.find(key) if numbers is not None else None
    if found is not None:
        rec = orders.get(found)
        if rec is not None:
            return [rec.to_dict()]
    if DATE_RE.fullmatch(key):
        try:
            day = date.fromisoformat(key)
        except ValueError:
            return []
        tz = ZoneInfo(zone)
        out = [
            r
            for r in orders.values()
            if datetime.fromtimestamp(r.ts / 1e6, UTC).astimezone(tz).date() == day
        ]
    else:
        out = [
            r for r in orders.values() if key in (r.order.number, r.order.order_id, r.order.member)
        ]
    return [r.to_dict() for r in out[-MAX_FOUND:]]
