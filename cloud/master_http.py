"""HQ's master data and HQ's users over HTTP (JSON in and out; errors
``{"ok": false, "code", "message", ...details}``). Who may call what (``admin`` always may):

    POST   /v1/hq/login      public: {user, password} -> {token, user, role, expires_us}
    POST   /v1/hq/logout, GET /v1/hq/me    every role
    GET    /v1/hq/users, POST, PATCH /v1/hq/users/{user}                        admin
    GET    /v1/hq/products?q=&lang=&category=&offset=&limit=   catalogue, finance, support
    GET    /v1/hq/products/{sku}                               catalogue, finance, support
    PUT    /v1/hq/products/{sku}, DELETE                       catalogue
    POST   /v1/hq/products/import?format=csv|xlsx&dry_run=0|1  catalogue
    GET    /v1/hq/products/export?format=csv|xlsx              catalogue, finance, support
    GET    /v1/hq/categories                                   every role
    GET    /v1/hq/prices?sku=&group=                           catalogue, finance, support
    POST   /v1/hq/prices, DELETE /v1/hq/prices/{id}            catalogue
    GET    /v1/hq/profiles, /v1/hq/profiles/{store}            every role
    PUT    /v1/hq/profiles/{store}                             admin
    GET    /v1/hq/staff-templates                              support;  PUT: admin
    GET    /v1/hq/store-fields                                 catalogue, support;  PUT: admin
    GET    /v1/hq/audit?since=&who=&what=&limit=               support
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.app import EXECUTOR, HQ_ROLE, SESSIONS, hq_user
from cloud.hqauth import HQ, PUBLIC, ROLES, bearer, declare
from cloud.hqusers import HqUsers
from cloud.master import MASTER
from cloud.master_io import import_file, to_csv, to_xlsx
from domain.catalogue import product_from_dict
from domain.error_codes import Input
from domain.error_codes.hqmaster import Master
from domain.errors import InvalidInput, KassaError, NotFound

__all__ = ["mount", "USERS"]

USERS = web.AppKey("kassa_hq_users", HqUsers)
READ = ("catalogue", "finance", "support")
EVERY = tuple(r for r in ROLES if r != "admin")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: KassaError) -> web.Response:
    return _json(
        {**exc.details, "ok": False, "code": exc.code, "message": exc.message}, exc.http_status
    )


async def _call(request: web.Request, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[EXECUTOR], partial(fn, *args, **kw))


async def _body(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise InvalidInput(Input.BAD_JSON, "the request body is not JSON") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(Input.NOT_OBJECT, "the request body is a JSON object")
    return body


def _int(request: web.Request, key: str, default: int) -> int:
    text = request.query.get(key, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(Input.BAD_FIELD, f"{key} is a whole number", field=key) from None


def _safe(fn: Handler) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except KassaError as exc:
            return _error(exc)

    return handler


# ---------------------------------------------------------------- users and sessions


async def login(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    users = request.app[USERS]
    session = await _call(
        request, users.login, body.get("user"), body.get("password"), request.remote or "?"
    )
    return _json(session)


async def logout(request: web.Request) -> web.Response:
    token = bearer(request.headers.get("Authorization", ""))
    await _call(request, request.app[USERS].logout, token)
    return _json({"ok": True})


async def me(request: web.Request) -> web.Response:
    token = bearer(request.headers.get("Authorization", ""))
    expires = await _call(request, request.app[USERS].expires_us, token)
    return _json({"user": hq_user(request), "role": request.get(HQ_ROLE), "expires_us": expires})


async def users_list(request: web.Request) -> web.Response:
    return _json({"users": await _call(request, request.app[USERS].users)})


async def users_add(request: web.Request) -> web.Response:
    b = _object(await _body(request))
    users = request.app[USERS]
    user = await _call(
        request, users.add, b.get("user"), b.get("role"), b.get("password"), hq_user(request)
    )
    return _json({"ok": True, **user}, 201)


async def users_change(request: web.Request) -> web.Response:
    b = _object(await _body(request))
    unknown = set(b) - {"role", "active", "password"}
    if unknown:
        raise InvalidInput(Input.BAD_FIELD, f"unknown field {sorted(unknown)[0]}")
    user = await _call(
        request, request.app[USERS].change, request.match_info["user"], hq_user(request), **b
    )
    return _json({"ok": True, **user})


# ---------------------------------------------------------------- products


def _named(p: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**p, "name": product_from_dict(p).name(lang)} if lang else p


async def products_list(request: web.Request) -> web.Response:
    q, master = request.query, request.app[MASTER]
    rows, total = await _call(
        request,
        master.products,
        q.get("q", ""),
        q.get("category", ""),
        _int(request, "offset", 0),
        _int(request, "limit", 50),
    )
    lang = q.get("lang", "")
    return _json(
        {
            "products": [_named(p, lang) for p in rows],
            "total": total,
            "version": await _call(request, master.version),
        }
    )


async def product_get(request: web.Request) -> web.Response:
    p = await _call(request, request.app[MASTER].product, request.match_info["sku"])
    if p is None:
        raise NotFound(Master.NOT_FOUND, f"no product {request.match_info['sku']}")
    return _json(_named(p, request.query.get("lang", "")))


async def product_put(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    sku = request.match_info["sku"]
    if_version = body.pop("if_version", None)
    if if_version is not None and (isinstance(if_version, bool) or not isinstance(if_version, int)):
        raise InvalidInput(Input.BAD_FIELD, "if_version is a version number", field="if_version")
    for key in ("source", "version", "updated_us", "updated_by", "name"):
        body.pop(key, None)  # what GET adds: a client may send back what it read
    if body.setdefault("sku", sku) != sku:
        raise InvalidInput(Input.BAD_FIELD, "the SKU in the body is not the one in the address")
    master = request.app[MASTER]
    version = await _call(request, master.put_product, body, hq_user(request), if_version)
    return _json({"ok": True, "version": version})


async def product_delete(request: web.Request) -> web.Response:
    master = request.app[MASTER]
    v = await _call(request, master.delete_product, request.match_info["sku"], hq_user(request))
    return _json({"ok": True, "version": v})


def _format(request: web.Request) -> str:
    fmt = request.query.get("format", "csv")
    if fmt not in CONTENT_TYPES:
        raise InvalidInput(Input.BAD_FIELD, "format is csv or xlsx", field="format")
    return fmt


async def products_import(request: web.Request) -> web.Response:
    fmt, dry = _format(request), request.query.get("dry_run", "0") not in ("0", "", "false")
    data = await request.read()
    res = await _call(request, import_file, request.app[MASTER], data, fmt, hq_user(request), dry)
    return _json({"ok": True, **res})


def _export(master: Any, fmt: str) -> bytes:
    rows, total = master.products(limit=1 << 30)
    return to_xlsx(rows) if fmt == "xlsx" else to_csv(rows)


async def products_export(request: web.Request) -> web.Response:
    fmt = _format(request)
    data = await _call(request, _export, request.app[MASTER], fmt)
    return web.Response(
        body=data,
        content_type=CONTENT_TYPES[fmt].split(";")[0],
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="products.{fmt}"'},
    )


async def categories(request: web.Request) -> web.Response:
    return _json({"categories": await _call(request, request.app[MASTER].categories)})


# ---------------------------------------------------------------- prices, profiles, the rest


async def prices_list(request: web.Request) -> web.Response:
    q = request.query
    rows = await _call(request, request.app[MASTER].prices, q.get("sku", ""), q.get("group", ""))
    return _json({"prices": rows})


async def prices_add(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    pid, v = await _call(request, request.app[MASTER].add_price, body, hq_user(request))
    return _json({"ok": True, "id": pid, "version": v}, 201)


async def prices_delete(request: web.Request) -> web.Response:
    try:
        pid = int(request.match_info["id"])
    except ValueError:
        raise NotFound(Master.PRICE_NOT_FOUND, "no such price change") from None
    v = await _call(request, request.app[MASTER].delete_price, pid, hq_user(request))
    return _json({"ok": True, "version": v})


async def profiles_list(request: web.Request) -> web.Response:
    return _json({"profiles": await _call(request, request.app[MASTER].store_profiles)})


async def profile_get(request: web.Request) -> web.Response:
    store = request.match_info["store"]
    p = await _call(request, request.app[MASTER].store_profile, store)
    if p is None:
        raise NotFound(Master.STORE_NOT_FOUND, f"no profile for {store}")
    return _json(p)


async def profile_put(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    body.setdefault("id", request.match_info["store"])
    if body["id"] != request.match_info["store"]:
        raise InvalidInput(Master.BAD_PROFILE, "the id in the body is not the store's")
    v = await _call(request, request.app[MASTER].put_store_profile, body, hq_user(request))
    return _json({"ok": True, "version": v})


async def templates_get(request: web.Request) -> web.Response:
    return _json(await _call(request, request.app[MASTER].staff_templates))


async def templates_put(request: web.Request) -> web.Response:
    body = await _body(request)
    v = await _call(request, request.app[MASTER].put_staff_templates, body, hq_user(request))
    return _json({"ok": True, "version": v})


async def fields_get(request: web.Request) -> web.Response:
    return _json({"fields": await _call(request, request.app[MASTER].store_fields)})


async def fields_put(request: web.Request) -> web.Response:
    body = _object(await _body(request))
    master = request.app[MASTER]
    v = await _call(request, master.put_store_fields, body.get("fields"), hq_user(request))
    return _json({"ok": True, "version": v})


async def audit(request: web.Request) -> web.Response:
    q = request.query
    rows = await _call(
        request,
        request.app[MASTER].audit_log,
        _int(request, "since", 0),
        q.get("who", ""),
        q.get("what", ""),
        _int(request, "limit", 500),
    )
    return _json({"audit": rows})


ROUTES: tuple[tuple[str, str, Handler, tuple[str, ...] | None], ...] = (
    # (method, path, handler, roles besides admin; None: public)
    ("POST", "/v1/hq/login", login, None),
    ("POST", "/v1/hq/logout", logout, EVERY),
    ("GET", "/v1/hq/me", me, EVERY),
    ("GET", "/v1/hq/users", users_list, ()),
    ("POST", "/v1/hq/users", users_add, ()),
    ("PATCH", "/v1/hq/users/{user}", users_change, ()),
    ("GET", "/v1/hq/products", products_list, READ),
    ("POST", "/v1/hq/products/import", products_import, ("catalogue",)),
    ("GET", "/v1/hq/products/export", products_export, READ),
    ("GET", "/v1/hq/products/{sku}", product_get, READ),
    ("PUT", "/v1/hq/products/{sku}", product_put, ("catalogue",)),
    ("DELETE", "/v1/hq/products/{sku}", product_delete, ("catalogue",)),
    ("GET", "/v1/hq/categories", categories, EVERY),
    ("GET", "/v1/hq/prices", prices_list, READ),
    ("POST", "/v1/hq/prices", prices_add, ("catalogue",)),
    ("DELETE", "/v1/hq/prices/{id}", prices_delete, ("catalogue",)),
    ("GET", "/v1/hq/profiles", profiles_list, EVERY),
    ("GET", "/v1/hq/profiles/{store}", profile_get, EVERY),
    ("PUT", "/v1/hq/profiles/{store}", profile_put, ()),
    ("GET", "/v1/hq/staff-templates", templates_get, ("support",)),
    ("PUT", "/v1/hq/staff-templates", templates_put, ()),
    ("GET", "/v1/hq/store-fields", fields_get, ("catalogue", "support")),
    ("PUT", "/v1/hq/store-fields", fields_put, ()),
    ("GET", "/v1/hq/audit", audit, ("support",)),
)


def mount(app: web.Application, master: Any, data: Path, clock: Any) -> HqUsers:
    """Mount the master-data and HQ-user routes; HQ's sessions become the app's ``SESSIONS``."""
    users = HqUsers(data, clock, audit=master.audit)
    app[USERS] = users
    app[SESSIONS] = users
    for method, path, fn, roles in ROUTES:
        app.router.add_route(method, path, _safe(fn))
        if roles is None:
            declare(method, path, PUBLIC)
        else:
            declare(method, path, HQ, roles)

    async def _close(app: web.Application) -> None:
        users.close()
        master.close()

    app.on_cleanup.append(_close)
    return users
