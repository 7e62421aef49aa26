"""The tier discount: a member named on a sale gets their tier's ``discount_bp`` off the basket.

* The till names the member on the open basket (``basket.member_named {basket, member, tier,
  discount_bp}``, from a member card scanned on the sale screen or the pay screen's look-up). The
  basket is then priced with the tier's discount after the cashier's line and order discounts:
  ``member_discount(eligible, bp) = floor(eligible × bp / 10000)`` of the ELIGIBLE total (every
  line's price-basis amount after the cashier's discounts), split over the lines pro rata, so a
  line's total is what the customer pays for it and a refund of a line gives back its discounted
  amount (the discount is reversed in proportion).
* The order (``order.completed``) carries ``member_discount`` (minor units), ``member_discount_bp``
  and ``tier``. The ledger checks them where commits are serialised: the bp and the tier's name are
  those of the tier the book computes for the member at the commit (``domain.loyalty.tier_of``),
  and the amount is ``member_discount(Σ line amounts + member_discount, bp)``. A till cannot invent
  a discount; a stale one (the member changed tier meanwhile) is refused with
  ``tier.discount_changed`` and the till names the member again. An order naming a member without
  a discount (an older till) is taken as it is: a customer loses nothing but their own discount.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.error_codes.points15b import TierDiscount
from domain.errors import Conflict, InvalidInput
from domain.events import OrderCompleted, register
from domain.loyalty import LoyaltyRules, Tier, Visit, tier_of

__all__ = ["BasketMemberNamed", "member_discount", "tier_discount_bp", "check_named", "check_order"]


@register("basket.member_named")
@dataclass(frozen=True, slots=True)
class BasketMemberNamed:
    """The member this basket is sold to, and the tier discount the till applies ("" : none)."""

    basket: str
    member: str
    tier: str = ""
    discount_bp: int = 0


def member_discount(eligible: int, bp: int) -> int:
    """The tier discount on an eligible total of ``eligible`` minor units (rounded down)."""
    if bp <= 0 or eligible <= 0:
        return 0
    return min(eligible, eligible * bp // 10_000)


def tier_discount_bp(tier: Tier | None) -> tuple[str, int]:
    """(tier name, discount bp) a member of ``tier`` gets ("", 0 without a tier)."""
    return ("", 0) if tier is None else (tier.name, tier.discount_bp)


def _require(
    member: str, tier: str, bp: int, visits: list[Visit], rules: LoyaltyRules | None, at: int
) -> None:
    if not member:
        raise InvalidInput(TierDiscount.NO_MEMBER, "a member discount needs a member")
    want = tier_discount_bp(tier_of(visits, rules, at))
    if (tier, bp) != want and bp:
        raise Conflict(
            TierDiscount.CHANGED,
            "the member's tier discount is not the one applied",
            member=member,
            tier=want[0],
            discount_bp=want[1],
            asked=bp,
        )


def check_named(
    body: BasketMemberNamed, visits: dict[str, list[Visit]], rules: Any, at: int
) -> Any:
    """A member named on a basket: the discount named is their tier's (or none)."""
    if body.discount_bp or body.tier:
        _require(body.member, body.tier, body.discount_bp, visits.get(body.member, []), rules, at)
    return body


def check_order(o: OrderCompleted, visits: dict[str, list[Visit]], rules: Any, at: int) -> None:
    """An order's member discount: the tier's, and the amount its lines' amounts give."""
    if not (o.member_discount or o.member_discount_bp):
        return
    _require(o.member, o.tier, o.member_discount_bp, visits.get(o.member, []), rules, at)
    eligible = sum(ln.amount for ln in o.lines) + o.member_discount
    if o.member_discount != member_discount(eligible, o.member_discount_bp) or (
        o.member_discount > sum(ln.discount for ln in o.lines)
    ):
        raise InvalidInput(
            TierDiscount.BAD,
            "the member discount does not match the order",
            member_discount=o.member_discount,
            expected=member_discount(eligible, o.member_discount_bp),
        )
