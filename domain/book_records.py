"""What the book keeps of each completed order (``OrderRecord``) and each member (``Member``), and
the refund decision against an order's record (``decide_refund``: whole or by line, cumulative
shares so parts add up exactly, back to the original tenders wallet and card first).

``OrderTable`` and ``NumberIndex`` are the book's order and number maps; a book attached to an
``Archive`` (the journal) keeps only its recent orders in memory and fetches an older one (or the
order behind an old number) from the archive on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import OrderCompleted, OrderRefunded, Payment, RefundLine
from domain.money import div_round, round_cash

__all__ = [
    "TENDER_ORDER",
    "Archive",
    "Member",
    "NumberIndex",
    "OrderRecord",
    "OrderTable",
    "decide_refund",
    "find_member",
]

# points and coupons first, by the refunded share only (domain.loyalty_book); then wallet, card,
# QR before cash
TENDER_ORDER = {"points": -1, "coupon": -1, "wallet": 0, "card": 1, "qr": 1, "cash": 2}


@dataclass
class OrderRecord:
    order: OrderCompleted
    staff: str
    till: str
    ts: int
    seq: int
    refunded_qty: dict[str, int] = field(default_factory=dict)
    refunded_amount: dict[str, int] = field(default_factory=dict)
    refunded_tender: list[int] = field(default_factory=list)
    frozen: bool = False
    frozen_reason: str = ""
    refunds: list[str] = field(default_factory=list)
    refund_numbers: list[str] = field(default_factory=list)  # "" for refunds journaled unnumbered

    def record_refund(self, body: OrderRefunded) -> None:
        """What refund ``body`` gave back, per line and per tender (the book, HQ's points)."""
        self.refunds.append(body.refund_id)
        self.refund_numbers.append(body.number)
        for rl in body.lines:
            self.refunded_qty[rl.line_id] = self.refunded_qty.get(rl.line_id, 0) + rl.qty
            self.refunded_amount[rl.line_id] = self.refunded_amount.get(rl.line_id, 0) + rl.amount
        for t in body.tenders:
            left = t.amount
            for idx, p in enumerate(self.order.payments):
                if (p.kind, p.member, p.reference) != (t.kind, t.member, t.reference):
                    continue
                take = min(left, p.amount - self.refunded_tender[idx])
                self.refunded_tender[idx] += take
                left -= take

    @property
    def refunded_total(self) -> int:
        return sum(self.refunded_amount.values())

    @property
    def fully_refunded(self) -> bool:
        return all(self.refunded_qty.get(ln.line_id, 0) >= ln.qty for ln in self.order.lines)

    def to_dict(self) -> dict[str, Any]:
        import msgspec

        return {
            "order": msgspec.to_builtins(self.order),
            "staff": self.staff,
            "till": self.till,
            "ts": self.ts,
            "seq": self.seq,
            "refunded_qty": dict(self.refunded_qty),
            "refunded_amount": dict(self.refunded_amount),
            "frozen": self.frozen,
            "frozen_reason": self.frozen_reason,
            "refunds": list(self.refunds),
            "refund_numbers": list(self.refund_numbers),
            "refunded_total": self.refunded_total,
        }


class Archive(Protocol):
    """Where a book finds what it dropped from memory: the journal, read by aggregate."""

    def order_events(self, order_id: str, upto: int) -> list[tuple[Any, str, str, int, int]]:
        """(body, staff, till, ts, seq) of the order's events with seq <= ``upto``, in order."""
        ...

    def closed(self, basket: str, upto: int) -> bool:
        """Whether the basket was completed or voided by seq ``upto``."""
        ...

    def number(self, key: str) -> str | None:
        """The order id behind a (normalised) order or refund number of a dropped order."""
        ...


class OrderTable(dict[str, OrderRecord]):
    """Order id -> record; with ``load`` set, a record not in memory is loaded on first use
    (``get`` and ``[]``; ``in`` and iteration see only what is in memory)."""

    load: Callable[[str], OrderRecord | None] | None = None

    def _fetch(self, key: str) -> OrderRecord | None:
        rec = self.load(key) if self.load is not None else None
        if rec is not None:
            self[key] = rec
        return rec

    def __missing__(self, key: str) -> OrderRecord:
        rec = self._fetch(key)
        if rec is None:
            raise KeyError(key)
        return rec

    def get(self, key: str, default: Any = None) -> Any:
        rec = dict.get(self, key)
        return rec if rec is not None else (self._fetch(key) or default)


class NumberIndex(dict[str, str]):
    """Normalised number -> order id; with ``load`` set, a number not in memory is asked there."""

    load: Callable[[str], str | None] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        found = dict.get(self, key)
        if found is None and self.load is not None:
            found = self.load(key)
        return found if found is not None else default


@dataclass(frozen=True, slots=True)
class Member:
    member: str
    name: str
    phone: str = ""
    card: str = ""
    consent: bool = False
    home: str = ""


def find_member(members: dict[str, Member], key: str) -> Member:
    """A member by id, card number or phone."""
    if key in members:
        return members[key]
    for m in members.values():
        if key and key in (m.phone, m.card):
            return m
    raise NotFound("member.not_found", "no member with that id, card or phone")


def decide_refund(
    rec: OrderRecord,
    refund_id: str,
    lines: dict[str, int] | None,
    cash_increment: int = 1,
    reason: str = "",
) -> OrderRefunded:
    """Refund whole (``lines`` None) or by line ``{line_id: qty}`` back to the original tenders."""
    if rec.frozen:
        raise Conflict(
            "order.frozen",
            "this order is frozen; a manager must unfreeze it first",
            reason=rec.frozen_reason,
        )
    by_id = {ln.line_id: ln for ln in rec.order.lines}
    if lines is None:
        lines = {ln.line_id: ln.qty - rec.refunded_qty.get(ln.line_id, 0) for ln in rec.order.lines}
        lines = {k: v for k, v in lines.items() if v > 0}
        if not lines:
            raise Conflict("refund.nothing_left", "everything in this order was refunded already")
    if not lines:
        raise InvalidInput("refund.no_lines", "choose what to refund")
    out: list[RefundLine] = []
    for line_id, qty in lines.items():
        ln = by_id.get(line_id)
        if ln is None:
            raise NotFound("refund.line_not_found", f"order has no line {line_id}", line_id=line_id)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise InvalidInput("refund.bad_quantity", "refund a positive whole quantity")
        done = rec.refunded_qty.get(line_id, 0)
        left = ln.qty - done
        if qty > left:
            raise Conflict(
                "refund.exceeds_paid",
                "cannot refund more than was sold",
                line_id=line_id,
                left=left,
                asked=qty,
            )
        # cumulative shares: each refund gives the rounded share of everything refunded so far
        # minus what was already given, so parts stay fair and add up exactly to the line
        amount_left = ln.total - rec.refunded_amount.get(line_id, 0)
        amount = max(
            0,
            min(
                amount_left,
                div_round(ln.total * (done + qty), ln.qty) - rec.refunded_amount.get(line_id, 0),
            ),
        )
        tax = div_round(ln.tax * (done + qty), ln.qty) - div_round(ln.tax * done, ln.qty)
        out.append(RefundLine(line_id=line_id, sku=ln.sku, qty=qty, amount=amount, tax=tax))
    amount = sum(r.amount for r in out)
    final = all(
        rec.refunded_qty.get(ln.line_id, 0) + lines.get(ln.line_id, 0) >= ln.qty
        for ln in rec.order.lines
    )
    # allocate to the original tenders: points and coupons their share of what is refunded so
    # far, then wallet, card, cash (cash rounded to the increment); what the others cannot take
    # (their room is gone) goes to points, then coupons, beyond their share
    pays = list(enumerate(rec.order.payments))
    refunded = rec.refunded_tender or [0] * len(pays)
    left_amount = amount
    give: dict[int, int] = {}
    for idx, p in sorted(pays, key=lambda ip: TENDER_ORDER.get(ip[1].kind, 9)):
        remaining = p.amount - refunded[idx]
        if p.kind in ("points", "coupon"):  # its share of the order refunded so far, not more
            share = p.amount * (rec.refunded_total + amount) // max(1, rec.order.total)
            g = min(left_amount, remaining, share - refunded[idx])
        elif p.kind != "cash":
            g = min(left_amount, remaining)
        else:
            g = remaining if final else min(remaining, round_cash(left_amount, cash_increment))
        if g > 0:
            give[idx] = g
            left_amount -= g
    for idx, p in sorted(pays, key=lambda ip: ip[1].kind != "points"):
        if left_amount > 0 and p.kind in ("points", "coupon"):
            g = min(left_amount, p.amount - refunded[idx] - give.get(idx, 0))
            if g > 0:
                give[idx] = give.get(idx, 0) + g
                left_amount -= g
    tenders = [
        Payment(
            kind=p.kind,
            amount=give[idx],
            reference=p.reference,
            last4=p.last4,
            member=p.member,
            provider=p.provider,
            key=p.key,
        )
        for idx, p in sorted(pays, key=lambda ip: TENDER_ORDER.get(ip[1].kind, 9))
        if idx in give
    ]
    given = sum(t.amount for t in tenders)
    return OrderRefunded(
        refund_id=refund_id,
        order_id=rec.order.order_id,
        currency=rec.order.currency,
        lines=tuple(out),
        tenders=tuple(tenders),
        amount=amount,
        rounding=given - amount,
        reason=reason[:200],
        original_staff=rec.staff,
        original_ts=rec.ts,
    )
