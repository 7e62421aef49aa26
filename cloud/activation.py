"""Licence activation at HQ, and HQ's licence routes for the admin app.

    POST /v1/licence/activate                   store: {licence, store_id, install_id, nonce}
                                                -> {id, status, install_id, licence_id, activation}
    GET  /v1/hq/activations[?status=&licence=]  hq (admin, support)
    POST /v1/hq/activations/{id}/approve        hq (admin, support) {move?: bool, note?}
    POST /v1/hq/activations/{id}/deny           hq (admin, support) {note?}
    POST /v1/hq/activations/{id}/release        hq (admin, support) {note?}
    GET  /v1/hq/licences                        hq (admin, support, finance)
    POST /v1/hq/licences                        hq (admin, support) {store, days, grace, tills,
                                                features, from_us?, approve_first?} -> the file
    POST /v1/hq/licences/{id}/revoke            hq (admin, support) {reason?}
    POST /v1/hq/licences/{id}/renew             hq (admin, support) {days} -> the new licence file

The activation request is store-proven: the licence in it must be one HQ signed for that store, and
a store HQ registered for uploads (it holds an upload secret) must also sign the request like an
upload (``domain.upload`` headers: HMAC, time window, nonce remembered). A store never linked to HQ
(a shop with no line, or before linking) is proven by its licence alone: HQ's person approving the
request is the second factor. Requests are kept in ``<hq>/activation.sqlite``
(``cloud.activation_db``); licences in ``<hq>/licence/`` (``cloud.licence.LicenceAuthority``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from cloud.activation_db import Activations
from cloud.hqauth import STORE, declare
from cloud.licence import AUTHORITY_KEY, LicenceAuthority
from domain.errors import Conflict, InvalidInput, KassaError, Unauthorized
from domain.ports import Clock
from domain.upload import H_NONCE, H_SIG, H_STORE, H_TS, WINDOW_S, valid_nonce, verify_signature

__all__ = [
    "setup",
    "ACTIVATE_PATH",
    "ACTIVATIONS",
    "licence_rows",
    "create_licence",
    "renew_licence",
]

ACTIVATE_PATH = "/v1/licence/activate"
ACTIVATIONS: web.AppKey[Activations] = web.AppKey("kassa_activations", Activations)
DAY_US = 86_400_000_000
_ROLES = ("support",)
_DECISIONS = ("approve", "deny", "release")

Handler = Callable[[web.Request], Awaitable[web.Response]]


# ---------------------------------------------------------------- licences (HQ's desk)


def licence_rows(auth: LicenceAuthority) -> list[dict[str, Any]]:
    """Every licence HQ issued, with its state: valid | expired | future | revoked."""
    revoked = auth.revoked()
    now = auth.clock.now_us()
    rows = []
    for doc in auth.issued():
        lic = doc.get("licence", {})
        lid = lic.get("licence_id", "?")
        state = (
            "revoked"
            if lid in revoked
            else "expired"
            if now >= lic.get("valid_until", 0)
            else "future"
            if now < lic.get("valid_from", 0)
            else "valid"
        )
        rows.append({**lic, "state": state})
    return rows


def _int(body: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int:
    v = body.get(key, default)
    if type(v) is not int or not low <= v <= high:
        raise InvalidInput("input.bad_field", f"{key}: a whole number {low}..{high}", field=key)
    return v


def create_licence(auth: LicenceAuthority, body: Any) -> dict[str, Any]:
    """``{store, days, grace, tills, features, from_us?, id?}`` -> a signed licence file (the
    same as ``kassa admin licence create``). New licences need activation."""
    if not isinstance(body, dict):
        raise InvalidInput("input.bad_json", "a licence is a JSON object")
    days = _int(body, "days", None, 1, 36_500)
    grace = _int(body, "grace", 7, 0, 365)
    tills = _int(body, "tills", 1, 1, 10_000)
    feats = body.get("features", [])
    if not isinstance(feats, list) or not all(isinstance(f, str) for f in feats):
        raise InvalidInput("input.bad_field", "features: a list of names", field="features")
    auth.ensure_key()
    now = auth.clock.now_us()
    start = body.get("from_us")
    if start is None:
        start = now - now % DAY_US
    elif type(start) is not int:
        raise InvalidInput("input.bad_field", "from_us: UTC microseconds", field="from_us")
    lid = body.get("id")
    return auth.issue(
        str(body.get("store") or ""),
        start,
        start + days * DAY_US,
        grace,
        tills,
        [f for item in feats for f in item.split(",") if f],
        lid if isinstance(lid, str) and lid else None,
    )


def renew_licence(
    auth: LicenceAuthority, acts: Activations, licence_id: str, days: int, who: str
) -> dict[str, Any]:
    """A new licence for the same store, tills, features and grace, from the end of the old one
    (or today if it has ended) for ``days``; the installs that hold the old licence hold the new
    one at once (``Activations.carry_over``)."""
    from domain.errors import NotFound

    old = next((r for r in licence_rows(auth) if r.get("licence_id") == licence_id), None)
    if old is None:
        raise NotFound("licence.not_found", f"HQ never issued licence {licence_id}")
    now = auth.clock.now_us()
    start = max(old["valid_until"], now - now % DAY_US)
    doc = auth.issue(
        old["store_id"],
        start,
        start + days * DAY_US,
        old["grace_days"],
        old["tills"],
        old.get("features", []),
    )
    acts.carry_over(licence_id, doc["licence"]["licence_id"], who)
    return doc


# ---------------------------------------------------------------- HTTP


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _who(request: web.Request) -> str:
    """The HQ user calling (``cloud.app.hq_user``, from the permission middleware), or "token"
    for HQ's API token."""
    import cloud.app

    fn = getattr(cloud.app, "hq_user", None)
    return str((fn(request) if fn else request.get("hq_user")) or "token")


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("input.bad_json", "the request body is not JSON") from None


def _guard(fn: Handler) -> Handler:
    async def run(request: web.Request) -> web.Response:
        try:
            return await fn(request)
        except KassaError as exc:
            return _json({"ok": False, **exc.to_dict()}, exc.http_status)

    return run


def _store_proven(request: web.Request, raw: bytes, store: str) -> None:
    """A store HQ registered for uploads signs its request with its upload secret."""
    from cloud.app import CLOCK, REGISTRY

    reg = request.app[REGISTRY]
    entry = reg.store(store)
    if entry is None or not entry.active:
        return  # never linked: the licence HQ signed is the proof, HQ's approval the second
    h = request.headers
    ts, nonce, sig = h.get(H_TS, ""), h.get(H_NONCE, ""), h.get(H_SIG, "")
    if h.get(H_STORE, "") != store or not ts or not sig or not valid_nonce(nonce):
        raise Unauthorized("auth.missing", "a linked store signs its activation request")
    if not verify_signature(entry.secret, store, ts, nonce, raw, sig):
        raise Unauthorized("auth.bad_signature", "the signature does not match")
    now_us = request.app[CLOCK].now_us()
    try:
        fresh = abs(int(ts) - now_us / 1_000_000) <= WINDOW_S
    except ValueError:
        fresh = False
    if not fresh:
        raise Unauthorized("auth.stale", "the request was signed outside the time window")
    if not reg.remember_nonce(store, nonce, now_us, WINDOW_S):
        raise Conflict("auth.replay", "this request (its nonce) was already received")


@_guard
async def activate(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("input.bad_json", "the request body is not JSON") from None
    store = body.get("store_id") if isinstance(body, dict) else None
    _store_proven(request, raw, store if isinstance(store, str) else "")
    return _json(request.app[ACTIVATIONS].request(body))


@_guard
async def activations(request: web.Request) -> web.Response:
    q = request.query
    rows = request.app[ACTIVATIONS].rows(q.get("status") or None, q.get("licence") or None)
    return _json({"activations": rows})


@_guard
async def decide(request: web.Request) -> web.Response:
    acts, rid = request.app[ACTIVATIONS], request.match_info["id"]
    op = request.path.rsplit("/", 1)[-1]
    body = await _body(request)
    note = str(body.get("note") or "")[:500] if isinstance(body, dict) else ""
    if op == "approve":
        move = bool(body.get("move")) if isinstance(body, dict) else False
        return _json(acts.approve(rid, _who(request), move, note))
    if op == "deny":
        return _json(acts.deny(rid, _who(request), note))
    if op == "release":
        return _json(acts.release(rid, _who(request), note))
    raise web.HTTPNotFound()


@_guard
async def licences(request: web.Request) -> web.Response:
    return _json({"licences": licence_rows(request.app[AUTHORITY_KEY])})


@_guard
async def licence_create(request: web.Request) -> web.Response:
    body = await _body(request)
    doc = create_licence(request.app[AUTHORITY_KEY], body)
    if isinstance(body, dict) and body.get("approve_first"):
        request.app[ACTIVATIONS].allow_first(doc["licence"]["licence_id"], _who(request))
    return _json(doc)


@_guard
async def licence_op(request: web.Request) -> web.Response:
    auth, lid = request.app[AUTHORITY_KEY], request.match_info["id"]
    body = await _body(request)
    body = body if isinstance(body, dict) else {}
    if request.path.endswith("/revoke"):
        entry = auth.revoke(lid, str(body.get("reason") or "")[:500])
        return _json({"licence_id": lid, "revoked": entry})
    days = _int(body, "days", None, 1, 36_500)
    doc = renew_licence(auth, request.app[ACTIVATIONS], lid, days, _who(request))
    return _json(doc)


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> Activations:
    """Mount the activation and licence routes (after ``cloud.licence``, whose authority they
    use)."""
    auth = app.get(AUTHORITY_KEY) or LicenceAuthority(data_dir, clock)
    acts = Activations(data_dir, auth)
    app[ACTIVATIONS] = acts
    declare("POST", ACTIVATE_PATH, STORE)
    routes = [
        ("GET", "/v1/hq/activations", activations, _ROLES),
        *(("POST", f"/v1/hq/activations/{{id}}/{op}", decide, _ROLES) for op in _DECISIONS),
        ("GET", "/v1/hq/licences", licences, (*_ROLES, "finance")),
        ("POST", "/v1/hq/licences", licence_create, _ROLES),
        ("POST", "/v1/hq/licences/{id}/revoke", licence_op, _ROLES),
        ("POST", "/v1/hq/licences/{id}/renew", licence_op, _ROLES),
    ]
    app.router.add_post(ACTIVATE_PATH, activate)
    for method, path, fn, roles in routes:
        app.router.add_route(method, path, fn)
        declare(method, path, roles=roles)
    return acts
