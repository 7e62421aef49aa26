"""Signing in and out at a till, the current session, and a manager's one-time approval."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.http.common import command_id, jresp, read_json, till_id
from actors.http.context import gw
from actors.staff import check_pin, make_token, token_hash
from domain.errors import InvalidInput
from domain.staff import ACTIONS, SignedIn, check_staff_id

__all__ = ["ROUTES"]


async def sign_in(request: web.Request) -> web.Response:
    g = gw(request)
    await g.ensure_loaded()
    data = await read_json(request)
    cid = command_id(data)
    staff = check_staff_id(data.get("staff"))
    pin = check_pin(data.get("pin"))
    till = till_id(data.get("till"))
    ip = g.ip(request)
    token = make_token(g.secret, cid, staff, till)

    async def accepted() -> Any:
        return await g.submit(
            None,
            cid,
            "auth.sign_in",
            {"staff": staff, "till": till},
            SignedIn(staff, till, token_hash(token)),
            staff=staff,
            till=till,
            ip=ip,
        )

    ack = await g.pin_attempt(staff, pin, till, ip, "sign_in", accepted)
    return jresp(g.me(staff, till, token, ack.seq, ack.duplicate))


async def current(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, None)
    return jresp(g.me(ctx.staff, ctx.till))


async def sign_out(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, None)
    s = g.dir.sessions.get(ctx.session)
    if s is not None:
        await g.end_session(s, "sign_out")
    return jresp({"signed_out": True, "staff": ctx.staff, "till": ctx.till})


async def approve(request: web.Request) -> web.Response:
    """A manager's PIN for one action at this till: a one-time token valid for two minutes."""
    g = gw(request)
    ctx = await g.auth(request, "approvals.request")
    data = await read_json(request)
    action = data.get("action")
    if action not in ACTIONS:
        raise InvalidInput(
            "permissions.unknown_action", "name an action to approve", field="action"
        )
    staff = check_staff_id(data.get("staff"))
    pin = check_pin(data.get("pin"))
    approver = await g.verify_approver(ctx, staff, pin, action)
    token = g.dir.grant_approval(approver, action, ctx.till)
    return jresp(
        {"approval": {"token": token}, "approver": approver, "action": action, "expires_s": 120}
    )


ROUTES = [
    ("POST", "/v1/sessions", sign_in),
    ("GET", "/v1/sessions/current", current),
    ("DELETE", "/v1/sessions/current", sign_out),
    ("POST", "/v1/approvals", approve),
]


def me_of(
    g: Any, staff: str, till: str, token: str = "", seq: int = 0, duplicate: bool = False
) -> dict:
    """The staff member, their permissions, discount limit, idle timeout and the till's day
    (with the session's token when one was just made)."""
    acc = g.dir.accounts.get(staff, {})
    role = acc.get("role", "")
    out = {
        "staff": {
            "staff": staff,
            "name": acc.get("name", ""),
            "role": role,
            "language": acc.get("language", "en"),
        },
        "till": till,
        "permissions": g.dir.allowed_actions(staff),
        "discount_limit_bp": g.config.discount_limits.get(role, 0),
        "idle_timeout_s": int(g.dir.idle_timeout_s),
        "day": g.dir.days.get(till),
    }
    if token:
        out.update(token=token, seq=seq, duplicate=duplicate)
    return out
