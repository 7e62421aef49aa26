"""Exchanges at the after-sales counter: a quote (what the exchange would return, sell and settle)
and the exchange itself, decided in the ledger (``domain.exchange``); and the manager's approval of
money given back above the store's refund limit (``refund_limits.needs_manager_over``), shared
with the refund route."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from aiohttp import web

from actors.http.common import command_id, jresp, need_str, read_json
from actors.http.context import Ctx, Gateway, gw
from actors.openapi_schemas import APPROVAL, ID, S, _body, _op, _path
from domain.book_records import OrderRecord
from domain.errors import InvalidInput, NotFound
from domain.events import OrderCompleted
from domain.exchange import (
    MAX_ITEMS,
    OVER_LIMIT_ACTION,
    ExchangeItem,
    ExchangeOrder,
    quote,
    refund_limit,
)
from domain.payments import TenderIn, tender_from_dict

__all__ = ["ROUTES", "OPENAPI", "approve_for", "may"]


async def approve_for(g: Gateway, ctx: Ctx, data: dict, actions: list[str]) -> None:
    """Take the request's ``approval`` for the first of ``actions`` it fits (a token names its
    action; a PIN is checked against the first); ``may`` then asks what the approver may do."""
    if not actions or data.get("approval") is None or ctx.approved_by:
        return
    ap = data.get("approval")
    action = actions[0]
    if isinstance(ap, dict) and isinstance(ap.get("token"), str):
        held = str((g.dir.approvals.get(ap["token"]) or {}).get("action") or "")
        action = held if held in actions else action
    ctx.action = action
    await g.approval(ctx, action, data)


def may(g: Gateway, ctx: Ctx, action: str) -> bool:
    """The signed-in staff may do ``action``, or the manager who approved this request may."""
    return g.dir.allows(ctx.staff, action) or bool(
        ctx.approved_by and g.dir.allows(ctx.approved_by, action)
    )


def _returned(data: dict, required: bool = True) -> dict[str, int]:
    lines = data.get("returned")
    if not required and not lines:
        return {}
    if not isinstance(lines, dict) or not lines or len(lines) > 500:
        raise InvalidInput("refund.no_lines", "choose what to return")
    for k, v in lines.items():
        if not isinstance(k, str) or len(k) > 64:
            raise InvalidInput("input.bad_field", "line ids are strings", field="returned")
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0 or v > 10**7:
            raise InvalidInput("refund.bad_quantity", "return a positive whole quantity")
    return lines


async def _items(g: Gateway, data: dict) -> tuple[ExchangeItem, ...]:
    raw = data.get("items")
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        raise InvalidInput("input.bad_field", "'items' lists {code, qty}", field="items")
    out = []
    for it in raw:
        if not isinstance(it, dict):
            raise InvalidInput("input.bad_field", "'items' lists {code, qty}", field="items")
        code = need_str(it, "code", 64, code=True)
        qty = it.get("qty", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= 10**7:
            raise InvalidInput("input.bad_field", "a quantity is a positive number", field="qty")
        p = await g.h.catalogue.lookup(code)
        if not p.get("sellable", True):
            raise NotFound("product.not_found", "no such product", code=code)
        tax_class = str(p.get("tax_class", "std"))
        out.append(
            ExchangeItem(
                sku=p["sku"],
                names=dict(p.get("names") or {}),
                unit=str(p.get("unit", "each")),
                qty=qty,
                unit_price=int(p["price"]),
                tax_class=tax_class,
                rate_bp=g.config.rate_of(tax_class),
                category=str(p.get("category", "")),
            )
        )
    return tuple(out)


async def exchange_quote(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    await g.auth(request, "orders.exchange")
    d = await g.h.ledger.order(request.match_info["order"][:64])
    rec = OrderRecord(
        order=msgspec.convert(d["order"], OrderCompleted),
        staff=d.get("staff", ""),
        till=d.get("till", ""),
        ts=int(d.get("ts", 0)),
        seq=int(d.get("seq", 0)),
        refunded_qty=dict(d.get("refunded_qty") or {}),
        refunded_amount=dict(d.get("refunded_amount") or {}),
        frozen=bool(d.get("frozen")),
        frozen_reason=str(d.get("frozen_reason", "")),
    )
    items = await _items(g, data)
    out = quote(rec, _returned(data, required=False), items, g.config.prices_include_tax)
    limit = refund_limit(g.config)
    out["needs_manager"] = bool(limit and -out["difference"] > limit)
    return jresp({**out, "currency": rec.order.currency, "refund_limit": limit})


async def exchange(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "orders.exchange", data)
    order_id = request.match_info["order"][:64]
    returned = _returned(data)
    items = await _items(g, data)
    tenders_in = data.get("tenders") or []
    if not isinstance(tenders_in, list) or len(tenders_in) > 10:
        raise InvalidInput("input.bad_field", "'tenders' is a list", field="tenders")
    tenders = [tender_from_dict(t) for t in tenders_in]
    reason = need_str(data, "reason", 200, required=False)
    cid = command_id(data)
    limit = refund_limit(g.config)
    await approve_for(g, ctx, data, [OVER_LIMIT_ACTION] if limit else [])
    cmd = ExchangeOrder(
        order_id=order_id,
        exchange_id=cid,
        sold_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"kassa-exchange:{cid}")),
        returned=returned,
        items=items,
        tenders=tuple(TenderIn(t.kind, t.amount, t.reference, t.last4, t.member) for t in tenders),
        reason=reason,
        prices_include_tax=g.config.prices_include_tax,
        cash_increment=g.config.cash_increment,
        refund_limit=limit,
        manager_ok=may(g, ctx, OVER_LIMIT_ACTION),
    )
    args: dict[str, Any] = {
        "order": order_id,
        "returned": returned,
        "items": [[i.sku, i.qty] for i in items],
        "tenders": tenders_in,
        "reason": reason,
    }
    ack = await g.submit(ctx, cid, "exchange", args, cmd)
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack, ts=ack.ts))


ROUTES = [
    ("POST", "/v1/orders/{order}/exchange/quote", exchange_quote),
    ("POST", "/v1/orders/{order}/exchange", exchange),
]

_RETURNED = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
_ITEMS = {
    "type": "array",
    "maxItems": MAX_ITEMS,
    "items": {
        "type": "object",
        "properties": {"code": S, "qty": {"type": "integer", "minimum": 1}},
        "required": ["code"],
    },
}
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/orders/{order}/exchange/quote": {
        "post": _op(
            "what an exchange would return, sell and settle (nothing is journaled)",
            "orders.exchange",
            _body({"returned": _RETURNED, "items": _ITEMS}, ["returned", "items"]),
            [_path("order")],
        )
    },
    "/v1/orders/{order}/exchange": {
        "post": _op(
            "return lines of an order and sell other items in one transaction",
            "orders.exchange",
            _body(
                {
                    "id": ID,
                    "returned": _RETURNED,
                    "items": _ITEMS,
                    "tenders": {"type": "array", "maxItems": 10, "items": {"type": "object"}},
                    "reason": S,
                    "approval": APPROVAL,
                },
                ["id", "returned", "items"],
            ),
            [_path("order")],
        )
    },
}
