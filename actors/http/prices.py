"""Batch price edits at the manager counter: a preview (each ticked product's old and new price,
who owns it) and the apply, all or nothing, as ONE ``catalogue.updated`` through the catalogue's
own update path (source ``prices:<id>``: the tills load it before their next command, so a scan
after sells at the new price; a line already in a basket keeps its price).

The store changes a price only where it owns it (``domain.price_batch.store_owns_price``: its own
products, or HQ's when HQ's bundle lists ``price`` in ``store_fields``); otherwise the answer is
``prices.hq_owned`` naming the products, and nothing changes. The apply carries the preview's old
prices (``expect``): a price changed since is ``prices.changed_since_preview``. A retry of an
applied batch (its id) answers the first apply (``duplicate``), never applies a percentage twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from actors.http.common import command_id, jresp, read_json
from actors.http.context import Gateway, gw
from actors.openapi_schemas import ID, _body, _op
from actors.stock_docs_view import PRICE_SOURCE, docs_view
from actors.till import Who
from domain.error_codes.batch15b import PriceBatch
from domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from domain.money import precision
from domain.price_batch import MAX_ROWS, Plan, check_change, plan, store_owns_price

__all__ = ["ROUTES", "OPENAPI"]


def _skus(data: dict) -> list[str]:
    skus = data.get("skus")
    if not isinstance(skus, list) or not skus:
        raise InvalidInput(PriceBatch.NO_PRODUCTS, "tick the products whose price changes")
    if len(skus) > MAX_ROWS:
        raise InvalidInput(PriceBatch.TOO_MANY, f"change at most {MAX_ROWS} products at once")
    if not all(isinstance(s, str) and 0 < len(s) <= 64 for s in skus):
        raise InvalidInput("input.bad_field", "each SKU is 1–64 characters", field="skus")
    return list(dict.fromkeys(skus))


async def _owned(g: Gateway, skus: list[str]) -> set[str]:
    """The SKUs whose price this store owns (HQ's catalogue as the store last applied it)."""
    puller = getattr(g.h, "catalogue_sync", None)
    if puller is None:
        raise Unavailable("store.unavailable", "the store is still starting; retry")
    status = puller.status()
    version, fields = status.get("version"), status.get("store_fields") or []
    if version is None or "price" in fields:
        return set(skus)
    hq = await asyncio.to_thread(puller.sync.store.has, skus)
    return store_owns_price(skus, version, hq, fields)


async def _plan(g: Gateway, data: dict, lang: str = "en") -> tuple[Plan, list[dict]]:
    """The plan of a request against the catalogue now, and the products as the store has them."""
    limits = g.config.limits
    change = check_change(data.get("change"), limits.max_unit_price)
    skus = _skus(data)
    _version, rows = await g.h.catalogue.rows(skus)
    missing = sorted(set(skus) - {str(p["sku"]) for p in rows})
    if missing:
        raise NotFound("product.not_found", "no such product", skus=missing[:20])
    unit = 10 ** precision(g.config.currency)
    owned = await _owned(g, skus)
    return plan(rows, change, unit, limits.max_unit_price, owned, lang), rows


async def preview(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    await g.auth(request, "prices.batch", data)
    lang = data.get("lang")
    p, _rows = await _plan(g, data, lang[:10] if isinstance(lang, str) else "en")
    return jresp(p.to_dict())


def _expected(data: dict) -> dict[str, int]:
    expect = data.get("expect")
    if expect is None:
        return {}
    if not isinstance(expect, dict) or len(expect) > MAX_ROWS:
        raise InvalidInput("input.bad_field", "expect is {sku: old price}", field="expect")
    if not all(type(v) is int for v in expect.values()):
        raise InvalidInput("input.bad_field", "expect is {sku: old price}", field="expect")
    return expect


async def apply(request: web.Request) -> web.Response:
    """All or nothing: refused (nothing changes) when any product's price is HQ's, any new price
    is out of bounds, or a price moved since the preview (``expect``)."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "prices.batch", data)
    cid = command_id(data)
    expect = _expected(data)
    done = (await docs_view(g).fresh()).price_batches.get(cid)
    if done is not None:  # a retry of an applied batch: its first answer
        seq, count, version = done
        return jresp({"id": cid, "seq": seq, "changed": count, "version": version,
                      "duplicate": True})  # fmt: skip
    p, rows = await _plan(g, data)
    if p.hq_owned:
        raise Conflict(
            PriceBatch.HQ_OWNED,
            "HQ sets the price of these products: change them at HQ (kassa admin product price, "
            "or the admin app) and publish, or HQ lists 'price' in this store's fields",
            skus=p.hq_owned[:50],
            hq_owned=len(p.hq_owned),
        )
    if p.refused:
        bad = [r.to_dict() for r in p.refused[:50]]
        raise InvalidInput(PriceBatch.REFUSED_ROWS, "some new prices are out of bounds", rows=bad)
    moved = [r.sku for r in p.rows if r.sku in expect and expect[r.sku] != r.old]
    if moved:
        raise Conflict(PriceBatch.CHANGED, "prices changed since the preview", skus=moved[:50])
    new = {r.sku: r.new for r in p.changing}
    if not new:
        return jresp({"id": cid, "seq": None, "changed": 0, "version": None, "duplicate": False})
    products = [{**row, "price": new[str(row["sku"])]} for row in rows if str(row["sku"]) in new]
    try:
        res = await g.h.catalogue.update(
            cid, products, f"{PRICE_SOURCE}{cid}", Who(staff=ctx.staff, ip=ctx.ip), False
        )
    finally:
        g.h.catalogue_changed()
    await g.journal_approval(ctx, cid)
    return jresp({"id": cid, "seq": res.get("seq"), "changed": len(new),
                  "version": res.get("version"), "duplicate": False})  # fmt: skip


ROUTES = [
    ("POST", "/v1/prices/batch/preview", preview),
    ("POST", "/v1/prices/batch", apply),
]

_CHANGE = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["set", "percent", "amount"]},
        "value": {"type": "integer"},
        "rounding": {"enum": ["none", "unit", "half", "x9", "99"]},
    },
    "required": ["kind", "value"],
}
_SKUS = {"type": "array", "maxItems": MAX_ROWS, "items": {"type": "string", "maxLength": 64}}
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/prices/batch/preview": {
        "post": _op(
            "old and new price of each product of a batch price edit, and who owns each price",
            "prices.batch",
            _body({"skus": _SKUS, "change": _CHANGE}, ["skus", "change"]),
        )
    },
    "/v1/prices/batch": {
        "post": _op(
            "apply a batch price edit, all or nothing, as one catalogue change (idempotent by id)",
            "prices.batch",
            _body(
                {"id": ID, "skus": _SKUS, "change": _CHANGE, "expect": {"type": "object"}},
                ["id", "skus", "change"],
            ),
        )
    },
}
