"""Replenishment: ``GET /v1/replenish/suggestions`` (``stock.view``) — what to order, per product,
by ``domain.replenish`` from the units sold over the last ``weeks`` (the analytics copy's sales by
product, refunds netted), the levels (the stock read model) and the quantities already on order.

``?all=1`` lists every product sold or configured, also those with nothing to order. Products and
quantities only: no staff, member or order is named.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from actors.http.common import jresp
from actors.http.context import gw
from actors.openapi_schemas import _op
from actors.stock_watch import product_names, rules_of
from domain.replenish import suggestions

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPE"]

NAMED = 500  # products not sold in the window whose names are looked up


async def on_order_of(g: Any) -> dict[str, int]:
    """Quantities on open purchase orders not received yet, per SKU, from the stock read model
    when it keeps them (``StockClient.on_order``, the stock part's); else none."""
    reader = getattr(g.h.stock, "on_order", None)
    if reader is None:
        return {}
    return {str(k): int(v) for k, v in (await reader()).items()}


async def suggested(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    rules = rules_of(g.config)
    end = date.fromisoformat(g.today())
    start = end - timedelta(days=rules.days - 1)
    at = (await g.h.ledger.status())["seq"]
    rows: list[dict[str, Any]] = await g.h.analytics.report(
        "sales_by", {"dim": "product", "start": start.isoformat(), "end": end.isoformat()}, at
    )
    sold = {r["sku"]: int(r["qty"]) - int(r.get("refunded_qty") or 0) for r in rows}
    names = {r["sku"]: str(r.get("name") or "") for r in rows}
    stock = await g.h.stock.report()
    unnamed = sorted(set(rules.per_sku) - set(names))[:NAMED]
    names.update(await product_names(g, unnamed))
    every = request.query.get("all") in ("1", "true")
    found = suggestions(
        rules, sold, stock.get("levels") or {}, await on_order_of(g), names, not every
    )
    return jresp(
        {
            "as_of_seq": stock.get("seq", at),
            "window": {"start": start.isoformat(), "end": end.isoformat(), "days": rules.days},
            "lead_days": rules.lead_days,
            "safety_days": rules.safety_days,
            "suggestions": [s.to_dict() for s in found],
        }
    )


ROUTES = [("GET", "/v1/replenish/suggestions", suggested)]

OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/replenish/suggestions": {
        "get": _op(
            "suggested order quantities per product from sales velocity, lead time, safety "
            "days, min/max and pack size (domain.replenish); ?all=1 also lists nothing to order",
            "stock.view",
            params=[
                {
                    "name": "all",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                }
            ],
        )
    }
}
READ_SCOPE = "stock.view: products, quantities and suppliers; no staff, member or order"
