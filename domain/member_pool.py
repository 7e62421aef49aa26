"""HQ's side of the chain rule (``domain.member_float``): the members' pool.

HQ folds each store's uploaded events, in order, through the store's own rule (one
``member_float.Floats`` per store), so it knows each store's float and what each store's credits
sent past its cap to the pool. Besides that it records what it gave out itself: an
authorisation (``authorise``, idempotent by the store's key) or a grant (``grant``, idempotent by
the store's request id) moves money from the pool to one store's float. Until that store's upload
shows the ``member.authorised`` / ``member.float_granted`` event the money is *in transit*.

    pool       = opening balances + Σ stores' credits past their cap − Σ given out
    balance    = pool + Σ stores' floats + in transit

HQ gives out only what the pool holds, so the pool never goes below zero; the stores' floats
never do either (``member_float.check_spend``). Once every store's uploads have drained,
``balance`` is exactly the member's top-ups and refunds minus their spends, chain-wide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.error_codes.chain import Chain
from domain.errors import Conflict, InvalidInput
from domain.exchange_events import OrderExchanged
from domain.member_float import UNLIMITED, Floats, kind_of
from domain.member_points import PointsFold

__all__ = ["Given", "Pool"]


@dataclass(frozen=True, slots=True)
class Given:
    """Money HQ moved from the pool to a store's float (or, ``what="opening"``, into the pool)."""

    id: str  # the auth / grant id the store journals
    key: str  # the store's idempotency key (authorise) or request id (float)
    what: str  # auth | grant | opening
    store: str
    member: str
    kind: str
    amount: int  # 0: nothing given (refused, or nothing to grant), not recorded

    def asked(self) -> tuple[str, str, str, str]:
        return (self.what, self.store, self.member, self.kind)


@dataclass(slots=True)
class Pool:
    stores: dict[str, Floats] = field(default_factory=dict)
    given: dict[str, Given] = field(default_factory=dict)  # key -> what HQ gave for it
    asked_amount: dict[str, int] = field(default_factory=dict)  # key -> amount an auth asked
    points: dict[str, PointsFold] = field(default_factory=dict)  # store -> its points, derived

    def fold(self, store: str, body: Any, ts: int = 0) -> None:
        """One uploaded event of ``store`` (committed at ``ts``), in the store's order."""
        if isinstance(body, OrderExchanged):  # its returned part, then its sold part (as the book)
            for part in body.parts():
                self.fold(store, part, ts)
            return
        floats = self.stores.setdefault(store, Floats())
        floats.apply(body)
        moves = self.points.setdefault(store, PointsFold()).fold(body, ts)
        if moves:  # the points the store's book derived, derived here the same way
            floats.points(moves)

    # ------------------------------------------------------------ balances
    def pool(self, member: str, kind: str = "wallet") -> int:
        sent = sum(f.pooled.get((member, kind), 0) for f in self.stores.values())
        out = 0
        for g in self.given.values():
            if g.member == member and g.kind == kind:
                out += -g.amount if g.what == "opening" else g.amount
        return sent - out

    def floats(self, member: str, kind: str = "wallet") -> dict[str, int]:
        return {
            s: f.held[(member, kind)]
            for s, f in sorted(self.stores.items())
            if (member, kind) in f.held
        }

    def in_transit(self, member: str, kind: str = "wallet", store: str | None = None) -> int:
        return sum(
            g.amount
            for g in self.given.values()
            if g.member == member
            and g.kind == kind
            and g.what != "opening"
            and (store is None or g.store == store)
            and g.id not in self.stores.get(g.store, Floats()).grants
        )

    def balance(self, member: str, kind: str = "wallet") -> int:
        return (
            self.pool(member, kind)
            + sum(self.floats(member, kind).values())
            + self.in_transit(member, kind)
        )

    # ------------------------------------------------------------ giving out
    def _repeat(self, key: str, asked: tuple[str, str, str, str], amount: int) -> Given | None:
        g = self.given.get(key)
        if g is None:
            return None
        if g.asked() != asked or self.asked_amount.get(key, amount) != amount:
            raise Conflict(Chain.KEY_REUSED, "this key was used for another request", key=key)
        return g

    def authorise(
        self, key: str, store: str, member: str, kind: str, amount: int, new_id: str
    ) -> Given:
        """Move ``amount`` from the pool to ``store``'s float for a spend now, all or nothing;
        the same key answers the same. A pool too small gives ``amount=0`` (nothing recorded)."""
        kind_of(kind)
        if not key or amount <= 0:
            raise InvalidInput("input.bad_field", "a key and a positive amount", field="amount")
        again = self._repeat(key, ("auth", store, member, kind), amount)
        if again is not None:
            return again
        if self.pool(member, kind) < amount:
            return Given("", key, "auth", store, member, kind, 0)
        g = Given(new_id, key, "auth", store, member, kind, amount)
        self.given[key], self.asked_amount[key] = g, amount
        return g

    def grant(
        self, key: str, store: str, member: str, kind: str, wanted: int, new_id: str
    ) -> Given:
        """Move up to ``wanted`` (what the store lacks to reach its cap) from the pool to
        ``store``'s float, never past the cap as HQ knows the store's float; idempotent by key."""
        kind_of(kind)
        if not key or wanted < 0:
            raise InvalidInput("input.bad_field", "a request id and an amount >= 0", field="amount")
        again = self._repeat(key, ("grant", store, member, kind), self.asked_amount.get(key, 0))
        if again is not None:
            return again
        floats = self.stores.get(store, Floats())
        cap = floats.caps.of(kind)
        room = wanted
        if cap != UNLIMITED:
            known = floats.held.get((member, kind), 0) + self.in_transit(member, kind, store)
            room = min(room, cap - known)
        amount = max(0, min(room, self.pool(member, kind)))
        if amount == 0:
            return Given("", key, "grant", store, member, kind, 0)
        g = Given(new_id, key, "grant", store, member, kind, amount)
        self.given[key] = g
        return g

    def opening(self, key: str, member: str, kind: str, amount: int) -> Given:
        """An opening balance put in the pool (HQ's member import); idempotent by key."""
        kind_of(kind)
        again = self._repeat(key, ("opening", "", member, kind), self.asked_amount.get(key, 0))
        if again is not None:
            return again
        g = Given(key, key, "opening", "", member, kind, amount)
        self.given[key] = g
        return g
