"""Stock documents: purchase orders (create, list, cancel, export), receipts against a PO or free,
stock counts (start, counted lines, the variance report, a manager's approval), transfers between
stores, batch level edits and each product's movements. Rules in ``domain.stock_docs``; state from
``actors.stock_docs_view`` (the journal's tail)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.http.common import command_id, derived_id, jresp, need_str, read_json
from actors.http.context import gw
from actors.openapi_schemas import ID, _body, _op
from actors.stock_docs_view import docs_view
from domain.error_codes.batch15b import StockBatch
from domain.error_codes.stock import StockDoc
from domain.errors import Conflict, InvalidInput, NotFound
from domain.stock_docs import (
    ApproveCount,
    check_doc_id,
    decide_batch_levels,
    decide_count_lines,
    decide_count_start,
    decide_po,
    decide_receipt_lines,
    decide_transfer_received,
    decide_transfer_sent,
    open_count,
    open_po,
)
from domain.stock_events import PoCancelled
from domain.stock_export import po_csv, po_pdf

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPES"]


async def _products(g: Any, lines: object) -> dict[str, dict]:
    """Every line's product (an unknown one is refused, ``product.not_found``)."""
    out: dict[str, dict] = {}
    for ln in lines if isinstance(lines, list) else []:
        sku = ln.get("sku") if isinstance(ln, dict) else None
        if isinstance(sku, str) and sku and sku not in out:
            out[sku] = await g.h.catalogue.lookup(sku)
    return out


async def _begin(request: web.Request, action: str) -> tuple[Any, dict, Any, str]:
    """What every change starts with: the gateway, the body, who asks (``action``'s permission,
    or a manager's approval in the body) and the client's command id."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, action, data)
    return g, data, ctx, command_id(data)


async def _journal(
    g: Any, ctx: Any, cid: str, op: str, args: Any, body: Any, **extra: Any
) -> web.Response:
    """Journal ``body`` under the command id and answer it (with ``extra`` first)."""
    ack = await g.submit(ctx, cid, op, args, body)
    return jresp({**extra, **g.answer(ack)})


async def _submit_all(g: Any, ctx: Any, cid: str, op: str, bodies: list[Any]) -> list[dict]:
    out = []
    for i, body in enumerate(bodies):
        lid = cid if len(bodies) == 1 else derived_id(cid, f"line{i}")
        ack = await g.submit(ctx, lid, op, {"line": i, "sku": getattr(body, "sku", "")}, body)
        out.append(g.answer(ack))
    return out


# ---------------------------------------------------------------- purchase orders


async def create_po(request: web.Request) -> web.Response:
    g, data, ctx, cid = await _begin(request, "po.manage")
    await _products(g, data.get("lines"))
    po = data.get("po") or f"PO-{cid.replace('-', '')[:8].upper()}"
    body = decide_po(
        po,
        need_str(data, "supplier", 100),
        data.get("lines"),
        need_str(data, "expected", 10, required=False),
        need_str(data, "note", 200, required=False),
    )
    return await _journal(g, ctx, cid, "po.create", {"po": body.po}, body, po=body.po)


def _po_of(view: Any, po: str) -> Any:
    st = view.docs.pos.get(po)
    if st is None:
        raise NotFound(StockDoc.PO_NOT_FOUND, "there is no such purchase order", po=po)
    return st


async def list_pos(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    state = request.query.get("state", "")
    view = await docs_view(g).fresh()
    rows = [p.to_dict() for p in view.docs.pos.values() if not state or p.state == state]
    return jresp({"purchase_orders": sorted(rows, key=lambda r: -r["created"])})


async def get_po(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    view = await docs_view(g).fresh()
    po = _po_of(view, request.match_info["po"]).to_dict()
    fmt = request.match_info.get("fmt", "")
    if fmt == "csv":
        return web.Response(body=po_csv(po), content_type="text/csv", charset="utf-8")
    if fmt == "pdf":
        pdf = po_pdf(po, g.config.store_id, g.config.currency)
        return web.Response(body=pdf, content_type="application/pdf")
    return jresp(po)


async def cancel_po(request: web.Request) -> web.Response:
    g, data, ctx, cid = await _begin(request, "po.manage")
    view = await docs_view(g).fresh()
    st = _po_of(view, request.match_info["po"])
    open_po(st)
    body = PoCancelled(st.po, need_str(data, "reason", 200, required=False))
    return await _journal(g, ctx, cid, "po.cancel", {"po": st.po}, body)


async def receive(request: web.Request) -> web.Response:
    """Goods in: against an open PO (``po``) or free (``supplier``); partial or more than
    ordered. Answers the PO as it stands after."""
    g, data, ctx, cid = await _begin(request, "stock.change")
    await _products(g, data.get("lines"))
    view = await docs_view(g).fresh()
    po_id = need_str(data, "po", 40, required=False)
    po = _po_of(view, po_id) if po_id else None
    bodies = decide_receipt_lines(
        data.get("lines"),
        po,
        need_str(data, "supplier", 100, required=False),
        need_str(data, "reference", 100, required=False),
    )
    acks = await _submit_all(g, ctx, cid, "stock.receive", bodies)
    await g.journal_approval(ctx, cid)
    after = (await docs_view(g).fresh()).docs.pos.get(po_id) if po_id else None
    return jresp({"received": acks, "po": after.to_dict() if after else None})


# ---------------------------------------------------------------- counts


def _count_of(view: Any, count: str) -> Any:
    c = view.docs.counts.get(count)
    if c is None:
        raise NotFound(StockDoc.COUNT_NOT_FOUND, "there is no such stock count", count=count)
    return c


async def start_count(request: web.Request) -> web.Response:
    g, data, ctx, cid = await _begin(request, "stock.count")
    count = data.get("count") or f"C-{cid.replace('-', '')[:8].upper()}"
    body = decide_count_start(
        count,
        need_str(data, "scope", 20),
        need_str(data, "category", 100, required=False),
        data.get("blind", True) is not False,
    )
    return await _journal(g, ctx, cid, "count.start", {"count": body.count}, body, count=body.count)


async def list_counts(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, "stock.count")
    state = request.query.get("state", "")
    view = await docs_view(g).fresh()
    approver = g.dir.allows(ctx.staff, "stock.approve")
    rows = [c.to_dict(approver) for c in view.docs.counts.values() if not state or c.state == state]
    return jresp({"counts": sorted(rows, key=lambda r: -r["started"])})


async def get_count(request: web.Request) -> web.Response:
    """A count as its counters see it (blind: no expected levels); with ``stock.approve`` and
    ``?variances=1`` the variance report: expected (the level now), counted, difference, value."""
    g = gw(request)
    ctx = await g.auth(request, "stock.count")
    view = await docs_view(g).fresh()
    c = _count_of(view, request.match_info["count"])
    out = c.to_dict(g.dir.allows(ctx.staff, "stock.approve"))
    if request.query.get("variances") == "1":
        g.require(ctx, "stock.approve")
        rows = out.get("variances") or [
            {"sku": s, "expected": view.levels.level(s), "counted": n}
            for s, n in sorted(c.lines.items())
        ]
        total = 0
        for r in rows:
            p = await g.h.catalogue.lookup(r["sku"])
            r["difference"] = r["counted"] - r["expected"]
            r["name"] = (p.get("names") or {}).get("en", r["sku"])
            r["value"] = r["difference"] * int(p.get("price", 0))
            total += r["value"]
        out["variances"], out["value"] = rows, total
    return jresp(out)


async def count_lines(request: web.Request) -> web.Response:
    g, data, ctx, cid = await _begin(request, "stock.count")
    count = request.match_info["count"]
    products = await _products(g, data.get("lines"))
    view = await docs_view(g).fresh()
    cats = {s: str(p.get("category", "")) for s, p in products.items()}
    body = decide_count_lines(view.docs.counts.get(count), count, data.get("lines"), cats)
    return await _journal(g, ctx, cid, "count.lines", {"count": count, "n": len(body.lines)}, body)


async def approve_count(request: web.Request) -> web.Response:
    """Decided in the ledger against the levels at its commit; once per count (its command id
    is the count's: a second approval answers the first)."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "stock.approve", data)
    count = request.match_info["count"]
    view = await docs_view(g).fresh()
    c = _count_of(view, count)
    cid = derived_id(f"count:{count}", "approve")
    if c.state != "approved":  # an approved one answers its approval again (same command id)
        open_count(c, count)
    body = ApproveCount(count, dict(c.lines))
    ack = await g.submit(ctx, cid, "count.approve", {"count": count}, body)
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack))


# ---------------------------------------------------------------- transfers, batch, moves


async def send_transfer(request: web.Request) -> web.Response:
    g, data, ctx, cid = await _begin(request, "stock.change")
    await _products(g, data.get("lines"))
    ref = data.get("transfer") or f"T-{g.config.store_id}-{cid.replace('-', '')[:8].upper()}"
    body = decide_transfer_sent(ref, data.get("to_store"), g.config.store_id, data.get("lines"))
    args = {"transfer": body.transfer}
    return await _journal(g, ctx, cid, "transfer.send", args, body, transfer=body.transfer)


async def receive_transfer(request: web.Request) -> web.Response:
    """Entered at the receiving store from the transfer's paper (its reference, what arrived);
    this store never asks the sender. Once per reference."""
    g, data, ctx, _cid = await _begin(request, "stock.change")
    ref = check_doc_id(data.get("transfer"), "transfer")
    await _products(g, data.get("lines"))
    view = await docs_view(g).fresh()
    body = decide_transfer_received(
        ref, data.get("from_store"), data.get("lines"), set(view.docs.received)
    )
    cid = derived_id(f"transfer:{ref}", "received")
    return await _journal(g, ctx, cid, "transfer.receive", {"transfer": ref}, body)


async def list_transfers(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    view = await docs_view(g).fresh()

    def row(t: Any, way: str, store: str) -> dict:
        return {"transfer": t.transfer, "way": way, "store": store, "lines": list(t.lines)}

    sent = [row(t, "out", t.to_store) for t in view.docs.sent.values()]
    got = [row(t, "in", t.from_store) for t in view.docs.received.values()]
    return jresp({"transfers": sent + got})


async def batch_levels(request: web.Request) -> web.Response:
    """Set many levels at once (``lines``: sku, level) with one reason. Each line is decided in
    the ledger against the level at its commit (``SetLevel``), so a sale committed meanwhile still
    counts; journaled as adjustments. A line already at its level changes nothing."""
    g, data, ctx, cid = await _begin(request, "stock.change")
    reason = need_str(data, "reason", 200)
    lines = data.get("lines")
    await _products(g, lines)
    out: list[dict] = []
    for i, cmd in enumerate(decide_batch_levels(lines, reason)):
        args = {"line": i, "sku": cmd.sku, "level": cmd.level}
        try:
            ack = await g.submit(ctx, derived_id(cid, f"line{i}"), "stock.set_level", args, cmd)
        except Conflict as exc:
            if exc.code != StockBatch.UNCHANGED:
                raise
            out.append({"line": i, "sku": cmd.sku, "unchanged": True})
        else:
            out.append(g.answer(ack))
    return jresp({"adjusted": out})


async def moves(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "stock.view")
    sku = request.match_info["sku"]
    if len(sku) > 64:
        raise InvalidInput("stock.bad_quantity", "a sku is at most 64 characters")
    view = await docs_view(g).fresh()
    rows = [
        {"ts": ts, "kind": kind, "delta": delta, "reference": ref}
        for ts, kind, delta, ref in reversed(view.docs.moves.get(sku, []))
    ]
    return jresp({"sku": sku, "level": view.levels.level(sku), "moves": rows})


ROUTES = [
    ("POST", "/v1/purchase-orders", create_po),
    ("GET", "/v1/purchase-orders", list_pos),
    ("GET", "/v1/purchase-orders/{po}", get_po),
    ("GET", "/v1/purchase-orders/{po}/export.{fmt}", get_po),
    ("POST", "/v1/purchase-orders/{po}/cancel", cancel_po),
    ("POST", "/v1/stock/receipts", receive),
    ("POST", "/v1/stock/counts", start_count),
    ("GET", "/v1/stock/counts", list_counts),
    ("GET", "/v1/stock/counts/{count}", get_count),
    ("POST", "/v1/stock/counts/{count}/lines", count_lines),
    ("POST", "/v1/stock/counts/{count}/approve", approve_count),
    ("POST", "/v1/stock/batch", batch_levels),
    ("POST", "/v1/transfers", send_transfer),
    ("POST", "/v1/transfers/received", receive_transfer),
    ("GET", "/v1/transfers", list_transfers),
    ("GET", "/v1/stock/{sku}/moves", moves),
]

_LINES = {"type": "array", "maxItems": 500, "items": {"type": "object"}}
_W = {"id": ID, "lines": _LINES}
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/purchase-orders": {
        "post": _op("create a purchase order", "po.manage", _body(_W, ["id", "lines"])),
        "get": _op("purchase orders (?state=open|received|cancelled)", "stock.view"),
    },
    "/v1/purchase-orders/{po}": {"get": _op("one purchase order", "stock.view")},
    "/v1/purchase-orders/{po}/export.{fmt}": {
        "get": _op("a purchase order as CSV or PDF", "stock.view")
    },
    "/v1/purchase-orders/{po}/cancel": {
        "post": _op("cancel an open purchase order", "po.manage", _body({"id": ID}, ["id"]))
    },
    "/v1/stock/receipts": {
        "post": _op("goods received, against a PO or free", "stock.change", _body(_W, ["id"]))
    },
    "/v1/stock/counts": {
        "post": _op("start a stock count", "stock.count", _body({"id": ID}, ["id"])),
        "get": _op("stock counts", "stock.count"),
    },
    "/v1/stock/counts/{count}": {
        "get": _op("a count; ?variances=1: the variance report", "stock.count")
    },
    "/v1/stock/counts/{count}/lines": {
        "post": _op("counted quantities", "stock.count", _body(_W, ["id", "lines"]))
    },
    "/v1/stock/counts/{count}/approve": {
        "post": _op("approve a count: counted levels replace the book's", "stock.approve")
    },
    "/v1/stock/batch": {
        "post": _op("set many levels (adjustments)", "stock.change", _body(_W, ["id", "lines"]))
    },
    "/v1/transfers": {
        "post": _op("send stock to another store", "stock.change", _body(_W, ["id", "lines"])),
        "get": _op("transfers sent and received", "stock.view"),
    },
    "/v1/transfers/received": {
        "post": _op("a transfer arrived (by its reference)", "stock.change", _body(_W, ["id"]))
    },
    "/v1/stock/{sku}/moves": {"get": _op("a product's movements, newest first", "stock.view")},
}
READ_SCOPES = {
    "/v1/purchase-orders": "stock.view: supplier, lines, costs",
    "/v1/purchase-orders/{po}": "stock.view: supplier, lines, costs",
    "/v1/purchase-orders/{po}/export.{fmt}": "stock.view: supplier, lines, costs",
    "/v1/stock/counts": "stock.count: counted lines; variances with stock.approve",
    "/v1/stock/counts/{count}": "stock.count: counted lines (blind: no expected levels); "
    "expected levels, variances and their value with stock.approve",
    "/v1/transfers": "stock.view",
    "/v1/stock/{sku}/moves": "stock.view: movements with order ids and references",
}
