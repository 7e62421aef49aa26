"""Loyalty at the store: a member's points, tier and coupons; setting the rules; issuing and
looking up coupons (``domain.loyalty``; the ledger's book decides)."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from actors.coupons_sync import with_pool
from actors.http.common import command_id, jresp, need_int, need_str, path_key, read_json
from actors.http.context import gw
from actors.members_sync import loyalty_view
from actors.openapi_schemas import ID, MONEY, _body, _op, _path
from domain.loyalty import CouponIssued, LoyaltyRulesSet, check_coupon, rules_from_dict

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPES"]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


def new_code() -> str:
    """A bearer coupon code: 10 characters, about 50 bits, hard to guess."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


async def member_loyalty(request: web.Request) -> web.Response:
    """A member's points, tier, next tier and own coupons (by id, card or phone)."""
    g = gw(request)
    await g.auth(request, "members.view")
    return jresp(await loyalty_view(g.h, path_key(request, "member")))  # the chain's points


async def set_rules(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "loyalty.manage", data)
    cid = command_id(data)
    rules = rules_from_dict(data.get("rules"))
    ack = await g.submit(ctx, cid, "loyalty.rules", data.get("rules"), LoyaltyRulesSet(rules))
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


async def issue_coupon(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "coupons.issue", data)
    cid = command_id(data)
    top = 2**62
    body = check_coupon(
        CouponIssued(
            code=need_str(data, "code", 40, required=False).strip().upper() or new_code(),
            kind=need_str(data, "kind", 10),
            value=need_int(data, "value", 1, 10**12),
            min_spend=need_int(data, "min_spend", 0, 10**12) if "min_spend" in data else 0,
            valid_from=need_int(data, "valid_from", 0, top) if "valid_from" in data else 0,
            valid_to=need_int(data, "valid_to", 0, top) if "valid_to" in data else 0,
            uses=need_int(data, "uses", 1, 10**6) if "uses" in data else 1,
            member=need_str(data, "member", 64, required=False),
            issued_by="store",
        )
    )
    args: dict[str, Any] = {k: data.get(k) for k in ("code", "kind", "value", "min_spend")}
    args.update({k: data.get(k) for k in ("valid_from", "valid_to", "uses", "member")})
    ack = await g.submit(ctx, cid, "coupon.issue", args, body)
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack, code=body.code))


async def coupon(request: web.Request) -> web.Response:
    """A coupon by its code: what it is worth, when, for whom, how many uses are left."""
    g = gw(request)
    await g.auth(request, "sale.sell")
    view = await g.h.ledger.coupon(path_key(request, "code", 40).strip().upper())
    return jresp(await with_pool(g.h, view))  # an HQ coupon: HQ's pool too, online


ROUTES = [
    ("GET", "/v1/members/{member}/loyalty", member_loyalty),
    ("POST", "/v1/loyalty/rules", set_rules),
    ("POST", "/v1/coupons", issue_coupon),
    ("GET", "/v1/coupons/{code}", coupon),
]

_INT = {"type": "integer", "minimum": 0, "maximum": 2**62}
_TIER = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "by": {"enum": ["spend", "visits"]},
        "threshold": _INT,
        "window_days": {"type": "integer", "minimum": 1, "maximum": 3660},
        "discount_bp": {"type": "integer", "minimum": 0, "maximum": 10_000},
        "multiplier_bp": {"type": "integer", "minimum": 0, "maximum": 100_000},
    },
}
_RULES = {
    "type": "object",
    "properties": {
        "points_per_unit": {"type": "integer", "minimum": 0, "maximum": 10**6},
        "unit": {"type": "integer", "minimum": 1, "maximum": 10**9},
        "point_value": {"type": "integer", "minimum": 1, "maximum": 10**9},
        "tiers": {"type": "array", "maxItems": 10, "items": _TIER},
    },
}
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/members/{member}/loyalty": {
        "get": _op(
            "a member's points, tier, next tier and own coupons (by id, card or phone)",
            "members.view",
            None,
            [_path("member")],
        )
    },
    "/v1/loyalty/rules": {
        "post": _op(
            "set the store's loyalty rules (journaled as loyalty.rules_set)",
            "loyalty.manage",
            _body({"id": ID, "rules": _RULES}, ["id", "rules"]),
        )
    },
    "/v1/coupons": {
        "post": _op(
            "issue a coupon (no code: a bearer code is made; answer: code)",
            "coupons.issue",
            _body(
                {
                    "id": ID,
                    "code": {"type": "string", "maxLength": 40},
                    "kind": {"enum": ["amount", "percent"]},
                    "value": {"type": "integer", "minimum": 1, "maximum": 10**12},
                    "min_spend": MONEY,
                    "valid_from": _INT,
                    "valid_to": _INT,
                    "uses": {"type": "integer", "minimum": 1, "maximum": 10**6},
                    "member": {"type": "string", "maxLength": 64},
                },
                ["id", "kind", "value"],
            ),
        )
    },
    "/v1/coupons/{code}": {
        "get": _op(
            "a coupon: worth, validity, member, uses left", "sale.sell", None, [_path("code")]
        )
    },
}
READ_SCOPES = {
    "/v1/members/{member}/loyalty": "members.view: points, tier, next tier, the member's own "
    "coupons; no name, phone or card",
    "/v1/coupons/{code}": "sale.sell: the coupon's worth, dates, uses left and member id",
}
