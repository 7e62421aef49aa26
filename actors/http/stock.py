"""Stock: receipts, adjustments and counts (``domain.stock`` decides them), and the levels."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.http import prices, stock_docs
from actors.http.common import command_id, jresp, need_str, read_json
from actors.http.context import gw
from domain.commands import CountStock
from domain.errors import NotFound
from domain.money import check_quantity
from domain.stock import decide_adjustment, decide_receipt

__all__ = ["ROUTES"]


async def stock_move(request: web.Request) -> web.Response:
    g = gw(request)
    kind = request.match_info["kind"]
    if kind not in ("receive", "adjust", "count"):
        raise NotFound("http.not_found", "unknown stock action")
    data = await read_json(request)
    ctx = await g.auth(request, "stock.change", data)
    cid = command_id(data)
    sku = need_str(data, "sku", 64, code=True)
    for k in ("qty", "delta", "counted"):
        if type(data.get(k)) is int:
            check_quantity(data[k], g.config.limits.max_stock_qty, k)
    await g.h.catalogue.lookup(sku)  # unknown products are refused
    args: dict[str, Any] = {
        k: data.get(k) for k in ("sku", "qty", "delta", "reason", "counted", "reference")
    }
    body: Any
    if kind == "receive":
        body = decide_receipt(sku, args["qty"], need_str(data, "reference", 100, False))
    elif kind == "adjust":
        body = decide_adjustment(sku, args["delta"], need_str(data, "reason", 200))
    else:  # decided in the ledger, against the level as of its commit
        body = CountStock(sku, args["counted"])
    ack = await g.submit(ctx, cid, f"stock.{kind}", args, body, g.h.stock)
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


async def stock(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    return jresp(await g.h.stock.report())


# the documents' routes first: ``/v1/stock/counts`` before ``/v1/stock/{kind}``
ROUTES = [
    *stock_docs.ROUTES,
    *prices.ROUTES,
    ("GET", "/v1/stock", stock),
    ("POST", "/v1/stock/{kind}", stock_move),
]
