"""The after-sales counter: finding orders, refunds, freezing and unfreezing an order. Refunds and
freezes are commands decided in the ledger (``domain.commands``)."""

from __future__ import annotations

import time

from aiohttp import web

from actors.http.common import command_id, jresp, need_str, path_key, read_json
from actors.http.context import gw
from actors.http.exchange import approve_for, may
from analytics.anomaly_settings import own_sale_minutes
from domain.commands import FreezeOrder, RefundOrder, UnfreezeOrder
from domain.errors import InvalidInput
from domain.exchange import OVER_LIMIT_ACTION as OVER_LIMIT
from domain.exchange import refund_limit

__all__ = ["ROUTES"]


async def order(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "orders.view")
    return jresp(await g.h.ledger.order(request.match_info["order"][:64]))


async def find_orders(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "orders.view")
    key = path_key(request, "q")
    if not key:
        raise InvalidInput(
            "input.bad_field", "search orders by number, id, member or date (YYYY-MM-DD)", field="q"
        )
    return jresp(await g.h.ledger.orders_of(key, g.config.zone))


async def refund(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "orders.refund", data)
    order_id = request.match_info["order"][:64]
    lines = data.get("lines")
    if lines is not None:
        if not isinstance(lines, dict) or not lines or len(lines) > 500:
            raise InvalidInput(
                "input.bad_field", "'lines' maps line ids to quantities", field="lines"
            )
        for v in lines.values():
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0 or v > 10**7:
                raise InvalidInput("refund.bad_quantity", "refund a positive whole quantity")
    reason = need_str(data, "reason", 200, required=False)
    cid = command_id(data)
    own_minutes = own_sale_minutes(g.config)  # the same-cashier rule, before money leaves
    limit = refund_limit(g.config)  # store.json refund_limits: more given back needs a manager
    wanted = [a for a, on in (("orders.refund_own_sale", own_minutes), (OVER_LIMIT, limit)) if on]
    await approve_for(g, ctx, data, wanted)
    cmd = RefundOrder(
        order_id=order_id,
        refund_id=cid,
        lines=lines,
        reason=reason,
        cash_increment=g.config.cash_increment,
        by_staff=ctx.staff,
        at_us=time.time_ns() // 1000,
        own_sale_minutes=own_minutes,
        manager_ok=bool(ctx.approved_by) or g.dir.allows(ctx.staff, "orders.refund_own_sale"),
        refund_limit=limit,
        limit_ok=may(g, ctx, OVER_LIMIT),
    )
    ack = await g.submit(
        ctx, cid, "refund", {"order": order_id, "lines": lines, "reason": reason}, cmd
    )
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack, ts=ack.ts))  # the refund's commit time, for its receipt


async def freeze(request: web.Request) -> web.Response:
    return await _order_state(request, "freeze", reason_required=True)


async def unfreeze(request: web.Request) -> web.Response:
    return await _order_state(request, "unfreeze", reason_required=False)


async def _order_state(request: web.Request, op: str, reason_required: bool) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, f"orders.{op}", data)
    order_id = request.match_info["order"][:64]
    reason = need_str(data, "reason", 200, required=reason_required)
    cid = command_id(data)
    cmd = FreezeOrder(order_id, reason) if op == "freeze" else UnfreezeOrder(order_id, reason)
    ack = await g.submit(ctx, cid, op, {"order": order_id, "reason": reason}, cmd)
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


ROUTES = [
    ("GET", "/v1/orders", find_orders),
    ("GET", "/v1/orders/{order}", order),
    ("POST", "/v1/orders/{order}/refund", refund),
    ("POST", "/v1/orders/{order}/freeze", freeze),
    ("POST", "/v1/orders/{order}/unfreeze", unfreeze),
]
