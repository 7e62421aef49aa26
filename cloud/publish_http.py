"""The publishing routes of the cloud (mounted by ``cloud.publish.setup``).

    POST /v1/catalogue/pull          store: signed like /v1/holdings; body {"have": N | null}
                                     → 200 a bundle (application/vnd.kassa.bundle), 204 when the
                                     store runs the newest version, 404 catalogue.none_published
    GET  /v1/hq/publish/preview?store=S001[&limit=]   what a publish would change for a store
    POST /v1/hq/publish              {"stores": [..] | null, "note": ".."} → {"version", "stores"}
    GET  /v1/hq/publications[?limit=]                 publications, newest first
    GET  /v1/hq/stores/catalogue     per store: version published, version last pulled, when

Catalogue editors and admins publish; support and finance may read.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.hqauth import HQ, STORE, declare
from cloud.publish import PUBLISHER, Publisher
from domain.errors import InvalidInput, KassaError
from domain.ports import Clock, SystemClock
from domain.upload import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS

__all__ = ["mount", "BUNDLE_TYPE", "PULL_PATH"]

log = logging.getLogger(__name__)

BUNDLE_TYPE = "application/vnd.kassa.bundle"
PULL_PATH = "/v1/catalogue/pull"
EDITORS = ("catalogue",)
READERS = ("catalogue", "support", "finance")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: KassaError) -> web.Response:
    return _json({"ok": False, **exc.to_dict()}, exc.http_status)


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    from cloud.app import EXECUTOR

    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


def _who(request: web.Request) -> str:
    """The HQ user the session middleware found (the HQ token is user "token")."""
    for key in ("hq_user", "user"):
        who = request.get(key)
        if isinstance(who, str) and who:
            return who
        name = getattr(who, "user", None) or getattr(who, "name", None)
        if isinstance(name, str) and name:
            return name
    return "token"


def _have(body: bytes) -> int | None:
    try:
        doc = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidInput("input.bad_json", "the request body is not JSON") from None
    have = doc.get("have") if isinstance(doc, dict) else "?"
    if have is not None and (not isinstance(have, int) or isinstance(have, bool) or have < 0):
        raise InvalidInput("input.bad_json", 'the body is {"have": <version> | null}')
    return have


async def pull(request: web.Request) -> web.StreamResponse:
    from cloud.app import INGESTOR

    body = await request.read()
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    refused = request.app[INGESTOR].authenticate(headers, body)
    if refused is not None:
        return _json(refused.body, refused.status)
    try:
        have = _have(body)
        data = await _run(request, request.app[PUBLISHER].pull, headers[H_STORE], have)
    except KassaError as exc:
        return _error(exc)
    if data is None:
        return web.Response(status=204)
    return web.Response(body=data, content_type=BUNDLE_TYPE)


async def preview(request: web.Request) -> web.Response:
    store = request.query.get("store", "")
    if not store:
        return _error(InvalidInput("input.bad_field", "which store? (?store=S001)"))
    try:
        limit = max(1, min(int(request.query.get("limit", "1000")), 100_000))
    except ValueError:
        return _error(InvalidInput("input.bad_field", "limit is a number"))
    return _json(await _run(request, request.app[PUBLISHER].preview, store, limit))


async def publish(request: web.Request) -> web.Response:
    try:
        doc = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        return _error(InvalidInput("input.bad_json", "the request body is not JSON"))
    stores = doc.get("stores") if isinstance(doc, dict) else None
    note = doc.get("note", "") if isinstance(doc, dict) else ""
    if not isinstance(doc, dict) or not (
        stores is None or (isinstance(stores, list) and all(isinstance(s, str) for s in stores))
    ):
        return _error(InvalidInput("input.bad_json", 'the body is {"stores": [..] | null, "note"}'))
    pub = request.app[PUBLISHER]
    try:
        version = await _run(request, pub.publish, stores, _who(request), str(note or ""))
    except KassaError as exc:
        return _error(exc)
    stores = await _run(request, pub.stores_of, version)
    return _json({"ok": True, "version": version, "stores": stores})


async def publications(request: web.Request) -> web.Response:
    try:
        limit = max(1, min(int(request.query.get("limit", "100")), 10_000))
    except ValueError:
        return _error(InvalidInput("input.bad_field", "limit is a number"))
    rows = await _run(request, request.app[PUBLISHER].publications, limit)
    return _json({"publications": rows})


async def stores_catalogue(request: web.Request) -> web.Response:
    return _json({"stores": await _run(request, request.app[PUBLISHER].stores_catalogue)})


def mount(app: web.Application, data: Path, clock: Clock | None) -> Publisher | None:
    """Add the routes; publishing needs HQ's master data (``cloud.master``) and licence key."""
    try:
        from cloud.master import MASTER
    except ModuleNotFoundError:
        log.warning("no HQ master data (cloud.master): catalogue publishing is off")
        return None
    from cloud.licence import AUTHORITY_KEY, LicenceAuthority

    master = app.get(MASTER)
    if master is None:
        log.warning("HQ master data is not mounted: catalogue publishing is off")
        return None
    authority = app.get(AUTHORITY_KEY) or LicenceAuthority(data, clock)
    pub = Publisher(data, master, authority, clock or SystemClock())
    app[PUBLISHER] = pub
    declare("POST", PULL_PATH, STORE)
    declare("GET", "/v1/hq/publish/preview", HQ, READERS)
    declare("POST", "/v1/hq/publish", HQ, EDITORS)
    declare("GET", "/v1/hq/publications", HQ, READERS)
    declare("GET", "/v1/hq/stores/catalogue", HQ, READERS)
    app.router.add_post(PULL_PATH, pull)
    app.router.add_get("/v1/hq/publish/preview", preview)
    app.router.add_post("/v1/hq/publish", publish)
    app.router.add_get("/v1/hq/publications", publications)
    app.router.add_get("/v1/hq/stores/catalogue", stores_catalogue)

    async def _close(app: web.Application) -> None:
        pub.close()

    app.on_cleanup.append(_close)
    return pub
