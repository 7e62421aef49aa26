"""The cloud's HTTP app (aiohttp). It only answers; it never opens a connection to a store.

    POST /v1/ingest                 a store's signed batch (see ``cloud.protocol``)
    POST /v1/holdings               a store's signed question: which seq do you hold?
    GET  /v1/stores                 registered stores: seq held, last upload
    GET  /v1/alerts[?store=S001]    conflicts and broken chains HQ must look at
    GET  /v1/revenue[?store=&from=YYYY-MM-DD&to=YYYY-MM-DD]   revenue per store and day (warehouse)
    GET  /v1/members/{id}/balance   a member's wallet balance as of the last upload
    GET  /v1/stats                  ingest counters (events/s while busy)
    GET  /v1/health

HQ read endpoints require ``Authorization: Bearer <token>`` when an HQ token is configured
(``make_app(hq_token=...)`` or ``KASSA_CLOUD_HQ_TOKEN``). ``cloud.licence.setup(app, data_dir)`` is
called when that module exists.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.ingest import Ingestor
from cloud.protocol import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS, HOLDINGS_TYPE, MAX_BODY, WINDOW_S
from cloud.registry import Registry
from cloud.warehouse import Warehouse
from domain.ports import SystemClock

__all__ = ["make_app", "INGESTOR", "REGISTRY", "WAREHOUSE"]

log = logging.getLogger(__name__)

INGESTOR = web.AppKey("ingestor", Ingestor)
REGISTRY = web.AppKey("registry", Registry)
WAREHOUSE = web.AppKey("warehouse", Warehouse)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
CLOCK = web.AppKey("clock", object)
TOKEN = web.AppKey("hq_token", str)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _check_hq(request: web.Request) -> None:
    token = request.app[TOKEN]
    if not token:
        return
    got = request.headers.get("Authorization", "")
    if not hmac.compare_digest(got.encode(), f"Bearer {token}".encode()):
        raise web.HTTPUnauthorized(text=orjson.dumps({"ok": False, "code": "auth.hq_token",
                                                      "message": "HQ token required"}).decode(),
                                   content_type="application/json")


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


async def ingest(request: web.Request) -> web.Response:
    body = await request.read()
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    headers["Content-Type"] = (HOLDINGS_TYPE if request.path == "/v1/holdings"
                               else request.headers.get("Content-Type", ""))
    reply = await _run(request, request.app[INGESTOR].handle, headers, body)
    return _json(reply.body, reply.status)


async def health(request: web.Request) -> web.Response:
    return _json({"ok": True, "now_us": request.app[CLOCK].now_us()})


async def stats(request: web.Request) -> web.Response:
    _check_hq(request)
    return _json({"ingest": request.app[INGESTOR].stats.to_dict(),
                  "warehouse": request.app[WAREHOUSE].stats()})


async def stores(request: web.Request) -> web.Response:
    _check_hq(request)
    ing = request.app[INGESTOR]
    out = []
    for s in request.app[REGISTRY].stores():
        st = await _run(request, ing.store_status, s.id)
        out.append({"id": s.id, "name": s.name, "zone": s.zone, "active": s.active, **st})
    return _json({"stores": out})


async def alerts(request: web.Request) -> web.Response:
    _check_hq(request)
    return _json({"alerts": request.app[REGISTRY].alerts(request.query.get("store") or None)})


async def revenue(request: web.Request) -> web.Response:
    _check_hq(request)
    q = request.query
    for key in ("from", "to"):
        if q.get(key):
            try:
                date.fromisoformat(q[key])
            except ValueError:
                return _json({"ok": False, "code": "input.bad_date",
                              "message": f"{key}: a date as YYYY-MM-DD"}, 400)
    wh = request.app[WAREHOUSE]
    await wh.flush()
    rows = await _run(request, wh.revenue, q.get("store") or None, q.get("from") or None,
                      q.get("to") or None)
    return _json({"revenue": rows, "as_of": wh.as_of()})


async def member_balance(request: web.Request) -> web.Response:
    _check_hq(request)
    wh = request.app[WAREHOUSE]
    await wh.flush()
    res = await _run(request, wh.member_balance, request.match_info["member"])
    return _json(res)


def make_app(data_dir: Path | str, clock: Any = None, *, window_s: int = WINDOW_S,
             export_delay_s: float = 1.0, hq_token: str | None = None,
             workers: int = 4) -> web.Application:
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    app = web.Application(client_max_size=MAX_BODY)
    registry = Registry(data)
    warehouse = Warehouse(data, registry, clock, delay_s=export_delay_s)
    ingestor = Ingestor(data, registry, clock, window_s=window_s, on_accept=warehouse.mark_dirty)
    warehouse.ingestor = ingestor
    app[REGISTRY] = registry
    app[INGESTOR] = ingestor
    app[WAREHOUSE] = warehouse
    app[EXECUTOR] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloud")
    app[CLOCK] = clock
    app[TOKEN] = hq_token if hq_token is not None else os.environ.get("KASSA_CLOUD_HQ_TOKEN", "")
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
    try:
        from cloud import licence  # written separately; mounted when present
    except ModuleNotFoundError as exc:
        if exc.name != "cloud.licence":
            raise
    else:
        import inspect
        if "clock" in inspect.signature(licence.setup).parameters:
            licence.setup(app, data, clock=clock)
        else:
            licence.setup(app, data)
    return app
