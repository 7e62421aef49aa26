"""The cloud's HTTP app (aiohttp). It only answers; it never opens a connection to a store.

    POST /v1/ingest                 store: a store's signed batch (see ``domain.upload``)
    POST /v1/holdings               store: a signed question: which seq do you hold?
    POST /v1/licence/check          store: a licence HQ signed (``cloud.licence``)
    GET  /v1/stores                 hq: registered stores: seq held, last upload
    GET  /v1/alerts[?store=S001]    hq: conflicts and broken chains HQ must look at
    GET  /v1/revenue[?store=&from=YYYY-MM-DD&to=YYYY-MM-DD]   hq: revenue per store and day
    GET  /v1/members/{id}/balance   hq: a member's wallet balance as of the last upload
    GET  /v1/stats                  hq: ingest counters (events/s while busy)
    GET  /v1/health                 public

Each route has a permission (``cloud.hqauth.PERMISSIONS``): health is public, ingest and the licence
check prove the store in the request, every other route needs ``Authorization: Bearer <HQ token>``
(the token in ``<data>/hq_token``, created at the first start, or ``make_app(hq_token=...)`` /
``KASSA_CLOUD_HQ_TOKEN``). Open reads only with ``insecure_open_reads=True``.
HQ's parts (``OPTIONAL_PARTS``: licences, master data, publishing, activation, the product feed,
flags, revenue) mount their own routes with ``setup(app, data_dir, clock=...)``.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.hqauth import (
    HQ,
    HqAuth,
    Sessions,
    allowed,
    bearer,
    caller,
    declare,
    permission,
    private_dir,
    resolve,
    tighten,
)
from cloud.ingest import Ingestor
from cloud.registry import Registry
from cloud.warehouse import Warehouse
from domain.ports import Clock, SystemClock
from domain.upload import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS, HOLDINGS_TYPE, MAX_BODY, WINDOW_S

__all__ = [
    "make_app",
    "INGESTOR",
    "REGISTRY",
    "WAREHOUSE",
    "AUTH",
    "SESSIONS",
    "HQ_USER",
    "HQ_ROLE",
    "hq_user",
]

log = logging.getLogger(__name__)

INGESTOR = web.AppKey("ingestor", Ingestor)
REGISTRY = web.AppKey("registry", Registry)
WAREHOUSE = web.AppKey("warehouse", Warehouse)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
CLOCK = web.AppKey("clock", Clock)
AUTH = web.AppKey("hq_auth", HqAuth)
SESSIONS = web.AppKey("hq_sessions", Sessions)  # set by cloud.master (HQ's users)
HQ_USER = web.RequestKey("hq_user", str)  # who calls an HQ route (also request["hq_user"])
HQ_ROLE = web.RequestKey("hq_role", str)

# who besides admin reads the cloud's own HQ routes
for _path, _roles in (
    ("/v1/stores", ("support", "finance")),
    ("/v1/alerts", ("support",)),
    ("/v1/revenue", ("finance",)),
    ("/v1/members/{member}/balance", ("finance", "support")),
    ("/v1/stats", ("support",)),
):
    declare("GET", _path, HQ, _roles)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


@web.middleware
async def _permission(request: web.Request, handler: Any) -> web.StreamResponse:
    """HQ routes (every route not listed public or store-proven) need HQ's token or a session
    whose role the route declares (``cloud.hqauth.HQ_ROLES``); the caller's name goes on
    ``request["hq_user"]`` for the audit."""
    route = request.match_info.route
    if (
        request.match_info.http_exception is None
        and route.resource is not None
        and permission(route.resource.canonical) == HQ
    ):
        authorization = request.headers.get("Authorization", "")
        sessions = request.app.get(SESSIONS)
        who = caller(authorization, request.app[AUTH], None)
        if who is None and sessions is not None and bearer(authorization):
            who = await _run(request, caller, authorization, request.app[AUTH], sessions)
        if who is None:
            return web.Response(
                status=401,
                body=orjson.dumps(
                    {"ok": False, "code": "auth.hq_token", "message": "HQ credentials required"}
                ),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="kassa-hq"'},
            )
        if not allowed(request.method, route.resource.canonical, who[1]):
            return _json(
                {
                    "ok": False,
                    "code": "hquser.role_refused",
                    "message": f"role {who[1]} may not {request.method} {route.resource.canonical}",
                },
                403,
            )
        request[HQ_USER], request[HQ_ROLE] = who
        with warnings.catch_warnings():  # the contract's plain key, for the parts that read it
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            request["hq_user"] = who[0]
    return await handler(request)


def hq_user(request: web.Request) -> str:
    """Who called an HQ route (a user's name, or "token" for HQ's token), for the audit."""
    return request.get(HQ_USER) or "?"


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


async def ingest(request: web.Request) -> web.Response:
    body = await request.read()
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    headers["Content-Type"] = (
        HOLDINGS_TYPE if request.path == "/v1/holdings" else request.headers.get("Content-Type", "")
    )
    reply = await _run(request, request.app[INGESTOR].handle, headers, body)
    return _json(reply.body, reply.status)


async def health(request: web.Request) -> web.Response:
    return _json({"ok": True, "now_us": request.app[CLOCK].now_us()})


async def stats(request: web.Request) -> web.Response:
    return _json(
        {
            "ingest": request.app[INGESTOR].stats.to_dict(),
            "warehouse": request.app[WAREHOUSE].stats(),
        }
    )


async def stores(request: web.Request) -> web.Response:
    ing = request.app[INGESTOR]
    out = []
    for s in request.app[REGISTRY].stores():
        st = await _run(request, ing.store_status, s.id)
        out.append({"id": s.id, "name": s.name, "zone": s.zone, "active": s.active, **st})
    return _json({"stores": out})


async def alerts(request: web.Request) -> web.Response:
    return _json({"alerts": request.app[REGISTRY].alerts(request.query.get("store") or None)})


async def revenue(request: web.Request) -> web.Response:
    q = request.query
    for key in ("from", "to"):
        if q.get(key):
            try:
                date.fromisoformat(q[key])
            except ValueError:
                return _json(
                    {
                        "ok": False,
                        "code": "input.bad_date",
                        "message": f"{key}: a date as YYYY-MM-DD",
                    },
                    400,
                )
    wh = request.app[WAREHOUSE]
    await wh.flush()
    rows = await _run(
        request, wh.revenue, q.get("store") or None, q.get("from") or None, q.get("to") or None
    )
    return _json(
        {
            "revenue": rows,
            "as_of": wh.as_of(),
            "quarantined": await _run(request, wh.quarantined, q.get("store") or None),
        }
    )


async def member_balance(request: web.Request) -> web.Response:
    wh = request.app[WAREHOUSE]
    await wh.flush()
    res = await _run(request, wh.member_balance, request.match_info["member"])
    return _json(res)


# HQ's parts, each a module with ``setup(app, data_dir, clock=...)`` that adds its routes (and
# declares their permissions in ``cloud.hqauth``); mounted in this order when the module exists.
OPTIONAL_PARTS = (
    "cloud.licence",
    "cloud.master",
    "cloud.publish",
    "cloud.activation",
    "cloud.feed",
    "cloud.hqflags",
    "cloud.hqrevenue",
    "cloud.hqstores",
    "cloud.backups",
    "cloud.hqhealth",
    "cloud.members",
    "cloud.coupons",  # HQ's coupons for the chain (issue 15)
    "cloud.members_search",  # a member's tier per store, for the admin app (issue 15)
)


def _mount(app: web.Application, name: str, data: Path, clock: Any) -> None:
    import importlib
    import inspect

    try:
        part = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return
    if "clock" in inspect.signature(part.setup).parameters:
        part.setup(app, data, clock=clock)
    else:
        part.setup(app, data)


def make_app(
    data_dir: Path | str,
    clock: Any = None,
    *,
    window_s: int = WINDOW_S,
    export_delay_s: float = 1.0,
    hq_token: str | None = None,
    insecure_open_reads: bool = False,
    workers: int = 4,
) -> web.Application:
    """The cloud app on ``data_dir``. Raises ``cloud.hqauth.OpenReadsRefused`` if HQ reads would be
    open (an empty token) without ``insecure_open_reads``."""
    data = private_dir(Path(data_dir))
    tighten(data)
    auth = resolve(data, hq_token, insecure_open_reads)
    log.log(
        logging.WARNING if auth.mode == "open" else logging.INFO, "cloud auth: %s", auth.describe()
    )
    clock = clock or SystemClock()
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_permission])
    registry = Registry(data)
    warehouse = Warehouse(data, registry, clock, delay_s=export_delay_s)
    ingestor = Ingestor(data, registry, clock, window_s=window_s, on_accept=warehouse.mark_dirty)
    warehouse.ingestor = ingestor
    app[REGISTRY] = registry
    app[INGESTOR] = ingestor
    app[WAREHOUSE] = warehouse
    app[EXECUTOR] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloud")
    app[CLOCK] = clock
    app[AUTH] = auth
    app.router.add_post("/v1/ingest", ingest)
    app.router.add_post("/v1/holdings", ingest)
    app.router.add_get("/v1/health", health)
    app.router.add_get("/v1/stats", stats)
    app.router.add_get("/v1/stores", stores)
    app.router.add_get("/v1/alerts", alerts)
    app.router.add_get("/v1/revenue", revenue)
    app.router.add_get("/v1/members/{member}/balance", member_balance)

    async def _startup(app: web.Application) -> None:
        warehouse.start(app[EXECUTOR])

    async def _cleanup(app: web.Application) -> None:
        await warehouse.stop()
        app[EXECUTOR].shutdown(wait=True)
        ingestor.close()
        registry.close()

    app.on_startup.append(_startup)
    app.on_cleanup.append(_cleanup)
    for name in OPTIONAL_PARTS:
        _mount(app, name, data, clock)
    return app
