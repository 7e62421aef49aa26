"""Codes of loyalty points, tiers and coupons (issue 15, ``domain.loyalty``)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput, NotFound

__all__ = ["Loyalty", "Coupon"]


class Loyalty(Code):
    BAD_RULES = (
        "loyalty.bad_rules",
        InvalidInput,
        "These loyalty rules cannot be used. Check the rates, tiers and windows.",
    )
    OFF = "loyalty.off", Conflict, "This store gives no points. Pay another way."
    BAD_POINTS = (
        "loyalty.bad_points",
        InvalidInput,
        "The points do not match the amount. Enter the amount again.",
    )
    INSUFFICIENT_POINTS = (
        "loyalty.insufficient_points",
        Conflict,
        "The member does not have enough points. Use fewer points or pay another way.",
    )


class Coupon(Code):
    BAD = (
        "coupon.bad",
        InvalidInput,
        "This coupon cannot be issued. Check its code, value and dates.",
    )
    EXISTS = "coupon.exists", Conflict, "This coupon code is taken. Choose another code."
    NOT_FOUND = "coupon.not_found", NotFound, "No coupon with this code. Check the code."
    TWICE = "coupon.twice", Conflict, "A coupon can pay only once per sale."
    NOT_VALID_NOW = (
        "coupon.not_valid_now",
        Conflict,
        "This coupon is not valid today. Look at its dates.",
    )
    USED_UP = "coupon.used_up", Conflict, "This coupon has been used already."
    OTHER_MEMBER = (
        "coupon.other_member",
        Conflict,
        "This coupon belongs to another member. Choose the member it was issued to.",
    )
    MIN_SPEND = (
        "coupon.min_spend",
        Conflict,
        "The sale is below this coupon's minimum spend.",
    )
    OVER_VALUE = (
        "coupon.over_value",
        Conflict,
        "This is more than the coupon is worth. Use a smaller amount.",
    )
