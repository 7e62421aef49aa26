"""Payments through providers (QR, card terminal): a till starts one, watches it, cancels it or
confirms it; the provider's signed callback confirms it too; a manager sees the money to give
back (``actors.payments.desk`` drives each step, the book checks it).

* ``POST /v1/tills/{till}/payments`` ``{id, kind: "qr"|"card", amount}`` → ``{payment}`` with
  ``key`` (= ``id``: a retry answers the same payment), ``state``, ``qr`` (a QR payload);
* ``GET /v1/tills/{till}/payments/{key}`` → where it stands (asks the provider; times it out);
* ``POST .../{key}/cancel``; ``POST .../{key}/confirm`` ``{reference?}`` (``payments.confirm``);
* ``POST /v1/payments/callback/{provider}``: no session, HMAC-signed (``actors.payments.callback``);
* ``GET /v1/payments/refunds``: late or orphaned money to give back (``payments.view``);
* ``POST /v1/payments/reconcile?provider=&name=&from=&to=&window_days=``: a provider's statement
  (the file's bytes as the body, at most 8 MiB) matched with the journal
  (``actors.reconcile_store``); ``GET /v1/payments/statement-mappings``: the mappings known.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from actors.http.common import command_id, jresp, need_amount, need_str, read_json, till_id
from actors.http.context import Gateway, gw
from actors.openapi_schemas import ID, MONEY, S, _body, _op, _path, _q
from actors.payments.callback import (
    SIG_HEADER,
    TS_HEADER,
    check_provider_name,
    provider_secret,
    verify,
)
from actors.payments.desk import PaymentDesk
from actors.reconcile_store import MAX_STATEMENT, mapping_names, reconcile_statement
from domain.errors import InvalidInput, NotFound
from domain.money import CEILING
from domain.payments import checked_key

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPES", "desk_of"]


def desk_of(g: Gateway) -> PaymentDesk:
    """The gateway's desk, made at first use from store.json ``payments``."""
    desk = getattr(g, "payment_desk", None)
    if desk is None:

        async def submit(cid: str, op: str, args: Any, body: Any, till: str) -> Any:
            return await g.submit(None, cid, op, args, body, till=till)

        desk = PaymentDesk(dict(g.config.payments), g.data_dir, g.h.ledger.payments, submit)
        for provider in desk.providers.values():  # each provider's callback secret, made now
            provider_secret(g.data_dir, provider.name)
        g.payment_desk = desk  # type: ignore[attr-defined]
        # late successes are asked for while the gateway runs (actors.payments.desk.sweep)
        sweep = asyncio.get_running_loop().create_task(desk.sweep_forever())
        g.payment_sweep = sweep  # type: ignore[attr-defined]
    return desk


def _key(request: web.Request) -> str:
    key = request.match_info["key"]
    if not 8 <= len(key) <= 64 or not key.isprintable():
        raise NotFound("payment.unknown_tender", "no such payment")
    return key


async def _mine(g: Gateway, desk: PaymentDesk, key: str, till: str) -> None:
    if (await desk.state(key))["till"] != till:  # another till's payment is not seen from here
        raise NotFound("payment.unknown_tender", "no such payment")


async def start(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    await g.auth(request, "sale.sell", till=till)
    data = await read_json(request)
    key = checked_key(command_id(data), "id")
    kind = need_str(data, "kind", 8)
    if kind not in ("qr", "card"):
        raise InvalidInput("payment.bad_kind", "a provider takes qr or card payments")
    amount = need_amount(data, "amount", 1, min(g.config.limits.max_tender, CEILING))
    view = await g.h.till_rpc(till).call("view")
    if not view.get("basket") or not view.get("lines"):
        raise InvalidInput("payment.no_basket", "scan an item first: a payment is for a basket")
    if amount > int(view.get("total", 0)):
        raise InvalidInput("payment.overpaid", "more than the basket's total")
    desk = desk_of(g)
    out = await desk.start(till, key, kind, amount, view["basket"], g.config.currency)
    return jresp({"payment": out})


async def status(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    await g.auth(request, "sale.sell", till=till)
    desk, key = desk_of(g), _key(request)
    await _mine(g, desk, key, till)
    return jresp({"payment": await desk.poll(key)})


async def cancel(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    await g.auth(request, "sale.sell", till=till)
    data = await read_json(request)
    desk, key = desk_of(g), _key(request)
    await _mine(g, desk, key, till)
    reason = need_str(data, "reason", 200, required=False) or "cashier"
    return jresp({"payment": await desk.cancel(key, reason)})


async def confirm(request: web.Request) -> web.Response:
    g = gw(request)
    till = till_id(request.match_info["till"])
    data = await read_json(request)
    ctx = await g.auth(request, "payments.confirm", data, till=till)
    desk, key = desk_of(g), _key(request)
    await _mine(g, desk, key, till)
    reference = need_str(data, "reference", 64, required=False) or f"confirmed-by-{ctx.staff}"
    out = await desk.confirm(key, reference, "cashier")
    await g.journal_approval(ctx, key)
    return jresp({"payment": out})


async def callback(request: web.Request) -> web.Response:
    g = gw(request)
    name = check_provider_name(request.match_info["provider"])
    desk = desk_of(g)
    desk.by_name(name)
    raw = await request.read()
    verify(
        provider_secret(g.data_dir, name),
        request.headers.get(TS_HEADER, ""),
        request.headers.get(SIG_HEADER, ""),
        raw,
        time.time(),
    )
    data = await read_json(request)
    key = checked_key(need_str(data, "key", 64, code=True), "key")
    result = need_str(data, "result", 16)
    if (await desk.state(key))["provider"] != name:
        raise NotFound("payment.unknown_tender", "no such payment")
    if result == "success":
        reference = need_str(data, "reference", 64, required=False) or ""
        last4 = need_str(data, "last4", 4, required=False) or ""
        out = await desk.confirm(key, reference, "callback", last4)
    elif result == "fail":
        out = await desk.fail(key, need_str(data, "reason", 200, required=False) or "provider")
    else:
        raise InvalidInput("payment.bad_callback", "result is success or fail")
    return jresp({"payment": {k: out[k] for k in ("key", "state", "late")}})


async def refunds(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "payments.view")
    return jresp({"payments": await g.h.ledger.payments(None), "offered": desk_of(g).offered()})


async def statement_mappings(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "payments.view")
    return jresp({"mappings": await asyncio.to_thread(mapping_names, g.data_dir)})


async def reconcile(request: web.Request) -> web.Response:
    """The statement file is the body (not JSON: a month of a busy till is megabytes)."""
    g = gw(request)
    await g.auth(request, "payments.view")
    q = request.query
    provider = need_str(dict(q), "provider", 64)
    name = need_str(dict(q), "name", 200, required=False) or "statement.csv"
    try:
        window = float(q.get("window_days") or 3)
    except ValueError:
        window = -1.0
    if not 0 <= window <= 31:
        raise InvalidInput("input.bad_field", "window_days is 0 to 31", field="window_days")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        raw += chunk
        if len(raw) > MAX_STATEMENT:
            raise InvalidInput("input.too_large", f"a statement is at most {MAX_STATEMENT} bytes")
    cfg = g.config
    out = await asyncio.to_thread(
        reconcile_statement,
        g.data_dir,
        bytes(raw),
        name,
        provider,
        store_id=cfg.store_id,
        currency=cfg.currency,
        zone=cfg.zone,
        day_from=q.get("from") or None,
        day_to=q.get("to") or None,
        window_days=window,
    )
    return jresp(out)


async def offered(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "sale.sell")  # the tills that take payments (not a display credential)
    desk = desk_of(g)
    return jresp({"offered": desk.offered(), "timeout_s": desk.timeout_s})


ROUTES = [
    ("POST", "/v1/tills/{till}/payments", start),
    ("GET", "/v1/tills/{till}/payments/{key}", status),
    ("POST", "/v1/tills/{till}/payments/{key}/cancel", cancel),
    ("POST", "/v1/tills/{till}/payments/{key}/confirm", confirm),
    ("POST", "/v1/payments/callback/{provider}", callback),
    ("GET", "/v1/payments/refunds", refunds),
    ("GET", "/v1/payments/offered", offered),
    ("GET", "/v1/payments/statement-mappings", statement_mappings),
    ("POST", "/v1/payments/reconcile", reconcile),
]

_TILL = _path("till")
_KEY = _path("key")
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/tills/{till}/payments": {
        "post": _op(
            "start a QR or card payment for the open basket (id = the idempotency key)",
            "sale.sell",
            _body(
                {"id": ID, "kind": {"enum": ["qr", "card"]}, "amount": MONEY},
                ["id", "kind", "amount"],
            ),
            [_TILL],
        )
    },
    "/v1/tills/{till}/payments/{key}": {
        "get": _op("where a payment stands (asks its provider)", "sale.sell", None, [_TILL, _KEY])
    },
    "/v1/tills/{till}/payments/{key}/cancel": {
        "post": _op("cancel a pending payment", "sale.sell", None, [_TILL, _KEY])
    },
    "/v1/tills/{till}/payments/{key}/confirm": {
        "post": _op(
            "the cashier saw the money arrive",
            "payments.confirm",
            _body({"reference": {"type": "string", "maxLength": 64}}, []),
            [_TILL, _KEY],
        )
    },
    "/v1/payments/callback/{provider}": {
        "post": _op(
            "a provider's result, HMAC-signed with its secret (X-Kassa-Timestamp, "
            "X-Kassa-Signature); no session",
            None,
            _body(
                {
                    "key": {"type": "string"},
                    "result": {"enum": ["success", "fail"]},
                    "reference": {"type": "string", "maxLength": 64},
                },
                ["key", "result"],
            ),
            [_path("provider")],
            public=True,
        )
    },
    "/v1/payments/refunds": {
        "get": _op("payments to refund or void at the provider", "payments.view")
    },
    "/v1/payments/offered": {"get": _op("which non-cash tenders this store takes", "sale.sell")},
    "/v1/payments/statement-mappings": {
        "get": _op("the statement column mappings this store knows", "payments.view")
    },
    "/v1/payments/reconcile": {
        "post": _op(
            "match a provider's statement (the CSV/XLSX file as the body; query: provider, name, "
            "from, to, window_days) with the journaled payments",
            "payments.view",
            None,
            [_q("provider", S, True), *(_q(k, S) for k in ("name", "from", "to", "window_days"))],
        )
    },
}
READ_SCOPES = {
    "/v1/tills/{till}/payments/{key}": "the session's own till's payments only",
    "/v1/payments/refunds": "payments.view: key, basket, amount, provider reference, till",
    "/v1/payments/offered": "any session: tender kinds, providers, offline or not",
    "/v1/payments/statement-mappings": "payments.view: mapping names and tender kinds",
}
