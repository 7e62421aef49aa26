"""The catalogue: search, one product, and importing products (a manager's)."""

from __future__ import annotations

from aiohttp import web

from actors.http.common import command_id, jresp, need_str, query_int, read_json
from actors.http.context import gw
from actors.till import Who
from domain.errors import InvalidInput, NotFound
from domain.pan import CODE_FIELDS, refuse_card_numbers_in

__all__ = ["ROUTES"]


async def search(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, "products.view")
    q = request.query.get("q", "")
    limit = query_int(request, "limit", 50, 1, 200)
    sellable = request.query.get("sellable") == "1" or not g.dir.allows(
        ctx.staff, "products.view_all"
    )
    return jresp(await g.h.catalogue.search(q, limit, sellable))


async def grid(request: web.Request) -> web.Response:
    """The sale counter's item grid: the categories, and one category's products (favourites)."""
    g = gw(request)
    await g.auth(request, "products.view")
    return jresp(await g.h.catalogue.grid(request.query.get("category", "")))


async def product(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, "products.view")
    code = request.match_info["code"]
    if len(code) > 64:
        raise InvalidInput("scan.bad_code", "a code is at most 64 characters")
    p = await g.h.catalogue.lookup(code)
    if not p.get("sellable", True) and not g.dir.allows(ctx.staff, "products.view_all"):
        raise NotFound("product.not_found", "no such product", code=code)
    return jresp(p)


async def import_products(request: web.Request) -> web.Response:
    g = gw(request)
    ctx = await g.auth(request, "products.import")
    data = await read_json(request)
    cid = command_id(data)
    products = data.get("products")
    if not isinstance(products, list) or not products or len(products) > 200_000:
        raise InvalidInput(
            "input.bad_field", "'products' must be a non-empty list", field="products"
        )
    if not all(isinstance(p, dict) for p in products):
        raise InvalidInput("product.bad_row", "each product is an object")
    for i, p in enumerate(products):
        refuse_card_numbers_in(p, f"products[{i}]", CODE_FIELDS)
    try:
        res = await g.h.catalogue.update(
            cid,
            products,
            need_str(data, "source", 100, required=False) or "import",
            Who(staff=ctx.staff, ip=ctx.ip),
            bool(data.get("replace_all", False) is True),
        )
    finally:
        g.h.catalogue_changed()
    return jresp(res)


ROUTES = [
    ("GET", "/v1/products", search),
    ("POST", "/v1/products/import", import_products),
    ("GET", "/v1/products/{code}", product),
    ("GET", "/v1/product-grid", grid),
]
