"""The book's loyalty state: points per member, coupons and their uses, checked where commits are
serialised (``domain.book`` holds one ``LoyaltyBook`` as ``book.loyalty``).

* A points tender (``Payment(kind="points", member, amount, points)``) needs rules, a member,
  ``points == ceil(amount / point_value)`` and that many points in the member's balance.
* A coupon tender (``Payment(kind="coupon", reference=code, amount)``) needs a known code, valid
  now, with a use left, for this order's member when it names one, an order total of at least its
  minimum spend, and an amount within its worth (``domain.loyalty.coupon_cap``). One use per order.
* An order naming a member earns ``points_for(order, rules, tier)`` with the tier as of the
  order's time from the member's earlier orders; the points redeemed leave the balance.
* A refund reverses, for the refunded share of the order: the points it earned (rounded down:
  toward the customer, and never below zero: points already spent are not clawed back) and the
  points it redeemed (rounded up: toward the customer). A coupon's use comes back only when the
  order is refunded in full.
* The tier counts the member's orders here plus the latest ``member.history`` HQ gave for the
  other stores (``domain.member_history``; ``seen``): the tier follows the member chain-wide.
"""

from __future__ import annotations

from typing import Any

import msgspec

from domain import coupon_chain
from domain import member_discount as tier_discount
from domain.book_records import OrderRecord
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import OrderCompleted, OrderRefunded
from domain.loyalty import (
    DAY_US,
    CouponIssued,
    LoyaltyRules,
    LoyaltyRulesSet,
    Visit,
    check_coupon,
    check_rules,
    coupon_cap,
    net_spend,
    next_tier,
    points_for,
    points_needed,
    tier_of,
)
from domain.member_history import MemberHistory, check_history, history_visits

__all__ = ["LoyaltyBook", "LoyaltyImage", "CouponState", "OrderPoints", "LOYALTY_TYPES"]

LOYALTY_TYPES = (
    LoyaltyRulesSet,
    CouponIssued,
    tier_discount.BasketMemberNamed,
    MemberHistory,
    *coupon_chain.CHAIN_TYPES,
)


class CouponState(msgspec.Struct, array_like=True):
    coupon: CouponIssued
    used: int = 0


class OrderPoints(msgspec.Struct, array_like=True):
    """What an order naming a member did to their points (for refunds)."""

    member: str
    earned: int
    reversed: int = 0  # earned points taken back by refunds so far (before the floor at zero)
    coupons: list[str] = msgspec.field(default_factory=list)
    coupons_back: bool = False


class LoyaltyImage(msgspec.Struct, array_like=True):
    """A ``LoyaltyBook`` as kept in the ledger's snapshot (and HQ's ``PointsFold``)."""

    rules: LoyaltyRules | None
    points: dict[str, int]
    coupons: list[CouponState]
    visits: dict[str, list[Visit]]
    orders: dict[str, OrderPoints]
    last_ts: int
    history: dict[str, MemberHistory] = msgspec.field(default_factory=dict)  # snapshot format 4


def _ceil_share(whole: int, part: int, of: int) -> int:
    return -(-whole * part // of) if of else 0


class LoyaltyBook:
    def __init__(self) -> None:
        self.rules: LoyaltyRules | None = None  # the last ``loyalty.rules_set``
        self.points: dict[str, int] = {}
        self.coupons: dict[str, CouponState] = {}
        self.visits: dict[str, list[Visit]] = {}  # member -> orders inside the widest window
        self.orders: dict[str, OrderPoints] = {}  # order id -> its points, for refunds
        self.history: dict[str, MemberHistory] = {}  # member -> HQ's latest, other stores
        self.last_ts = 0
        self.moved: list[tuple[str, int]] = []  # points changes not yet taken by the floats

    def take_moves(self) -> list[tuple[str, int]]:
        """(member, +earned/returned or -spent/taken back) since the last call, as intended (a
        take-back is bounded by the float, not here): ``domain.member_float.Floats.points``."""
        out, self.moved = self.moved, []
        return out

    def _add(self, member: str, delta: int, bounded: int | None = None) -> None:
        """Change ``member``'s points by ``bounded`` (default ``delta``); the floats get
        ``delta``."""
        if delta:
            self.moved.append((member, delta))
        self.points[member] = self.balance(member) + (delta if bounded is None else bounded)

    @property
    def effective(self) -> LoyaltyRules | None:
        """The rules in force: the last journaled (store.json's are journaled at start)."""
        return self.rules

    def balance(self, member: str) -> int:
        return self.points.get(member, 0)

    def seen(self, member: str) -> list[Visit]:
        """What the member's tier counts: their orders here, and elsewhere as HQ last said."""
        own = self.visits.get(member, [])
        h = self.history.get(member)
        return own if h is None else [*own, *history_visits(h)]

    # ------------------------------------------------------------ check (before commit)
    def check(self, body: Any) -> Any:
        if isinstance(body, LoyaltyRulesSet):
            check_rules(body.rules)
        elif isinstance(body, CouponIssued):
            check_coupon(body)
            if body.code in self.coupons:
                raise Conflict("coupon.exists", "this coupon code is taken", code=body.code)
        elif isinstance(body, tier_discount.BasketMemberNamed):  # the tier's discount, or none
            seen = {body.member: self.seen(body.member)}
            return tier_discount.check_named(body, seen, self.rules, self.last_ts)
        elif isinstance(body, MemberHistory):
            check_history(body)
        elif isinstance(body, coupon_chain.CHAIN_TYPES):  # HQ's grants and revocations
            coupon_chain.check(self.coupons, body)
        return body

    def check_order(self, o: OrderCompleted, members: Any, now_us: int, chain: int = -1) -> None:
        """Refuse an order whose points or coupon tenders cannot be taken. ``chain``: the
        store's points cap (-1: none); with one, the member may be another store's and their
        points are checked against this store's float (``domain.member_float``)."""
        now = now_us or self.last_ts
        seen = {o.member: self.seen(o.member)} if o.member else {}
        tier_discount.check_order(o, seen, self.rules, now)  # a till invents none
        need: dict[str, int] = {}
        codes: set[str] = set()
        for p in o.payments:
            if p.kind == "points":
                rules = self.effective
                if rules is None:
                    raise Conflict("loyalty.off", "this store gives no points")
                if p.member not in members and chain < 0:
                    raise NotFound("member.not_found", "no such member", member=p.member)
                if p.points != points_needed(p.amount, rules):
                    raise InvalidInput(
                        "loyalty.bad_points",
                        "points do not match the amount",
                        points=p.points,
                        needed=points_needed(p.amount, rules),
                    )
                need[p.member] = need.get(p.member, 0) + p.points
            elif p.kind == "coupon":
                if p.reference in codes:
                    raise Conflict("coupon.twice", "a coupon pays once per order")
                codes.add(p.reference)
                self._check_coupon_use(p.reference, p.amount, o, now)
        for member, pts in need.items():
            if self.balance(member) < pts and chain < 0:
                raise Conflict(
                    "loyalty.insufficient_points",
                    "not enough points",
                    member=member,
                    balance=self.balance(member),
                    asked=pts,
                )

    def _check_coupon_use(self, code: str, amount: int, o: OrderCompleted, now: int) -> None:
        st = self.coupons.get(code)
        if st is None:
            raise NotFound("coupon.not_found", "no such coupon", code=code)
        c = st.coupon
        if now < c.valid_from or (c.valid_to and now > c.valid_to):
            raise Conflict("coupon.not_valid_now", "this coupon is not valid today", code=code)
        if st.used >= c.uses:
            raise Conflict("coupon.used_up", "this coupon was used already", code=code)
        if c.member and c.member != o.member:
            raise Conflict("coupon.other_member", "this coupon belongs to another member")
        if o.total < c.min_spend:
            raise Conflict("coupon.min_spend", "the order is below the coupon's minimum spend")
        if amount > coupon_cap(c, o.total):
            raise Conflict("coupon.over_value", "more than the coupon is worth", code=code)

    # ------------------------------------------------------------ apply (after commit)
    def apply(self, body: Any, ts: int) -> None:
        self.last_ts = max(self.last_ts, ts)
        if isinstance(body, LoyaltyRulesSet):
            self.rules = body.rules
        elif isinstance(body, CouponIssued):
            self.coupons[body.code] = CouponState(body)
        elif isinstance(body, coupon_chain.CHAIN_TYPES):
            coupon_chain.apply(self.coupons, body, ts)
        elif isinstance(body, MemberHistory):  # the newest stands; an older one changes nothing
            was = self.history.get(body.member)
            if was is None or body.version >= was.version:
                self.history[body.member] = body

    def apply_order(self, o: OrderCompleted, ts: int) -> None:
        self.last_ts = max(self.last_ts, ts)
        coupons = [p.reference for p in o.payments if p.kind == "coupon"]
        for code in coupons:
            if code in self.coupons:
                self.coupons[code].used += 1
        for p in o.payments:
            if p.kind == "points":
                self._add(p.member, -p.points)
        earned = 0
        if o.member:
            rules = self.effective
            history = self.visits.setdefault(o.member, [])
            earned = points_for(o, rules, tier_of(self.seen(o.member), rules, ts))
            if earned:
                self._add(o.member, earned)
            history.append(Visit(ts, o.order_id, net_spend(o)))
            self._trim(o.member, ts)
        if earned or coupons or any(p.kind == "points" for p in o.payments):
            self.orders[o.order_id] = OrderPoints(o.member, earned, coupons=coupons)

    def _trim(self, member: str, now: int) -> None:
        rules = self.effective
        days = max((t.window_days for t in rules.tiers), default=0) if rules else 0
        start = now - max(days, 366) * DAY_US  # kept a year at least: rules may change
        self.visits[member] = [v for v in self.visits[member] if v.ts >= start]

    def apply_refund(
        self, r: OrderRefunded, rec: OrderRecord, tender_before: list[int], total_before: int
    ) -> None:
        """After the book recorded refund ``r`` on ``rec`` (``tender_before``, ``total_before``:
        what the order's tenders and lines had given back before it)."""
        o = rec.order
        for idx, p in enumerate(o.payments):
            if p.kind == "points":
                back = _ceil_share(p.points, rec.refunded_tender[idx], p.amount) - _ceil_share(
                    p.points, tender_before[idx], p.amount
                )
                self._add(p.member, back)
        money = r.amount - sum(t.amount for t in r.tenders if t.kind in ("points", "coupon"))
        for v in self.visits.get(o.member, []):
            if v.order_id == o.order_id:
                v.spend = max(0, v.spend - max(0, money))
                v.visits = 0 if rec.fully_refunded else v.visits
        op = self.orders.get(o.order_id)
        if op is None or not o.total:
            return
        cum = op.earned * rec.refunded_total // o.total  # rounded down: toward the customer
        take = cum - op.reversed
        op.reversed = cum
        if take and op.member:
            self._add(op.member, -take, -min(take, max(0, self.balance(op.member))))
        if rec.fully_refunded and not op.coupons_back:
            op.coupons_back = True
            for code in op.coupons:
                if code in self.coupons:
                    self.coupons[code].used = max(0, self.coupons[code].used - 1)

    # ------------------------------------------------------------ snapshot
    def image(self) -> LoyaltyImage:
        coupons = list(self.coupons.values())
        return LoyaltyImage(
            self.rules,
            dict(self.points),
            coupons,
            dict(self.visits),
            dict(self.orders),
            self.last_ts,
            dict(self.history),
        )

    def load(self, li: LoyaltyImage) -> None:
        self.rules, self.points, self.visits, self.orders = (
            li.rules,
            li.points,
            li.visits,
            li.orders,
        )
        self.coupons = {c.coupon.code: c for c in li.coupons}
        self.last_ts = li.last_ts
        self.history = li.history

    # ------------------------------------------------------------ read
    def coupon_view(self, code: str, at_us: int) -> dict[str, Any]:
        st = self.coupons.get(code)
        if st is None:
            raise NotFound("coupon.not_found", "no such coupon", code=code)
        c = st.coupon
        valid = c.valid_from <= at_us and (not c.valid_to or at_us <= c.valid_to)
        left = max(0, c.uses - st.used)
        return {**msgspec.to_builtins(c), "used": st.used, "left": left, "valid_now": valid}

    def member_view(self, member: str, at_us: int) -> dict[str, Any]:
        rules = self.effective
        visits = self.seen(member)
        tier = tier_of(visits, rules, at_us)
        coupons = [
            {
                **msgspec.to_builtins(s.coupon),
                "used": s.used,
                "left": max(0, s.coupon.uses - s.used),
            }
            for s in self.coupons.values()
            if s.coupon.member == member
        ]
        return {
            "member": member,
            "points": self.balance(member),
            "point_value": rules.point_value if rules else 0,
            "tier": None if tier is None else msgspec.to_builtins(tier),
            "next_tier": next_tier(visits, rules, at_us),
            "coupons": coupons,
        }
