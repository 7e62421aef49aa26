"""Reconciling journaled payments with a payment provider's settlement statement (pure).

``reconcile(journaled, statement)`` pairs each statement row with at most one journaled payment:

1. by reference (the provider's reference the till journaled on the payment, ``Payment.reference``;
   case and spaces ignored) and sign (a sale with a sale, a refund with a refund);
2. what is left, by amount within a date window (``window_us``, default 3 days: a provider settles
   a day or two late), the nearest in time first.

A pair whose amounts agree is ``matched``; one whose amounts differ is ``amount_differs`` (with the
difference). A journaled payment no row took is ``missing`` (the provider did not settle it); a
row no payment took is ``extra`` (money the store never journaled). Fee rows (a statement's own
rows for fees, ``StatementRow.fee_only``) are not matched; every row's fee is summed in ``fees``.
Amounts are integer minor units; times UTC microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Journaled",
    "StatementRow",
    "Pair",
    "Reconciliation",
    "reconcile",
    "DEFAULT_WINDOW_US",
    "STATUSES",
]

DEFAULT_WINDOW_US = 3 * 86_400_000_000
STATUSES = ("matched", "amount_differs", "missing", "extra")


@dataclass(frozen=True, slots=True)
class Journaled:
    """A payment (amount > 0) or money given back (amount < 0) as the store journaled it."""

    reference: str
    amount: int
    at_us: int
    kind: str = ""  # the tender kind (card, qr, ...)
    provider: str = ""
    order_id: str = ""
    store: str = ""


@dataclass(frozen=True, slots=True)
class StatementRow:
    reference: str
    amount: int  # gross, minor units; < 0 for a refund
    at_us: int
    fee: int = 0
    line: int = 0  # the row's number in the file, for the report
    fee_only: bool = False  # a row of fees, not a payment


@dataclass(frozen=True, slots=True)
class Pair:
    status: str  # one of STATUSES
    journaled: Journaled | None
    row: StatementRow | None
    how: str = ""  # "reference" or "amount+date" for a pair
    difference: int = 0  # statement minus journal (amount_differs)

    def to_row(self) -> dict[str, Any]:
        j, r = self.journaled, self.row
        return {
            "status": self.status,
            "how": self.how,
            "reference": (j.reference if j else "") or (r.reference if r else ""),
            "journal_amount": j.amount if j else None,
            "statement_amount": r.amount if r else None,
            "difference": self.difference,
            "fee": r.fee if r else 0,
            "journal_at_us": j.at_us if j else None,
            "statement_at_us": r.at_us if r else None,
            "order_id": j.order_id if j else "",
            "store": j.store if j else "",
            "line": r.line if r else None,
        }


@dataclass
class Reconciliation:
    pairs: list[Pair] = field(default_factory=list)
    fees: int = 0

    def of(self, status: str) -> list[Pair]:
        return [p for p in self.pairs if p.status == status]

    def summary(self) -> dict[str, int]:
        out = {s: len(self.of(s)) for s in STATUSES}
        out["fees"] = self.fees
        out["journaled"] = sum(p.journaled.amount for p in self.pairs if p.journaled)
        out["statement"] = sum(p.row.amount for p in self.pairs if p.row)
        return out


def _key(reference: str) -> str:
    return "".join(reference.split()).upper()


def reconcile(
    journaled: Iterable[Journaled],
    statement: Iterable[StatementRow],
    window_us: int = DEFAULT_WINDOW_US,
) -> Reconciliation:
    out = Reconciliation()
    rows: list[StatementRow] = []
    for r in statement:
        out.fees += r.fee
        if not r.fee_only:
            rows.append(r)
    left = list(journaled)
    used = [False] * len(left)
    by_ref: dict[tuple[str, bool], list[int]] = {}
    for i, j in enumerate(left):
        if j.reference.strip():
            by_ref.setdefault((_key(j.reference), j.amount > 0), []).append(i)
    rest: list[StatementRow] = []
    for r in rows:
        found = None
        for i in by_ref.get((_key(r.reference), r.amount > 0), []) if r.reference.strip() else []:
            if not used[i]:
                found = i
                break
        if found is None:
            rest.append(r)
            continue
        used[found] = True
        out.pairs.append(_pair(left[found], r, "reference"))
    for r in sorted(rest, key=lambda x: (x.at_us, x.line)):
        best, gap = None, window_us + 1
        for i, j in enumerate(left):
            if used[i] or j.amount != r.amount:
                continue
            d = abs(j.at_us - r.at_us)
            if d < gap:
                best, gap = i, d
        if best is None:
            out.pairs.append(Pair("extra", None, r))
            continue
        used[best] = True
        out.pairs.append(_pair(left[best], r, "amount+date"))
    for i, j in enumerate(left):
        if not used[i]:
            out.pairs.append(Pair("missing", j, None))
    return out


def _pair(j: Journaled, r: StatementRow, how: str) -> Pair:
    if j.amount == r.amount:
        return Pair("matched", j, r, how)
    return Pair("amount_differs", j, r, how, r.amount - j.amount)
