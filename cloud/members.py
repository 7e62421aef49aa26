"""HQ's members chain-wide and the cross-store spending rule (``domain.member_float``).

    GET  /v1/members/changes?since=N          store: members changed after version N (what a till
                                              needs: id, name, phone, card, home store)
    GET  /v1/members/history?since=N|member=M store: members whose orders at OTHER stores changed
                                              after HQ's history version N (or member M), with
                                              those orders per day (``domain.member_history``)
    GET  /v1/members/{member}/available       store: what HQ could authorise now (the pool)
    POST /v1/members/{member}/authorise       store: {key, store, kind, amount} -> {auth, granted}
    POST /v1/members/{member}/float           store: {request, store, kind, amount} -> {grant,
                                              amount}
    GET  /v1/hq/members?q=                    hq: members with their balances (pool, floats)
    GET  /v1/hq/members/{member}              hq: one member's balances
    GET  /v1/hq/members/export.csv|.xlsx      hq: every member with balances
    POST /v1/hq/members/import                hq: members (and opening wallet balances) from CSV
                                              or XLSX, per-row errors

Store routes are signed like the uploads (``Ingestor.authenticate``: the store's secret, a time
window, a nonce seen once); the body's ``store`` must be the signing store. An authorisation is
idempotent by ``key`` and a grant by ``request``: the same request answers the same, a different
one under the same key is refused (409 ``chain.key_reused``). Before it answers, HQ folds every
upload it holds, so its pool counts everything the stores have sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.app import EXECUTOR, INGESTOR, REGISTRY
from cloud.hqauth import HQ, STORE, mount
from cloud.members_db import MembersHQ
from cloud.members_io import export_csv, export_xlsx, import_rows
from domain.errors import InvalidInput, KassaError
from domain.member_float import kind_of
from domain.ports import Clock, SystemClock
from domain.upload import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS

__all__ = ["setup", "MEMBERS"]

MEMBERS = web.AppKey("kassa_members_hq", MembersHQ)
READERS = ("finance", "support")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: KassaError) -> web.Response:
    return _json({"ok": False, **exc.to_dict()}, exc.http_status)


async def _run(request: web.Request, fn: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


async def _signed(request: web.Request) -> tuple[str, bytes] | web.Response:
    """(store, body) of a store-signed request, or the refusal to send."""
    body = await request.read()
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    refused = await _run(request, request.app[INGESTOR].authenticate, headers, body)
    if refused is not None:
        return _json(refused.body, refused.status)
    return headers[H_STORE], body


def _doc(store: str, body: bytes, *names: str) -> dict[str, Any]:
    try:
        doc = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidInput("input.bad_json", "the request body is not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput("input.bad_json", "the request body is a JSON object")
    if doc.get("store", store) != store:
        raise InvalidInput("input.bad_field", "store: the signing store", field="store")
    for name in names:
        v = doc.get(name)
        if name == "amount":
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10**12:
                raise InvalidInput("input.bad_field", "amount: a whole number >= 0", field=name)
        elif not isinstance(v, str) or not 0 < len(v) <= 128:
            raise InvalidInput("input.bad_field", f"{name}: text", field=name)
    kind_of(doc.get("kind", "wallet"))
    return doc


async def _followed(request: web.Request, read: Any) -> web.Response:
    """A signed store pull: ``read(hq, store, since)`` after HQ folded every upload it holds."""
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        return _error(InvalidInput("input.bad_field", "since: a whole number", field="since"))
    hq = request.app[MEMBERS]
    await _run(request, hq.follow)
    return _json(await _run(request, read, hq, got[0], since))


async def changes(request: web.Request) -> web.Response:
    return await _followed(request, lambda hq, _store, since: hq.changes(since))


async def history(request: web.Request) -> web.Response:
    """The member histories the signing store has not seen (its own orders left out)."""
    member = request.query.get("member", "")[:128]
    return await _followed(
        request, lambda hq, store, since: hq.histories(store, since, 500, member)
    )


async def _give(request: web.Request, what: str, key_name: str) -> web.Response:
    """An authorisation (``what="authorise"``) or a grant (``"grant"``) for the signing store."""
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    store, body = got
    try:
        doc = _doc(store, body, key_name, *(("amount",) if what == "authorise" else ()))
        amount = doc.get("amount", 10**12)  # a grant without one: up to the cap
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidInput("input.bad_field", "amount: a whole number >= 0", field="amount")
        give = getattr(request.app[MEMBERS], what)
        kind = doc.get("kind", "wallet")
        member = request.match_info["member"]
        g = await _run(request, give, doc[key_name], store, member, kind, amount)
    except KassaError as exc:
        return _error(exc)
    if what == "authorise":
        return _json({"ok": True, "auth": g.id, "granted": bool(g.amount), "amount": g.amount})
    return _json({"ok": True, "grant": g.id, "amount": g.amount})


async def authorise(request: web.Request) -> web.Response:
    return await _give(request, "authorise", "key")


async def float_grant(request: web.Request) -> web.Response:
    return await _give(request, "grant", "request")


async def available(request: web.Request) -> web.Response:
    """What HQ could authorise for the member now (its pool), for the store's till."""
    got = await _signed(request)
    if isinstance(got, web.Response):
        return got
    hq, member = request.app[MEMBERS], request.match_info["member"]
    await _run(request, hq.follow)
    pool = hq.pool
    return _json(
        {"member": member, "wallet": pool.pool(member), "points": pool.pool(member, "points")}
    )


async def hq_members(request: web.Request) -> web.Response:
    hq = request.app[MEMBERS]
    await _run(request, hq.follow)
    return _json({"members": await _run(request, hq.search, request.query.get("q", ""))})


async def hq_member(request: web.Request) -> web.Response:
    hq = request.app[MEMBERS]
    await _run(request, hq.follow)
    member = request.match_info["member"]
    return _json({"member": member, **await _run(request, hq.balances, member)})


async def hq_export(request: web.Request) -> web.Response:
    hq = request.app[MEMBERS]
    await _run(request, hq.follow)
    if request.path.endswith(".xlsx"):
        data = await _run(request, export_xlsx, hq)
        return web.Response(body=data, content_type=XLSX_TYPE)
    data = await _run(request, export_csv, hq)
    return web.Response(body=data, content_type="text/csv", charset="utf-8")


async def hq_import(request: web.Request) -> web.Response:
    data = await request.read()
    name = request.query.get("name", "members.csv")
    try:
        res = await _run(request, import_rows, request.app[MEMBERS], data, name)
    except KassaError as exc:
        return _error(exc)
    return _json(res, 200 if not res["errors"] else 422)


ROUTES = (
    ("GET", "/v1/members/changes", changes, STORE, ()),
    ("GET", "/v1/members/history", history, STORE, ()),
    ("GET", "/v1/members/{member}/available", available, STORE, ()),
    ("POST", "/v1/members/{member}/authorise", authorise, STORE, ()),
    ("POST", "/v1/members/{member}/float", float_grant, STORE, ()),
    ("GET", "/v1/hq/members", hq_members, HQ, READERS),
    ("GET", "/v1/hq/members/export.csv", hq_export, HQ, READERS),
    ("GET", "/v1/hq/members/export.xlsx", hq_export, HQ, READERS),
    ("GET", "/v1/hq/members/{member}", hq_member, HQ, READERS),
    ("POST", "/v1/hq/members/import", hq_import, HQ, ()),
)


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> MembersHQ:
    hq = MembersHQ(data_dir, app[INGESTOR], app[REGISTRY], clock or SystemClock())
    mount(app, MEMBERS, hq, ROUTES)
    return hq
