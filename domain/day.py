"""The business day of each till: opened with a cash float, closed with counted cash and a Z report.

A till sells, refunds and takes wallet top-ups only while its day is open (``DayBook.require_open``,
checked by the ledger where commits are serialised). Closing records two events: ``day.closed`` with
the counted cash, then ``day.z_report`` with the Z report that the analytics copy computes once it
holds the close (the report's counted cash and difference come from ``day.closed``: one
implementation of every figure, in ``analytics.store``). When the last open till of a business day
closes, the store's Z report is recorded as well (``scope="store"``).

The bodies match what ``analytics.flatten`` reads: ``day.opened`` {till, float, business_day} and
``day.closed`` {till, counted_cash, business_day}.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import Conflict, InvalidInput
from domain.events import register

__all__ = [
    "DayOpened",
    "DayClosed",
    "ZReportRecorded",
    "TillDay",
    "DayBook",
    "business_day_of",
    "MAX_FLOAT",
]

MAX_FLOAT = 10**10


def business_day_of(ts_us: int, zone: str, day_start_hour: int = 0) -> str:
    """The store's business day (ISO date) of a UTC microsecond time, in the store's zone."""
    utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_us)
    local = utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - timedelta(hours=day_start_hour)
    return local.date().isoformat()


def _check_day(value: str) -> str:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("day.bad_date", "a business day is YYYY-MM-DD") from None
    if len(value) != 10:
        raise InvalidInput("day.bad_date", "a business day is YYYY-MM-DD")
    return value


@register("day.opened")
@dataclass(frozen=True, slots=True)
class DayOpened:
    till: str
    business_day: str
    float: int  # opening cash float in the drawer, minor units
    licence_code: str = ""  # the licence's state when the day opened (e.g. a warning in grace)
    grace_days_left: int = 0


@register("day.closed")
@dataclass(frozen=True, slots=True)
class DayClosed:
    till: str
    counted_cash: int  # minor units counted in the drawer at close
    business_day: str = ""  # filled at commit from the open day
    opening_float: int = 0  # filled at commit


@register("day.z_report")
@dataclass(frozen=True, slots=True)
class ZReportRecorded:
    scope: str  # "till" | "store"
    till: str  # "" for the store
    business_day: str
    report: dict[str, Any]


@dataclass
class TillDay:
    till: str
    business_day: str
    float: int
    opened_ts: int
    open: bool = True
    counted_cash: int | None = None
    closed_ts: int = 0


@dataclass
class DayBook:
    """Per till: its current (or last) business day; the Z reports recorded."""

    days: dict[str, TillDay] = field(default_factory=dict)
    z_recorded: set[tuple[str, str]] = field(default_factory=set)  # (till or "", business_day)

    def is_open(self, till: str) -> bool:
        d = self.days.get(till)
        return d is not None and d.open

    def require_open(self, till: str) -> None:
        if not self.is_open(till):
            raise Conflict(
                "day.closed", "this till's business day is not open; a manager opens it", till=till
            )

    def open_tills(self, business_day: str | None = None) -> list[str]:
        return sorted(
            t
            for t, d in self.days.items()
            if d.open and (business_day is None or d.business_day == business_day)
        )

    def check(self, body: Any, open_baskets: int = 0) -> Any:
        if isinstance(body, DayOpened):
            if not body.till:
                raise InvalidInput("day.bad_till", "a day is opened for a till")
            _check_day(body.business_day)
            if isinstance(body.float, bool) or not 0 <= body.float <= MAX_FLOAT:
                raise InvalidInput("day.bad_float", "the float is a whole amount ≥ 0")
            d = self.days.get(body.till)
            if d is not None and d.open:
                raise Conflict(
                    "day.already_open",
                    "this till's day is open already",
                    till=body.till,
                    business_day=d.business_day,
                )
            return body
        if isinstance(body, DayClosed):
            d = self.days.get(body.till)
            if d is None or not d.open:
                raise Conflict("day.not_open", "this till's day is not open", till=body.till)
            if isinstance(body.counted_cash, bool) or not 0 <= body.counted_cash <= MAX_FLOAT:
                raise InvalidInput("day.bad_counted_cash", "counted cash is a whole amount ≥ 0")
            if open_baskets:
                raise Conflict(
                    "day.baskets_open",
                    "pay or void the open and parked baskets first",
                    till=body.till,
                    baskets=open_baskets,
                )
            return replace(body, business_day=d.business_day, opening_float=d.float)
        if isinstance(body, ZReportRecorded):
            if body.scope not in ("till", "store"):
                raise InvalidInput("day.bad_scope", "a Z report is for a till or the store")
            _check_day(body.business_day)
            key = (body.till if body.scope == "till" else "", body.business_day)
            if key in self.z_recorded:
                raise Conflict("day.z_recorded", "this Z report is recorded already")
            if body.scope == "till":
                d = self.days.get(body.till)
                if d is None or d.open or d.business_day != body.business_day:
                    raise Conflict(
                        "day.not_closed", "a till's Z report follows its close", till=body.till
                    )
            return body
        return body

    def apply(self, body: Any, ts: int) -> None:
        if isinstance(body, DayOpened):
            self.days[body.till] = TillDay(body.till, body.business_day, body.float, ts)
        elif isinstance(body, DayClosed):
            d = self.days.get(body.till)
            if d is not None:
                d.open, d.counted_cash, d.closed_ts = False, body.counted_cash, ts
        elif isinstance(body, ZReportRecorded):
            self.z_recorded.add((body.till if body.scope == "till" else "", body.business_day))

    def state(self) -> dict[str, Any]:
        return {
            t: {
                "till": t,
                "business_day": d.business_day,
                "float": d.float,
                "open": d.open,
                "opened_ts": d.opened_ts,
                "closed_ts": d.closed_ts,
                "counted_cash": d.counted_cash,
                "z_recorded": (t, d.business_day) in self.z_recorded,
            }
            for t, d in self.days.items()
        }
