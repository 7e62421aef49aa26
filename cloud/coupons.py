"""HQ's coupons for the chain (the rule: ``domain.coupon_chain``; storage: ``cloud.coupons_db``).

    POST /v1/hq/coupons                   hq: issue {code?, kind: amount|percent, value,
                                          min_spend?, valid_from?, valid_to?, uses?, member?,
                                          stores? (default: every store), quota? (uses each
                                          store may make offline; default: half the uses
                                          spread over the stores)} -> the coupon
    GET  /v1/hq/coupons                   hq: every coupon with its pool, claims, revoked
    POST /v1/hq/coupons/{code}/revoke     hq: revoke (the stores pull it)
    GET  /v1/coupons/changes?since=N      store: HQ's coupons for this store issued or revoked
                                          after version N, with this store's quota as ``uses``
    POST /v1/coupons/{code}/claim         store: {key, store} -> {granted, claim}: one online
                                          use from HQ's pool (the same key, the same answer)
    GET  /v1/coupons/{code}/pool          store: {left}: what this store could still claim

Store routes are signed like the uploads (``cloud.members._signed``); the body's ``store`` must
be the signing store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from cloud.app import REGISTRY
from cloud.coupons_db import CouponsHQ
from cloud.hqauth import HQ, STORE, mount
from cloud.members import _doc, _error, _json, _run, _signed
from domain.errors import InvalidInput, KassaError
from domain.ports import Clock, SystemClock

__all__ = ["setup", "COUPONS"]

COUPONS = web.AppKey("kassa_coupons_hq", CouponsHQ)
ISSUERS = ("finance",)
READERS = ("finance", "support")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        doc = await request.json()
    except ValueError:
        raise InvalidInput("input.bad_json", "the request body is not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput("input.bad_json", "the request body is a JSON object")
    return doc


async def hq_issue(request: web.Request) -> web.Response:
    try:
        doc = await _body(request)
        by = str(request.get("hq_user") or "token")  # who issued it (the middleware found them)
        return _json(await _run(request, request.app[COUPONS].issue, doc, by))
    except KassaError as exc:
        return _error(exc)


async def hq_list(request: web.Request) -> web.Response:
    return _json({"coupons": await _run(request, request.app[COUPONS].listing)})


async def hq_revoke(request: web.Request) -> web.Response:
    code = request.match_info["code"].strip().upper()
    try:
        return _json(await _run(request, request.app[COUPONS].revoke, code))
    except KassaError as exc:
        return _error(exc)


async def changes(request: web.Request) -> web.Response:
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        return _error(InvalidInput("input.bad_field", "since: a whole number", field="since"))
    return _json(await _run(request, request.app[COUPONS].changes, got[0], since))


async def claim(request: web.Request) -> web.Response:
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    store, body = got
    try:
        doc = _doc(store, body, "key")
        code = request.match_info["code"].strip().upper()
        ans = await _run(request, request.app[COUPONS].claim, code, store, doc["key"])
    except KassaError as exc:
        return _error(exc)
    return _json({"ok": True, **ans})


async def pool(request: web.Request) -> web.Response:
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    code = request.match_info["code"].strip().upper()
    try:
        return _json(await _run(request, request.app[COUPONS].pool_left, code, got[0]))
    except KassaError as exc:
        return _error(exc)


ROUTES = (
    ("GET", "/v1/coupons/changes", changes, STORE, ()),
    ("POST", "/v1/coupons/{code}/claim", claim, STORE, ()),
    ("GET", "/v1/coupons/{code}/pool", pool, STORE, ()),
    ("POST", "/v1/hq/coupons", hq_issue, HQ, ISSUERS),
    ("GET", "/v1/hq/coupons", hq_list, HQ, READERS),
    ("POST", "/v1/hq/coupons/{code}/revoke", hq_revoke, HQ, ISSUERS),
)


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> CouponsHQ:
    hq = CouponsHQ(data_dir, app[REGISTRY], clock or SystemClock())
    mount(app, COUPONS, hq, ROUTES)
    return hq
