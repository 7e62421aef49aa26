"""Codes of the tier discount and of members' points across the chain (issue 15, points15b)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput

__all__ = ["TierDiscount"]


class TierDiscount(Code):
    CHANGED = (
        "tier.discount_changed",
        Conflict,
        "The member's tier discount is not what the till applied. Look the member up again.",
    )
    BAD = (
        "tier.bad_discount",
        InvalidInput,
        "The member discount does not match the order's amounts.",
    )
    NO_MEMBER = (
        "tier.no_member",
        InvalidInput,
        "A member discount needs the member it is for.",
    )
