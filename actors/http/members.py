"""Members and their wallets: registering, looking one up (scoped by role), topping up."""

from __future__ import annotations

from aiohttp import web

from actors.http.common import command_id, jresp, need_amount, need_str, path_key, read_json
from actors.http.context import gw
from actors.http.licensing import need_feature
from actors.members_sync import look_up
from domain.errors import NotFound
from domain.events import MemberRegistered
from domain.handlers_staff import TopUpWallet

__all__ = ["ROUTES"]

MEMBER_FOR_SALE = ("member", "name", "balance", "as_of_seq")  # members.view without details


async def register_member(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "members.register", data)
    await need_feature(g, "wallet")  # the licence grants member wallets
    cid = command_id(data)
    body = MemberRegistered(
        member=need_str(data, "member", 64),
        name=need_str(data, "name"),
        phone=need_str(data, "phone", 32, required=False),
        card=need_str(data, "card", 64, required=False),
    )
    ack = await g.submit(
        ctx, cid, "member", [body.member, body.name, body.phone, body.card], body, g.h.wallet
    )
    return jresp(g.answer(ack))


async def top_up(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "wallet.topup", data)
    await need_feature(g, "wallet")
    member = path_key(request, "member")
    cid = command_id(data)
    amount = need_amount(data, "amount", 1, g.config.limits.max_topup)
    tender = data.get("tender", "cash")
    ref = need_str(data, "reference", 64, required=False)
    ack = await g.submit(
        ctx,
        cid,
        "topup",
        [member, amount, tender, ref],
        TopUpWallet(member, amount, tender, ref),
        g.h.wallet,
    )
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


async def member(request: web.Request) -> web.Response:
    """A member by id, card or phone. The sale counter sees what paying needs (id, name,
    balance); phone, card and wallet history need ``members.view_details``."""
    g = gw(request)
    ctx = await g.auth(request, "members.view")
    key = path_key(request, "member")
    try:
        m: dict | None = await g.h.wallet.member(key)
    except NotFound:
        m = None
    m = await look_up(g.h, key, m)  # chain-wide: HQ's members, what may be spent here
    if m is None:
        raise NotFound("member.not_found", "no such member", member=key)
    if not g.dir.allows(ctx.staff, "members.view_details"):
        m = {k: m[k] for k in MEMBER_FOR_SALE if k in m}
    return jresp(m)


ROUTES = [
    ("POST", "/v1/members", register_member),
    ("GET", "/v1/members/{member}", member),
    ("POST", "/v1/members/{member}/topup", top_up),
]
