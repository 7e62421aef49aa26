"""Codes of coupons across the chain: HQ's coupons, their quotas and claims
(``domain.coupon_chain``, ``cloud.coupons``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput

__all__ = ["CouponChain"]


class CouponChain(Code):
    NOT_HQ = (
        "coupon.not_hq",
        Conflict,
        "This coupon was issued by the store: only HQ's coupons are changed by HQ.",
    )
    QUOTA = (
        "coupon.bad_quota",
        InvalidInput,
        "The uses per store offline, times the stores, must not exceed the coupon's uses.",
    )
    REVOKED = ("coupon.revoked", Conflict, "HQ revoked this coupon.")
    KEY_REUSED = (
        "coupon.key_reused",
        Conflict,
        "This claim key was used for another coupon or store. Use a new key.",
    )
