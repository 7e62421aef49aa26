"""The simulated shop of ``analytics.generate``: its catalogue ranges and traffic weights, ``Shop``
(its settings), ``History`` (what ``generate`` returns), the hash-chaining writer that checks and
applies each body to a ``Book`` like the ledger does, and ``write_journal`` (a history into a real
journal file).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.book import Book
from domain.events import kind_of, version_of
from domain.journal_format import GENESIS, Envelope, encode_body, seal

CATEGORIES = {
    "dairy": (3000, 9000),
    "bakery": (2000, 8000),
    "drinks": (1000, 6000),
    "snacks": (1500, 5000),
    "household": (4000, 30000),
    "personal": (5000, 25000),
    "frozen": (6000, 20000),
    "produce": (4000, 15000),
    "meat": (15000, 40000),
    "electronics": (30000, 150000),
}
KG_CATEGORIES = {"produce", "meat"}
HOUR_WEIGHT = {
    8: 3,
    9: 4,
    10: 5,
    11: 8,
    12: 12,
    13: 9,
    14: 5,
    15: 5,
    16: 7,
    17: 11,
    18: 13,
    19: 10,
    20: 6,
    21: 3,
}
WEEKDAY_WEIGHT = [0.9, 0.85, 0.9, 0.95, 1.15, 1.35, 1.25]


@dataclass
class Shop:
    store_id: str = "S001"
    zone: str = "Asia/Bangkok"
    currency: str = "THB"
    cash_increment: int = 25
    open_hour: int = 8
    close_hour: int = 22
    orders_per_day: int = 300
    products: int = 200
    members: int = 60
    opening_float: int = 200_000
    cashiers: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            # cashier: (till, shift)
            "c1": ("T1", "am"),
            "c2": ("T2", "am"),
            "c3": ("T1", "pm"),
            "c4": ("T2", "pm"),
            "c5": ("T3", "am"),
            "c6": ("T3", "pm"),
        }
    )
    aftersales: str = "as1"
    aftersales_till: str = "T9"
    manager: str = "m1"
    discount_limit_bp: int = 1000

    def ip(self, till: str) -> str:
        return f"10.0.0.{10 + int(till[1:])}"


@dataclass
class History:
    shop: Shop
    envelopes: list[Envelope]
    planted: list[tuple[str, str]]  # (rule, order_id)
    products: dict[str, dict[str, Any]]
    start: date
    days: int

    def wire(self) -> list[dict[str, Any]]:
        return [e.to_wire() for e in self.envelopes]


class _Writer:
    """Hash-chains bodies into envelopes, checking and applying them to a ``Book`` like the
    ledger does."""

    def __init__(self) -> None:
        self.seq, self.prev = 0, GENESIS
        self.envs: list[Envelope] = []
        self.book = Book()
        self.last_ts = 0

    def emit(
        self,
        body: Any,
        ts: int,
        staff: str,
        till: str,
        ip: str,
        kind: str | None = None,
        agg: str = "",
    ) -> Any:
        if kind is None:
            body = self.book.check(body, till)
            kind = kind_of(body)
            raw, v = encode_body(body), version_of(kind)
            agg = agg or next(
                (
                    getattr(body, a)
                    for a in ("basket", "order_id", "member", "sku")
                    if isinstance(getattr(body, a, None), str)
                ),
                "",
            )
        else:  # kinds not registered in domain.events (day.opened / day.closed): plain dicts
            raw, v = encode_body(body), 1
        ts = max(ts, self.last_ts + 1)  # the journal's clock never goes back
        self.last_ts = ts
        self.seq += 1
        eid = str(uuid.UUID(int=random.getrandbits(128)))
        env = seal(self.prev, self.seq, eid, ts, kind, v, staff, till, ip, agg, raw)
        self.envs.append(env)
        self.prev = env.hash
        if not isinstance(body, dict):
            self.book.apply(body, staff, till, ts, self.seq)
        return body


def _us(day: date, hour: int, minute: int, second: int, zone: ZoneInfo, micro: int = 0) -> int:
    local = datetime.combine(day, time(hour, minute, second, micro), tzinfo=zone)
    delta = local.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(microseconds=1)


def write_journal(path: str, history: History) -> None:
    """Write the history into a real journal file (``actors.journal.Journal``)."""
    from actors.journal import Journal, Pending

    j = Journal(path)
    try:
        batch = []
        for e in history.envelopes:
            batch.append(
                Pending(e.id, b"", e.ts, e.kind, e.v, e.staff, e.till, e.ip, e.agg, e.body)
            )
            if len(batch) >= 5000:
                j.append(batch)
                batch = []
        if batch:
            j.append(batch)
    finally:
        j.close()
