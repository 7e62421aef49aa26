"""The sale counter: a till's commands (scan, pay, void…) and its basket. The hot path: the
command goes to the till (``Handles.till_rpc``) as it came; the till and the ledger decide."""

from __future__ import annotations

from aiohttp import web

from actors.coupons_sync import before_pay as coupons_before_pay
from actors.http.common import command_id, jresp, need_str, read_json, till_id
from actors.http.context import gw
from actors.members_sync import before_pay
from actors.till import Who
from domain.errors import Forbidden, InvalidInput
from domain.pan import CODE_FIELDS, refuse_card_numbers_in

__all__ = ["ROUTES", "TILL_OPS"]

# till operation -> the action it needs
TILL_OPS = {
    "scan": "sale.sell",
    "add": "sale.sell",
    "remove": "sale.sell",
    "quantity": "sale.sell",
    "park": "sale.sell",
    "resume": "sale.sell",
    "pay": "sale.sell",
    "member": "sale.sell",  # the sale's member (their tier discount: domain.member_discount)
    "void": "sale.void",
    "discount_line": "sale.discount",
    "discount_order": "sale.discount",
}
TILL_CODES = CODE_FIELDS | {"line_id", "basket"}  # till command arguments that are not free text


async def till_command(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    ctx = await g.auth(request, None, till=till)
    data = await read_json(request)
    cid = command_id(data)
    op = need_str(data, "op", 32)
    action = TILL_OPS.get(op)
    if action is None:
        raise InvalidInput(
            "till.unknown_operation", f"unknown till operation {op!r}", ops=sorted(TILL_OPS)
        )
    args = data.get("args", {})
    if not isinstance(args, dict):
        raise InvalidInput("input.bad_field", "'args' must be an object", field="args")
    if till not in g.licensed_tills:
        await g.licensed(till)
    if op != "scan":  # a scan carries only a code
        refuse_card_numbers_in(args, "args", TILL_CODES)
    ctx.action = action
    if not g.dir.allows(ctx.staff, action):
        if data.get("approval") is None:
            raise Forbidden(
                "auth.forbidden",
                f"the {ctx.role} role may not do {action}",
                action=action,
                role=ctx.role,
            )
        await g.approval(ctx, action, data)
    elif (
        data.get("approval") is not None
        and action == "sale.discount"
        and not g.dir.allows(ctx.staff, "sale.discount_over_limit")
    ):
        # a discount over the role's limit: the approver must be allowed to give it
        ctx.action = "sale.discount_over_limit"
        await g.approval(ctx, ctx.action, data)
    limit = g.config.discount_limits.get(ctx.role, 0)
    who = Who(staff=ctx.staff, ip=ctx.ip, limit_bp=limit, approved_by=ctx.approved_by)
    if op == "pay":
        await before_pay(g.h, args, cid)  # HQ authorises a wallet spend over this store's float
        await coupons_before_pay(g.h, args, cid)  # an HQ coupon: one use claimed at HQ
    res = await g.committed(g.h.till_rpc(till).call("do", (cid, op, args, who)), "till")
    await g.journal_approval(ctx, cid)
    return jresp(res)


async def till_view(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    await g.auth(request, "sale.sell", till=till)
    if till not in g.licensed_tills:
        await g.licensed(till)
    return jresp(await g.h.till_rpc(till).call("view"))


ROUTES = [
    ("POST", "/v1/tills/{till}/commands", till_command),
    ("GET", "/v1/tills/{till}/basket", till_view),
]
