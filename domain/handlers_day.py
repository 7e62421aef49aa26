"""Business-day commands and rules: the licence gate on opening a day, and the Z sequence at close.

``OpenDay.decide(book)`` runs inside the ledger, right before the commit (``actors.ledger``), so two
tills opening at once are decided one after the other against the same book:

* a till beyond the licence's count may not open (``licence.too_many_tills``): the tills in use are
  the journal's, those that opened a day, in the order they first did (``check_till_count``, also
  asked by the gateway before a till's first command);
* a licence that refuses (expired, missing, out of grace) refuses the day (``day.licence_refused``);
  a licence in grace opens it and the day records the warning.

Closing a till's day journals ``day.closed`` (checked by the book), then its Z report; when no till
of that business day is open any more, the store's Z report follows (``z_sequence``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.book import Book
from domain.day import DayOpened
from domain.errors import Conflict

__all__ = ["LicenceAnswer", "OpenDay", "ZStep", "check_till_count", "z_sequence"]


def check_till_count(till: str, allowed: int, licence_id: str, used: Sequence[str]) -> bool:
    """Refuse ``till`` if the licence's ``allowed`` tills are all in ``used`` without it. True when
    the till is one of the licensed ones for good (it may be remembered), False when it may go on
    for now (no licence yet, or a new till while there is room: its day open decides)."""
    if not licence_id or not allowed:
        return False  # no licence: the day cannot open anyway (licence.missing)
    if till in used[:allowed]:
        return True
    if till not in used and len(used) < allowed:
        return False
    raise Conflict(
        "licence.too_many_tills",
        f"this store's licence allows {allowed} till(s), all in use; till {till} "
        "would be one more: ask HQ for a licence with more tills",
        tills=allowed,
        till=till,
        in_use=list(used[:allowed]),
    )


@dataclass(frozen=True, slots=True)
class LicenceAnswer:
    """What the licence said when the day was asked to open (``LicenceKeeper.may_open_day`` and
    its status: the till count and the licence's id)."""

    ok: bool
    code: str = ""
    message: str = ""
    warn_code: str = ""
    grace_days_left: int = 0
    tills: int = 0
    licence_id: str = ""

    @classmethod
    def of(cls, may_open: Mapping[str, Any], status: Mapping[str, Any]) -> LicenceAnswer:
        return cls(
            ok=bool(may_open.get("ok")),
            code=str(may_open.get("code") or ""),
            message=str(may_open.get("message") or ""),
            warn_code=str(may_open.get("warn_code") or ""),
            grace_days_left=int(may_open.get("grace_days_left") or 0),
            tills=int(status.get("tills") or 0),
            licence_id=str(status.get("licence_id") or ""),
        )


@dataclass(frozen=True, slots=True)
class OpenDay:
    till: str
    business_day: str
    float: int
    licence: LicenceAnswer

    def decide(self, book: Book) -> DayOpened:
        lic = self.licence
        check_till_count(self.till, lic.tills, lic.licence_id, list(book.days.days))
        if not lic.ok:
            raise Conflict(
                "day.licence_refused",
                lic.message or "the licence refuses",
                licence_code=lic.code,
                grace_days_left=lic.grace_days_left,
            )
        return DayOpened(
            till=self.till,
            business_day=self.business_day,
            float=self.float,
            licence_code=lic.warn_code or lic.code,
            grace_days_left=lic.grace_days_left,
        )


@dataclass(frozen=True, slots=True)
class ZStep:
    """One Z report to record after a close: a till's (``till`` set) or the store's (``""``)."""

    scope: str  # "till" | "store"
    till: str
    business_day: str


def z_sequence(till: str, business_day: str, days: Mapping[str, Mapping[str, Any]]) -> list[ZStep]:
    """The Z reports a close of ``till``'s ``business_day`` records, in order: the till's, then
    the store's if ``days`` (every till's day after the close) has no open till of that day."""
    steps = [ZStep("till", till, business_day)]
    if not any(d.get("open") and d.get("business_day") == business_day for d in days.values()):
        steps.append(ZStep("store", "", business_day))
    return steps
