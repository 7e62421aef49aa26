"""Short human order and refund numbers, and the index that finds an order by one.

An order is numbered ``<till>-<n>`` (``T1-000123``) and a refund ``R-<till>-<n>`` (``R-T1-000007``),
``n`` counting that till's orders (refunds) in the journal. The ledger's book gives the number when
it checks the event, before the commit, and the number is journaled in the event's body: commits
are serialised, so two tills never get the same number, a restart rebuilds the counters from the
journal (a number is never reused), and a replay reads the same numbers back. Orders journaled
before numbers existed are known by ``short_id`` of their id (the first 8 characters).

``Numbers.find(key)`` answers the order id behind an order number, a refund number or a short id,
typed in any case and with or without the leading zeros (``t1-123`` finds ``T1-000123``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Numbers", "order_number", "refund_number", "short_id", "normalise"]

_DIGITS = 6
_NUMBERED = re.compile(r"(R-)?(.+)-(\d{1,9})")


def order_number(till: str, n: int) -> str:
    return f"{till}-{n:0{_DIGITS}d}" if till else f"{n:0{_DIGITS}d}"


def refund_number(till: str, n: int) -> str:
    return "R-" + order_number(till, n)


def short_id(ident: str) -> str:
    """What a receipt prints for an order or refund journaled without a number: a short id as it
    is, a long one (a UUID) as its first 8 characters."""
    return ident if len(ident) <= 12 else ident.replace("-", "")[:8].upper()


def normalise(key: str) -> str:
    """``key`` as it is indexed: upper case, the counter padded to its six digits."""
    key = key.strip().upper()
    m = _NUMBERED.fullmatch(key)
    if m is None:
        return key
    prefix, till, n = m.groups()
    return (prefix or "") + f"{till}-{int(n):0{_DIGITS}d}"


@dataclass
class Numbers:
    """Per-till counters of orders and refunds, and number -> order id."""

    orders: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)

    def next_order(self, till: str) -> str:
        return order_number(till, self.orders.get(till, 0) + 1)

    def next_refund(self, till: str) -> str:
        return refund_number(till, self.refunds.get(till, 0) + 1)

    def order_done(self, till: str, number: str, order_id: str) -> None:
        self.orders[till] = self.orders.get(till, 0) + 1
        self.index[normalise(number or short_id(order_id))] = order_id

    def refund_done(self, till: str, number: str, order_id: str) -> None:
        self.refunds[till] = self.refunds.get(till, 0) + 1
        if number:
            self.index[normalise(number)] = order_id

    def find(self, key: str) -> str | None:
        return self.index.get(normalise(key))
