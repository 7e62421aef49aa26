"""Finding orders for the after-sales counter: by number, id, member, or business date."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.book import OrderRecord

__all__ = ["orders_matching", "MAX_FOUND"]

MAX_FOUND = 50
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def orders_matching(
    orders: Iterable[OrderRecord], key: str, zone: str = "UTC"
) -> list[dict[str, Any]]:
    """Orders whose number, id or member is ``key``, or, for ``YYYY-MM-DD``, those of that
    business date in the store's ``zone``; the newest ``MAX_FOUND``, oldest first."""
    if DATE_RE.fullmatch(key):
        try:
            day = date.fromisoformat(key)
        except ValueError:
            return []
        tz = ZoneInfo(zone)
        out = [
            r
            for r in orders
            if datetime.fromtimestamp(r.ts / 1e6, UTC).astimezone(tz).date() == day
        ]
    else:
        out = [r for r in orders if key in (r.order.number, r.order.order_id, r.order.member)]
    return [r.to_dict() for r in out[-MAX_FOUND:]]
