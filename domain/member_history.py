"""A member's orders at the OTHER stores, as HQ knows them: the tier follows the member chain-wide.

A store's book counts its own orders for a member's tier (``domain.loyalty.tier_of``). HQ knows the
member's orders at every store (each store's ``PointsFold``, derived from its uploads), so it can
tell a store what the member did elsewhere; the store journals that as ``member.history`` and from
then on the book computes the tier over its own orders plus the latest history. The ledger decides
from its own journal alone, so a replay gives the same tier, and offline the last history stands.

* ``member.history {member, version, as_of_us, days}``: ``days`` is the member's completed orders
  at every store but the asking one, summed per UTC day: ``(ts, spend, visits)`` with ``ts`` the
  time of the day's last order there, net spend less refunds, visits (a refunded-in-full order
  counts none). ``version`` is HQ's change number (the store's pull cursor); a newer history
  replaces the older one whole, an older one changes nothing.
* No double counting: HQ leaves the asking store's own orders out, and a history counts only the
  orders of stores' own ``visits`` (never the histories those stores were given).
* HQ sends the orders in the asking store's widest tier window (at least 366 days); the book's
  windows then drop them as they age, so demotion needs no new event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.error_codes.tiers15c import MemberHistoryCode
from domain.errors import InvalidInput
from domain.events import OrderCompleted, OrderRefunded, register
from domain.exchange_events import OrderExchanged
from domain.loyalty import DAY_US, LoyaltyRules, Visit

__all__ = ["MemberHistory", "check_history", "history_visits", "history_for", "touched"]

MAX_DAYS = 3_700  # the widest tier window is 3660 days
MAX_FIGURE = 10**15


@register("member.history")
@dataclass(frozen=True, slots=True)
class MemberHistory:
    """HQ's summary of the member's orders at the other stores (per day), as of ``as_of_us``."""

    member: str
    version: int
    as_of_us: int
    days: tuple[tuple[int, int, int], ...] = ()  # (ts, spend, visits), one per UTC day

    @property
    def agg(self) -> str:
        return self.member


def _whole(v: Any, top: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, int) and 0 <= v <= top


def check_history(h: MemberHistory) -> MemberHistory:
    """Refuse a history that cannot be counted (``member.bad_history``)."""
    ok = (
        isinstance(h.member, str)
        and 0 < len(h.member) <= 128
        and _whole(h.version, 2**62)
        and _whole(h.as_of_us, 2**62)
        and len(h.days) <= MAX_DAYS
        and all(
            len(d) == 3 and _whole(d[0], 2**62) and _whole(d[1], MAX_FIGURE)
            and _whole(d[2], MAX_FIGURE)
            for d in h.days
        )
    )  # fmt: skip
    if not ok:
        raise InvalidInput(MemberHistoryCode.BAD, "a member's history from HQ is not valid")
    return h


def history_visits(h: MemberHistory | None) -> list[Visit]:
    """The history's days as the tier windows count them (no order id: nothing to refund)."""
    return [] if h is None else [Visit(ts, "", spend, visits) for ts, spend, visits in h.days]


def widest_days(rules: LoyaltyRules | None) -> int:
    days = max((t.window_days for t in rules.tiers), default=0) if rules else 0
    return max(days, 366)


def history_for(
    visits_by_store: Mapping[str, Iterable[Visit]],
    asker: str,
    as_of_us: int,
    window_days: int,
) -> tuple[tuple[int, int, int], ...]:
    """The member's orders at every store but ``asker`` in ``[as_of - window, as_of]``, per UTC
    day: (time of the day's last order, spend, visits), oldest first."""
    start = as_of_us - window_days * DAY_US
    per_day: dict[int, list[int]] = {}
    for store, visits in visits_by_store.items():
        if store == asker:
            continue
        for v in visits:
            if not start <= v.ts <= as_of_us or not (v.spend or v.visits):
                continue
            day = per_day.setdefault(v.ts // DAY_US, [0, 0, 0])
            day[0] = max(day[0], v.ts)
            day[1] += v.spend
            day[2] += v.visits
    return tuple((ts, spend, n) for _, (ts, spend, n) in sorted(per_day.items()))


def touched(body: Any, member_of: Mapping[str, Any]) -> set[str]:
    """The members whose orders ``body`` changes (``member_of``: order id -> its record, whose
    ``order.member`` a refund names)."""
    if isinstance(body, OrderExchanged):
        return {m for part in body.parts() for m in touched(part, member_of)}
    if isinstance(body, OrderCompleted):
        return {body.member} if body.member else set()
    if isinstance(body, OrderRefunded) and body.order_id in member_of:
        member = member_of[body.order_id].order.member
        return {member} if member else set()
    return set()
