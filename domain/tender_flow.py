"""A non-cash tender's state machine, checked where commits are serialised (the book).

    pending ──▶ succeeded ──▶ used by one order (``OrderCompleted`` names its key)
       │
       ├──▶ failed
       ├──▶ cancelled ──┐
       └──▶ timed_out ──┴──▶ a success arriving late:
                               · its basket still open   → succeeded (the tender may pay it)
                               · its basket paid/voided  → ``payment.late_success``, flagged to
                                                           refund or void at the provider

Rules: a key names one tender for ever (a retry of the same request is the same tender: the
provider is asked with the key, so it never charges twice); only a pending tender fails, is
cancelled or times out; an order may use a tender only once it succeeded, for its own basket, for
exactly its amount, and only once. A tender that succeeded but whose basket was then voided is
money to give back too: ``to_refund`` lists both kinds for the manager.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import OrderCompleted, Payment
from domain.money import CEILING, check_amount
from domain.payment_events import (
    PaymentCancelled,
    PaymentFailed,
    PaymentLateSuccess,
    PaymentStarted,
    PaymentSucceeded,
    PaymentTimedOut,
)

__all__ = [
    "PENDING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "TIMED_OUT",
    "LATE",
    "STATES",
    "NON_CASH",
    "TenderState",
    "TenderBook",
]

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
CANCELLED, TIMED_OUT, LATE = "cancelled", "timed_out", "late_success"
STATES = (PENDING, SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, LATE)
NON_CASH = ("qr", "card")  # tender kinds taken through a provider
_ENDED = {PaymentFailed: FAILED, PaymentCancelled: CANCELLED, PaymentTimedOut: TIMED_OUT}


@dataclass
class TenderState:
    key: str
    ref: str
    kind: str
    provider: str
    amount: int
    currency: str
    till: str = ""
    state: str = PENDING
    reference: str = ""
    last4: str = ""
    started_us: int = 0
    ended_us: int = 0
    used_by: str = ""  # the order that took this tender
    late: bool = False  # succeeded after it had timed out, been cancelled or failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "ref": self.ref,
            "kind": self.kind,
            "provider": self.provider,
            "amount": self.amount,
            "currency": self.currency,
            "till": self.till,
            "state": self.state,
            "reference": self.reference,
            "last4": self.last4,
            "started_us": self.started_us,
            "ended_us": self.ended_us,
            "used_by": self.used_by,
            "late": self.late,
        }


class TenderBook:
    """Every tender by key: checked before a payment event commits, applied after."""

    def __init__(self) -> None:
        self.tenders: dict[str, TenderState] = {}

    def get(self, key: str) -> TenderState:
        t = self.tenders.get(key)
        if t is None:
            raise NotFound("payment.unknown_tender", "no such payment", key=key)
        return t

    # ------------------------------------------------------------ check (before commit)
    def check(self, body: Any, closed: Collection[str]) -> Any:
        """Refuse an illegal transition; a late success for a basket already closed (paid another
        way or voided) comes back as ``PaymentLateSuccess``. ``closed``: baskets completed or
        voided."""
        if isinstance(body, PaymentStarted):
            if body.key in self.tenders:
                raise Conflict(
                    "payment.key_taken", "this payment key was used before", key=body.key
                )
            if body.kind not in NON_CASH:
                raise InvalidInput("payment.bad_kind", "a provider takes qr or card payments")
            if body.amount <= 0:
                raise InvalidInput("payment.bad_amount", "payment amounts are positive")
            check_amount(body.amount, CEILING, "amount")
            if not body.ref:
                raise InvalidInput("payment.no_basket", "a payment is for a basket")
            if body.ref in closed:
                raise Conflict("basket.closed", "this basket was completed or voided")
            return body
        t = self.get(body.key)
        if isinstance(body, PaymentSucceeded):
            if t.state == SUCCEEDED or t.state == LATE:
                raise Conflict("payment.already_succeeded", "this payment already succeeded")
            if t.state != PENDING and t.ref in closed:
                return PaymentLateSuccess(
                    key=t.key,
                    ref=t.ref,
                    provider=t.provider,
                    amount=t.amount,
                    currency=t.currency,
                    reference=body.reference,
                    last4=body.last4,
                    via=body.via,
                )
            return body
        if isinstance(body, PaymentLateSuccess):
            if t.state not in (FAILED, CANCELLED, TIMED_OUT) or t.ref not in closed:
                raise Conflict("payment.not_late", "this payment is not a late one")
            return body
        if type(body) in _ENDED:
            if t.state != PENDING:
                raise Conflict(
                    "payment.not_pending", "this payment is no longer waiting", state=t.state
                )
            return body
        return body

    def check_order(self, o: OrderCompleted) -> OrderCompleted:
        """Each non-cash payment naming a key must be a succeeded tender of this basket, for its
        amount, not used before; its provider's reference and card digits come from the tender."""
        seen: set[str] = set()
        out: list[Payment] = []
        for p in o.payments:
            if not p.key:
                if p.kind == "qr":
                    raise InvalidInput("payment.no_key", "a QR payment names its payment key")
                out.append(p)
                continue
            t = self.tenders.get(p.key)
            if t is None:
                raise NotFound("payment.unknown_tender", "no such payment", key=p.key)
            if t.used_by or p.key in seen:
                raise Conflict("payment.tender_used", "this payment paid another order", key=p.key)
            if t.state != SUCCEEDED:
                raise Conflict(
                    "payment.tender_not_succeeded",
                    "this payment has not succeeded",
                    key=p.key,
                    state=t.state,
                )
            if t.ref != o.order_id or t.kind != p.kind or t.amount != p.amount:
                raise Conflict(
                    "payment.tender_mismatch",
                    "this payment was for another basket, kind or amount",
                    key=p.key,
                )
            seen.add(p.key)
            out.append(
                replace(p, provider=t.provider, reference=t.reference or p.reference, last4=t.last4)
            )
        return replace(o, payments=tuple(out)) if seen else o

    # ------------------------------------------------------------ apply (after commit)
    def apply(self, body: Any, till: str, ts: int) -> None:
        if isinstance(body, PaymentStarted):
            self.tenders[body.key] = TenderState(
                key=body.key,
                ref=body.ref,
                kind=body.kind,
                provider=body.provider,
                amount=body.amount,
                currency=body.currency,
                till=till,
                reference=body.reference,
                started_us=ts,
            )
        elif isinstance(body, OrderCompleted):
            for p in body.payments:
                if p.key and p.key in self.tenders:
                    self.tenders[p.key].used_by = body.order_id
            return
        t = self.tenders.get(getattr(body, "key", ""))
        if t is None:
            return
        if isinstance(body, (PaymentSucceeded, PaymentLateSuccess)):
            t.late = t.state != PENDING
            t.state = SUCCEEDED if isinstance(body, PaymentSucceeded) else LATE
            t.reference = body.reference or t.reference
            t.last4 = body.last4
            t.ended_us = ts
        elif type(body) in _ENDED:
            t.state = _ENDED[type(body)]
            t.ended_us = ts

    # ------------------------------------------------------------ reads
    def to_refund(self, closed: Collection[str]) -> list[dict[str, Any]]:
        """Money taken that no order holds: late successes, and successes whose basket was voided
        (or completed without them). The manager refunds or voids these at the provider."""
        out = []
        for t in self.tenders.values():
            if t.state == LATE or (t.state == SUCCEEDED and not t.used_by and t.ref in closed):
                out.append({**t.to_dict(), "action": "refund"})
        return out
