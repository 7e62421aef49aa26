"""Staff accounts and permissions. Each change is a command decided in the ledger
(``domain.handlers_staff``: admin-only accounts, no changing your own role, no self-lock, no
permission change that locks you out); this module reads the request and says who asks."""

from __future__ import annotations

from aiohttp import web

from actors.http.common import command_id, derived_id, jresp, need_str, read_json
from actors.http.context import Ctx, gw
from actors.staff import check_pin
from domain.errors import InvalidInput, NotFound, Unauthorized
from domain.handlers_staff import (
    ChangePermissions,
    ChangeStaffPin,
    CreateStaff,
    LockStaff,
    UpdateStaff,
)
from domain.pan import refuse_card_number
from domain.staff import ACTIONS, ROLES, check_language, check_role, check_staff_id

__all__ = ["ROUTES"]


async def staff_list(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "staff.view")
    await g.refresh()
    return jresp(
        {
            "staff": [
                {k: v for k, v in a.items() if k not in ("pin_hash",)}
                for a in g.dir.accounts.values()
            ]
        }
    )


def first_admin(request: web.Request, data: dict) -> Ctx:
    """A store without any account: the first one (an admin) may be created from the store
    PC itself (loopback), without a session."""
    ip = gw(request).ip(request)
    if ip not in ("127.0.0.1", "::1"):
        raise Unauthorized("auth.required", "create the first account on the store PC itself")
    if data.get("role") != "admin":
        raise InvalidInput("staff.bad_role", "the first account is an admin", field="role")
    return Ctx("", "admin", "", ip, "", action="staff.manage")


async def staff_save(request: web.Request) -> web.Response:
    """Create an account, or change one (name, role, language, active, PIN)."""
    g = gw(request)
    data = await read_json(request)
    await g.refresh()
    if not g.dir.accounts and "Authorization" not in request.headers:
        ctx = first_admin(request, data)
    else:
        ctx = await g.auth(request, "staff.manage", data)
    cid = command_id(data)
    staff = refuse_card_number(check_staff_id(data.get("staff")), "staff")
    if staff not in g.dir.accounts:
        name = need_str(data, "name", 100)
        role = check_role(data.get("role"))
        language = check_language(data.get("language", "en"))
        pin = check_pin(data.get("pin"))
        ack = await g.submit(
            ctx,
            cid,
            "staff.create",
            {"staff": staff, "name": name, "role": role, "language": language},
            CreateStaff(ctx.role, staff, name, role, language, await g.seal_pin(staff, pin)),
        )
        await g.journal_approval(ctx, cid)
        await g.refresh()
        return jresp(g.answer(ack))
    name = need_str(data, "name", 100, required=False)
    role = check_role(data["role"]) if data.get("role") is not None else ""
    language = check_language(data["language"]) if data.get("language") is not None else ""
    active = data.get("active")
    if active is not None and not isinstance(active, bool):
        raise InvalidInput("input.bad_field", "'active' is true or false", field="active")
    new_pin = data.get("pin")
    if new_pin is not None:
        check_pin(new_pin)
    if not (name or role or language or active is not None or new_pin is not None):
        raise InvalidInput("staff.nothing_to_change", "say what to change")
    args = {
        "staff": staff,
        "name": name,
        "role": role,
        "language": language,
        "active": active,
        "pin": new_pin is not None,
    }
    acks = []
    if name or role or language or active is not None:
        acks.append(
            await g.submit(
                ctx,
                cid,
                "staff.update",
                args,
                UpdateStaff(
                    ctx.staff,
                    ctx.role,
                    staff,
                    name,
                    role,
                    language,
                    -1 if active is None else int(active),
                ),
            )
        )
    if new_pin is not None:
        acks.append(
            await g.submit(
                ctx,
                derived_id(cid, "pin") if acks else cid,
                "staff.pin",
                args,
                ChangeStaffPin(ctx.role, staff, await g.seal_pin(staff, new_pin)),
            )
        )
    await g.journal_approval(ctx, cid)
    await g.refresh()
    return jresp(g.answer(acks[0], events=[a.kind for a in acks]))


async def staff_lock(request: web.Request) -> web.Response:
    g = gw(request)
    staff = check_staff_id(request.match_info["staff"])
    what = request.match_info["what"]
    if what not in ("lock", "unlock"):
        raise NotFound("http.not_found", "lock or unlock")
    data = await read_json(request)
    ctx = await g.auth(request, "staff.manage", data)
    cid = command_id(data)
    reason = need_str(data, "reason", 200, required=False)
    ack = await g.submit(
        ctx,
        cid,
        f"staff.{what}",
        {"staff": staff, "reason": reason},
        LockStaff(ctx.staff, ctx.role, staff, what == "lock", reason),
    )
    await g.journal_approval(ctx, cid)
    await g.refresh()
    return jresp(g.answer(ack))


async def permissions(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, None)
    table = g.dir.permissions.table()
    return jresp(
        {
            "roles": list(ROLES),
            "actions": {
                a: {"roles": table[a], "default": list(ACTIONS[a][0]), "description": ACTIONS[a][1]}
                for a in ACTIONS
            },
        }
    )


async def permissions_change(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "permissions.manage", data)
    cid = command_id(data)
    action = data.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise InvalidInput("permissions.unknown_action", "name an action", field="action")
    roles = data.get("roles")
    if not isinstance(roles, list) or len(roles) > len(ROLES):
        raise InvalidInput("input.bad_field", "'roles' is a list of roles", field="roles")
    cmd = ChangePermissions.of(ctx.role, action, roles)
    ack = await g.submit(ctx, cid, "permissions", {"action": action, "roles": list(cmd.roles)}, cmd)
    await g.journal_approval(ctx, cid)
    await g.refresh()
    return jresp(g.answer(ack))


ROUTES = [
    ("GET", "/v1/staff", staff_list),
    ("POST", "/v1/staff", staff_save),
    ("POST", "/v1/staff/{staff}/{what}", staff_lock),
    ("GET", "/v1/permissions", permissions),
    ("POST", "/v1/permissions", permissions_change),
]
