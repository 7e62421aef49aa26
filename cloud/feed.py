"""The product feed at HQ: an independent program (the owner's "crawler", any language) sends
product files; HQ validates, stages, diffs and publishes them to the stores subscribed to the feed.

    POST /v1/feed/{name}/files            feed: the feed's own credential; body = a CSV/JSON file
    GET  /v1/hq/feeds                     hq (catalogue): feeds, staged counts
    POST /v1/hq/feeds                     hq (admin): create a feed → its credential, shown once
    GET  /v1/hq/feeds/{name}/staged       hq (catalogue): staged rows as a diff, recent reports
    POST /v1/hq/feeds/{name}/approve      hq (catalogue): into master data, publish to its stores
    POST /v1/hq/feeds/{name}/reject       hq (catalogue): drop what is staged
    POST /v1/hq/feeds/{name}/credential   hq (admin): a new credential (the old one stops)

A feed's credential proves itself in the handler, for its own feed's route only; HQ's middleware
refuses it everywhere else like any unknown token. Files dropped into ``<hq>/feeds/<name>/inbox/``
are processed once (polled every ``KASSA_FEED_POLL_S`` seconds, default 5) and moved to ``done/``
or ``rejected/`` beside a ``.report.json``. Feeds set to auto-publish are approved once a day from
their hour (UTC) by an asyncio task.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.feed_desk import FeedDesk
from cloud.feed_inbox import scan_inbox
from cloud.hqauth import FEED, HQ, declare
from domain.error_codes.feed import Feed
from domain.errors import KassaError
from domain.ports import Clock, SystemClock

__all__ = ["setup", "DESK", "FILES_PATH", "run_daily", "run_inbox"]

log = logging.getLogger(__name__)

DESK = web.AppKey("feed_desk", FeedDesk)
_TASKS = web.AppKey("feed_tasks", list)
FILES_PATH = "/v1/feed/{name}/files"
POLL_ENV = "KASSA_FEED_POLL_S"
_KINDS = {"text/csv": "csv", "application/json": "json", "application/x-ndjson": "jsonl"}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: KassaError) -> web.Response:
    status = 413 if exc.code == Feed.TOO_LARGE else exc.http_status
    return _json({"ok": False, "code": exc.code, "message": exc.message, **exc.details}, status)


def _who(request: web.Request) -> str:
    for key in ("hq_user", "user", "who"):
        value = request.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and value.get("user"):
            return str(value["user"])
    return "hq"


async def _call(request: web.Request, fn: Callable[..., Any], *args: Any) -> web.Response:
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, fn, *args)
    except KassaError as exc:
        return _error(exc)
    return _json(result)


async def post_file(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    name = request.match_info["name"]
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    loop = asyncio.get_running_loop()
    ok = scheme.lower() == "bearer" and await loop.run_in_executor(
        None, desk.store.verify, name, credential.strip()
    )
    if not ok:
        return _json(
            {"ok": False, "code": Feed.BAD_CREDENTIAL, "message": Feed.BAD_CREDENTIAL.text}, 401
        )
    if (request.content_length or 0) > desk.max_bytes:
        return _json({"ok": False, "code": Feed.TOO_LARGE, "limit": desk.max_bytes}, 413)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > desk.max_bytes:
            return _json({"ok": False, "code": Feed.TOO_LARGE, "limit": desk.max_bytes}, 413)
        chunks.append(chunk)
    kind = request.query.get("format") or _KINDS.get(request.content_type, "")
    file_name = request.query.get("file", "")[:200]
    return await _call(request, desk.receive, name, b"".join(chunks), kind, "http", file_name)


async def list_feeds(request: web.Request) -> web.Response:
    return await _call(request, lambda: {"feeds": request.app[DESK].store.feeds()})


async def add_feed(request: web.Request) -> web.Response:
    try:
        body = orjson.loads(await request.read())
        args = (
            str(body["name"]),
            [str(s) for s in body.get("stores") or []],
            _who(request),
            bool(body.get("auto_publish", False)),
            int(body.get("publish_hour", 3)),
            str(body.get("tax_class", "std")),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return _json({"ok": False, "code": "input.bad_field", "message": "name, stores"}, 400)

    def add() -> dict[str, Any]:
        return {"ok": True, "name": args[0], "credential": request.app[DESK].add(*args)}

    return await _call(request, add)


async def staged(request: web.Request) -> web.Response:
    return await _call(request, request.app[DESK].review, request.match_info["name"])


async def approve(request: web.Request) -> web.Response:
    desk, name = request.app[DESK], request.match_info["name"]
    return await _call(request, desk.approve, name, _who(request))


async def reject(request: web.Request) -> web.Response:
    desk, name = request.app[DESK], request.match_info["name"]
    return await _call(request, desk.reject, name, _who(request))


async def rotate(request: web.Request) -> web.Response:
    desk, name = request.app[DESK], request.match_info["name"]

    def new() -> dict[str, Any]:
        return {"ok": True, "name": name, "credential": desk.rotate(name, _who(request))}

    return await _call(request, new)


# ---------------------------------------------------------------- background work


async def run_daily(
    desk: FeedDesk, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
) -> None:
    """Forever: publish what auto-publishing feeds staged once their hour has come, then wait
    for the next whole hour (``sleep`` is replaced by a fake clock's in tests)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, desk.publish_due)
        except Exception:  # a failed round is logged; the next hour tries again
            log.exception("feed: daily publish failed")
        await sleep(desk.next_due_s())


async def run_inbox(
    desk: FeedDesk, every_s: float, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, scan_inbox, desk)
        except Exception:
            log.exception("feed: inbox scan failed")
        await sleep(every_s)


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> FeedDesk:
    def master() -> Any:
        return app.get(importlib.import_module("cloud.master").MASTER)

    def publisher() -> Any:
        return app.get(importlib.import_module("cloud.publish").PUBLISHER)

    desk = FeedDesk(Path(data_dir), clock or SystemClock(), _optional(master), _optional(publisher))
    app[DESK] = desk
    declare("POST", FILES_PATH, FEED)
    app.router.add_post(FILES_PATH, post_file)
    for method, path, handler, roles in (
        ("GET", "/v1/hq/feeds", list_feeds, ("catalogue", "support")),
        ("POST", "/v1/hq/feeds", add_feed, ()),
        ("GET", "/v1/hq/feeds/{name}/staged", staged, ("catalogue", "support")),
        ("POST", "/v1/hq/feeds/{name}/approve", approve, ("catalogue",)),
        ("POST", "/v1/hq/feeds/{name}/reject", reject, ("catalogue",)),
        ("POST", "/v1/hq/feeds/{name}/credential", rotate, ()),
    ):
        declare(method, path, HQ, roles)
        app.router.add_route(method, path, handler)
    every = float(os.environ.get(POLL_ENV, "5"))

    async def start(app: web.Application) -> None:
        app[_TASKS] = [
            asyncio.create_task(run_daily(desk), name="feed-daily"),
            asyncio.create_task(run_inbox(desk, every), name="feed-inbox"),
        ]

    async def stop(app: web.Application) -> None:
        for task in app.get(_TASKS, []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return desk


def _optional(get: Callable[[], Any]) -> Callable[[], Any]:
    """``get()``, or None while that part of HQ is not installed."""

    def call() -> Any:
        try:
            return get()
        except ModuleNotFoundError:
            return None

    return call
