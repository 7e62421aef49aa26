"""The chain rule for members' money: HQ's pool plus each store's float.

A member's money of one kind (``wallet`` minor units, ``points``) chain-wide is HQ's POOL plus each
store's FLOAT for that member:

* a store spends from its own float only; more than the float needs HQ's authorisation, which
  moves the rest from the pool to the float first (``member.authorised``, online only);
* a credit at a store (a top-up, a refund of a wallet spend, points earned) fills the store's float
  up to the cap (``store.json`` ``members: {float_cap_wallet, float_cap_points}``, journaled as
  ``member.float_caps``) and the excess goes to the pool (``split_credit``);
* a store online may ask HQ to move pool → float up to the cap (``member.float_granted``).

``Floats`` folds a store's events in order; the store's book runs it before every commit, and HQ
runs the same class over each store's uploaded events, so both know every float exactly and HQ
knows what each store sent to the pool. A float never goes below zero (``check_spend`` refuses a
spend over it), the pool never does (HQ grants only what it holds), and a store cut off from HQ
can spend at most what its floats hold: the caps (plus an authorisation whose sale was abandoned).
Without caps (the default, a store alone) every credit stays in the float: the float *is* the
wallet, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.error_codes.chain import Chain
from domain.errors import Conflict, InvalidInput
from domain.events import OrderCompleted, OrderRefunded, WalletToppedUp
from domain.member_events import FloatCapsSet, FloatGranted, FloatReturned, MemberAuthorised

__all__ = [
    "KINDS",
    "UNLIMITED",
    "Caps",
    "Floats",
    "split_credit",
    "check_spend",
    "money_moves",
]

KINDS = ("wallet", "points")
UNLIMITED = -1


@dataclass(frozen=True, slots=True)
class Caps:
    """The most a store holds per member and kind; ``UNLIMITED``: no chain rule (a store alone)."""

    wallet: int = UNLIMITED
    points: int = UNLIMITED

    def of(self, kind: str) -> int:
        return self.wallet if kind == "wallet" else self.points

    @property
    def limited(self) -> bool:
        return self.wallet != UNLIMITED or self.points != UNLIMITED

    @classmethod
    def from_config(cls, members: Mapping[str, Any]) -> Caps:
        """``store.json`` ``members: {float_cap_wallet, float_cap_points}`` (absent: unlimited)."""
        out = []
        for key in ("float_cap_wallet", "float_cap_points"):
            v = members.get(key, UNLIMITED)
            if isinstance(v, bool) or not isinstance(v, int) or v < UNLIMITED:
                raise InvalidInput(
                    "input.bad_field", f"members.{key}: a whole number >= 0", field=key
                )
            out.append(v)
        return cls(out[0], out[1])


def kind_of(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(Chain.BAD_KIND, "wallet or points", kind=kind)
    return kind


def split_credit(held: int, amount: int, cap: int) -> tuple[int, int]:
    """A credit of ``amount`` to a store whose float holds ``held``: (to the float, to the pool)."""
    if amount < 0:
        raise InvalidInput("wallet.bad_amount", "a credit is positive")
    if cap == UNLIMITED:
        return amount, 0
    keep = min(amount, max(0, cap - held))
    return keep, amount - keep


def check_spend(held: int, amount: int, member: str, kind: str, limited: bool) -> None:
    """Refuse a spend of ``amount`` over the float ``held`` (the float then stays >= 0).
    ``limited``: the chain rule is on (the error says HQ must authorise the rest)."""
    if amount <= held:
        return
    if not limited:
        raise Conflict(
            "wallet.insufficient_funds",
            "the wallet balance is too low",
            member=member,
            balance=held,
            asked=amount,
        )
    raise Conflict(
        Chain.FLOAT_EXCEEDED,
        "this store holds too little of the member's money; HQ must authorise the rest",
        member=member,
        kind=kind,
        float=held,
        asked=amount,
    )


def money_moves(body: Any) -> list[tuple[str, str, int]]:
    """(member, kind, +credit / -spend) of a store event, in the order they happen."""
    if isinstance(body, WalletToppedUp):
        return [(body.member, "wallet", body.amount)]
    if isinstance(body, OrderCompleted):
        out: list[tuple[str, str, int]] = []
        for p in body.payments:  # points: derived by the loyalty book (``Floats.points``)
            if p.kind == "wallet":
                out.append((p.member, "wallet", -p.amount))
        return out
    if isinstance(body, OrderRefunded):
        return [(t.member, "wallet", t.amount) for t in body.tenders if t.kind == "wallet"]
    return []


@dataclass(slots=True)
class Floats:
    """One store's floats per (member, kind), what it sent to the pool, and HQ's grants it took."""

    caps: Caps = field(default_factory=Caps)
    held: dict[tuple[str, str], int] = field(default_factory=dict)
    pooled: dict[tuple[str, str], int] = field(default_factory=dict)  # credits past the cap
    grants: dict[str, int] = field(default_factory=dict)  # grant/auth id -> amount taken
    short: int = 0  # spends applied over a float (an event journaled before the rule): never here
    pending: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # auth: unspent yet
    returned: set[str] = field(default_factory=set)  # authorisations given back to the pool

    def float(self, member: str, kind: str = "wallet") -> int:
        return self.held.get((member, kind), 0)

    def check_spends(self, body: OrderCompleted) -> None:
        """Refuse an order whose spends of a member's money exceed this store's float."""
        need: dict[tuple[str, str], int] = {}
        for member, kind, delta in money_moves(body):
            need[(member, kind)] = need.get((member, kind), 0) - delta
        if self.caps.points != UNLIMITED:  # points under the rule (else the loyalty book's)
            for p in body.payments:
                if p.kind == "points":
                    need[(p.member, "points")] = need.get((p.member, "points"), 0) + p.points
        for (member, kind), amount in need.items():
            check_spend(self.float(member, kind), amount, member, kind, self.caps.limited)

    def check_after(self, credit: Any, order: OrderCompleted) -> None:
        """Refuse ``order``'s spends if they exceed the float once ``credit`` (an exchange's
        returned part) has gone in, split by the cap like any credit."""
        trial = Floats(self.caps, dict(self.held))
        trial.apply(credit)
        trial.check_spends(order)

    def check(self, body: Any) -> Any:
        """Check one of the chain's own events before it commits."""
        if isinstance(body, (FloatGranted, MemberAuthorised)):
            kind_of(body.kind)
            if body.amount <= 0:
                raise InvalidInput("wallet.bad_amount", "a grant is positive")
            gid = body.grant if isinstance(body, FloatGranted) else body.auth
            if not gid or gid in self.grants:
                raise Conflict(Chain.GRANT_TWICE, "this grant was already taken", grant=gid)
        elif isinstance(body, FloatReturned):
            held = self.float(body.member, kind_of(body.kind))
            if body.ref in self.returned or body.ref not in self.grants:
                raise Conflict(
                    Chain.GRANT_TWICE, "this authorisation was given back", grant=body.ref
                )
            if not 0 < body.amount <= held:
                raise InvalidInput("wallet.bad_amount", "give back a part of the float")
        return body

    def apply(self, body: Any) -> None:
        if isinstance(body, FloatCapsSet):
            self.caps = Caps(body.wallet, body.points)
        elif isinstance(body, (FloatGranted, MemberAuthorised)):
            gid = body.grant if isinstance(body, FloatGranted) else body.auth
            if gid in self.grants:
                return  # HQ counts a grant once, and so does the store
            self.grants[gid] = body.amount
            key = (body.member, body.kind)
            self.held[key] = self.held.get(key, 0) + body.amount
            if isinstance(body, MemberAuthorised):
                self.pending[gid] = (body.member, body.kind, body.amount)
        elif isinstance(body, FloatReturned):  # from the float to the pool, once per ref
            if body.ref not in self.returned:
                self.returned.add(body.ref)
                self.pending.pop(body.ref, None)
                key = (body.member, body.kind)
                self.held[key] = self.held.get(key, 0) - body.amount
                self.pooled[key] = self.pooled.get(key, 0) + body.amount
        else:
            if isinstance(body, OrderCompleted) and self.pending:
                for p in body.payments:  # an authorisation spent by the sale it was for
                    self.pending.pop(p.auth, None)
            for member, kind, delta in money_moves(body):
                self._move(member, kind, delta)

    def points(self, moves: list[tuple[str, int]]) -> None:
        """Points earned, spent or given back by an order or a refund, as the loyalty book
        derived them (``LoyaltyBook.take_moves``: the store's book, and HQ's ``PointsFold``)."""
        for member, delta in moves:
            if delta >= 0:
                self._move(member, "points", delta)
            else:  # a take-back beyond the float is not clawed back (spent already): not short
                key = (member, "points")
                self.held[key] = self.held.get(key, 0) - min(self.held.get(key, 0), -delta)

    def _move(self, member: str, kind: str, delta: int) -> None:
        key = (member, kind)
        held = self.held.get(key, 0)
        if delta >= 0:
            keep, pool = split_credit(held, delta, self.caps.of(kind))
            self.held[key] = held + keep
            if pool:
                self.pooled[key] = self.pooled.get(key, 0) + pool
            return
        take = min(held, -delta)
        self.held[key] = held - take
        self.short += -delta - take

    # ------------------------------------------------------------ snapshot
    def state(self) -> dict[str, Any]:
        return {
            "caps": [self.caps.wallet, self.caps.points],
            "held": [[m, k, v] for (m, k), v in sorted(self.held.items())],
            "pooled": [[m, k, v] for (m, k), v in sorted(self.pooled.items())],
            "grants": sorted(self.grants.items()),
            "short": self.short,
            "points_rule": 1,  # points are under the rule (a state without it: seed_points)
            "pending": [[a, m, k, v] for a, (m, k, v) in sorted(self.pending.items())],
            "returned": sorted(self.returned),
        }

    @classmethod
    def from_state(cls, s: Mapping[str, Any]) -> Floats:
        return cls(
            caps=Caps(*s["caps"]),
            held={(m, k): v for m, k, v in s["held"]},
            pooled={(m, k): v for m, k, v in s["pooled"]},
            grants={g: v for g, v in s["grants"]},
            short=s.get("short", 0),
            pending={a: (m, k, v) for a, m, k, v in s.get("pending", [])},
            returned=set(s.get("returned", [])),
        )

    def seed_points(self, balances: Mapping[str, int]) -> None:
        """A state written before points followed the rule: each member's points stayed in the
        store (as the wallet did before the rule), so the float is their balance here."""
        for member, pts in balances.items():
            if pts > 0:
                self.held[(member, "points")] = pts
