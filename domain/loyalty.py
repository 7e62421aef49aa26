"""Loyalty rules: points per order, tiers by spend or visits over a window, coupons' worth.

Everything here is a pure function of journaled events, so the store's book, the store's read
routes and HQ (from the uploaded journal) compute the same figures:

* ``net_spend(order)``: what an order naming a member paid in money, i.e. its total less the parts
  paid with points or coupons (no points are earned on points).
* ``tier_of(visits, rules, at_us)``: the member's tier as of ``at_us`` from their completed orders
  *before* it whose time lies in ``[at_us - window, at_us]``; a tier is reached when the spend (or
  the number of visits) in its window is at least its threshold (the boundary is inclusive).
  Tiers are listed lowest first; the highest one reached wins. Promotion and demotion follow from
  the window alone: nothing is stored about a member's tier.
* ``points_for(order, rules, tier)``: the points an order earns,
  ``net_spend × points_per_unit × multiplier_bp ÷ (unit × 10000)``, rounded down. Points earned
  are DERIVED, never sent: an order id commits once, so a retried or re-uploaded order cannot earn
  twice.
* ``points_money(points, rules)``: a point redeemed is worth ``point_value`` minor units; a points
  tender pays ``amount`` with ``points = ceil(amount / point_value)`` (partial redemption: the rest
  of the order is paid otherwise).
* ``coupon_cap(coupon, total)``: the most a coupon pays on an order of ``total``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from domain.errors import InvalidInput
from domain.events import OrderCompleted, register

__all__ = [
    "DAY_US",
    "REDEEMED_KINDS",
    "Tier",
    "LoyaltyRules",
    "LoyaltyRulesSet",
    "CouponIssued",
    "Visit",
    "rules_from_dict",
    "check_rules",
    "check_coupon",
    "net_spend",
    "tier_of",
    "next_tier",
    "points_for",
    "points_needed",
    "coupon_cap",
]

DAY_US = 86_400_000_000
REDEEMED_KINDS = ("points", "coupon")  # tenders that are not money: they earn nothing
MAX_POINTS = 10**12


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    by: str = "spend"  # "spend" (net spend in minor units) | "visits" (completed orders)
    threshold: int = 0
    window_days: int = 365
    discount_bp: int = 0  # the tier's discount, basis points (500 = 5 %)
    multiplier_bp: int = 10_000  # points multiplier, basis points (15000 = ×1.5)


@dataclass(frozen=True, slots=True)
class LoyaltyRules:
    points_per_unit: int = 1  # points earned per ``unit`` minor units of net spend
    unit: int = 100  # 1.00 in a currency with two decimals
    point_value: int = 1  # minor units a redeemed point is worth
    tiers: tuple[Tier, ...] = ()


@register("loyalty.rules_set")
@dataclass(frozen=True, slots=True)
class LoyaltyRulesSet:
    """The store's loyalty rules from now on (a manager, HQ, or store.json's ``loyalty``)."""

    rules: LoyaltyRules
    set_by: str = "store"  # store | hq | config

    @property
    def agg(self) -> str:
        return "loyalty"


@register("coupon.issued")
@dataclass(frozen=True, slots=True)
class CouponIssued:
    code: str
    kind: str  # "amount" (value in minor units) | "percent" (value in basis points)
    value: int
    min_spend: int = 0  # the order's total must be at least this
    valid_from: int = 0  # UTC µs
    valid_to: int = 0  # UTC µs, inclusive; 0: no end
    uses: int = 1
    member: str = ""  # "" : a bearer code anyone may use
    issued_by: str = "store"  # store | hq

    @property
    def agg(self) -> str:
        return f"coupon:{self.code}"


class Visit(msgspec.Struct, array_like=True):
    """One completed order of a member, as the tier windows count it."""

    ts: int
    order_id: str
    spend: int  # net spend, less what was refunded since
    visits: int = 1  # 0 once the order was refunded in full


def _bounded(v: Any, name: str, top: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
        raise InvalidInput("loyalty.bad_rules", f"{name} must be a whole number 0..{top}")
    return v


def check_rules(r: LoyaltyRules) -> LoyaltyRules:
    """Refuse rules that cannot be applied (``loyalty.bad_rules``)."""
    _bounded(r.points_per_unit, "points_per_unit", 10**6)
    if _bounded(r.unit, "unit", 10**9) == 0 or _bounded(r.point_value, "point_value", 10**9) == 0:
        raise InvalidInput("loyalty.bad_rules", "unit and point_value must be at least 1")
    names: set[str] = set()
    for t in r.tiers:
        if not t.name or t.name in names or len(t.name) > 40:
            raise InvalidInput("loyalty.bad_rules", "tier names are 1-40 characters, unique")
        names.add(t.name)
        if t.by not in ("spend", "visits"):
            raise InvalidInput("loyalty.bad_rules", "a tier counts spend or visits")
        _bounded(t.threshold, "threshold", 10**12)
        if _bounded(t.window_days, "window_days", 3660) == 0:
            raise InvalidInput("loyalty.bad_rules", "a tier's window is at least 1 day")
        _bounded(t.discount_bp, "discount_bp", 10_000)
        _bounded(t.multiplier_bp, "multiplier_bp", 100_000)
    if len(r.tiers) > 10:
        raise InvalidInput("loyalty.bad_rules", "at most 10 tiers")
    return r


def rules_from_dict(d: Any) -> LoyaltyRules:
    """Rules from plain data (store.json ``loyalty``, a manager's request), checked."""
    try:
        rules = msgspec.convert(d, LoyaltyRules)
    except msgspec.ValidationError as exc:
        raise InvalidInput("loyalty.bad_rules", f"loyalty rules: {exc}") from exc
    return check_rules(rules)


def check_coupon(c: CouponIssued) -> CouponIssued:
    if not (3 <= len(c.code) <= 40) or not c.code.isprintable() or c.code.strip() != c.code:
        raise InvalidInput("coupon.bad", "a coupon code is 3-40 printable characters")
    if c.kind not in ("amount", "percent"):
        raise InvalidInput("coupon.bad", "a coupon is an amount or a percent")
    top = 10_000 if c.kind == "percent" else 10**12
    if isinstance(c.value, bool) or not isinstance(c.value, int) or not 0 < c.value <= top:
        raise InvalidInput("coupon.bad", "a coupon's value is positive (percent: at most 10000)")
    for name in ("min_spend", "valid_from", "valid_to"):
        _coupon_int(getattr(c, name), name, 2**62)
    if _coupon_int(c.uses, "uses", 10**6) == 0 and c.issued_by != "hq":  # HQ's: quota 0 ok
        raise InvalidInput("coupon.bad", "a coupon has at least one use")
    if c.valid_to and c.valid_to < c.valid_from:
        raise InvalidInput("coupon.bad", "a coupon's validity ends after it starts")
    if c.issued_by not in ("store", "hq"):
        raise InvalidInput("coupon.bad", "a coupon is issued by the store or HQ")
    return c


def _coupon_int(v: Any, name: str, top: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
        raise InvalidInput("coupon.bad", f"{name} must be a whole number 0..{top}")
    return v


def net_spend(order: OrderCompleted) -> int:
    """What the order paid in money (its total less points and coupons), never below zero."""
    redeemed = sum(p.amount for p in order.payments if p.kind in REDEEMED_KINDS)
    return max(0, order.total - redeemed)


def _reached(t: Tier, visits: Iterable[Visit], at_us: int) -> int:
    start = at_us - t.window_days * DAY_US
    inside = [v for v in visits if start <= v.ts <= at_us]
    return sum(v.spend for v in inside) if t.by == "spend" else sum(v.visits for v in inside)


def tier_of(visits: Iterable[Visit], rules: LoyaltyRules | None, at_us: int) -> Tier | None:
    """The highest tier whose threshold the member's orders in its window reach (inclusive)."""
    if rules is None:
        return None
    seen = list(visits)
    best: Tier | None = None
    for t in rules.tiers:
        if _reached(t, seen, at_us) >= t.threshold:
            best = t
    return best


def next_tier(
    visits: Iterable[Visit], rules: LoyaltyRules | None, at_us: int
) -> dict[str, Any] | None:
    """The first tier above the current one and what is missing to reach it, or None."""
    if rules is None:
        return None
    seen = list(visits)
    now = tier_of(seen, rules, at_us)
    above = rules.tiers[rules.tiers.index(now) + 1 :] if now is not None else rules.tiers
    for t in above:
        have = _reached(t, seen, at_us)
        if have < t.threshold:
            return {
                "name": t.name,
                "by": t.by,
                "threshold": t.threshold,
                "missing": t.threshold - have,
            }
    return None


def points_for(order: OrderCompleted, rules: LoyaltyRules | None, tier: Tier | None) -> int:
    """The points ``order`` earns its member (0 without a member or without rules)."""
    if rules is None or not order.member:
        return 0
    mult = tier.multiplier_bp if tier is not None else 10_000
    return min(MAX_POINTS, net_spend(order) * rules.points_per_unit * mult // (rules.unit * 10_000))


def points_needed(amount: int, rules: LoyaltyRules) -> int:
    """The points a points tender of ``amount`` minor units uses (the last point may be part)."""
    return -(-amount // rules.point_value)


def coupon_cap(c: CouponIssued, total: int) -> int:
    """The most ``c`` pays on an order of ``total`` (a percent rounds down)."""
    cap = c.value if c.kind == "amount" else total * c.value // 10_000
    return min(cap, total)
