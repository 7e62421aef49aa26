"""Reading the journal: the event feed (long-poll and server-sent events, scoped by role: every
event for ``events.read``, sales figures only for ``events.sales``) and the audit of who did
what."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import orjson
from aiohttp import web

from actors.http.audit_rows import ORDER_KINDS, AuditQuery, row_of
from actors.http.common import jresp, query_int, redact
from actors.http.context import gw
from domain.errors import InvalidInput
from domain.events import current_body

__all__ = ["ROUTES", "sales_view", "full_view"]

SALES_KINDS = ("order.completed", "order.refunded", "order.exchanged", "day.opened", "day.closed")


def _sale(b: dict) -> dict:
    """An order's sales figures: total and its items (sku, names, unit, qty, amount paid)."""
    lines = b.get("lines") or ()
    return {
        "total": b.get("total", 0),
        "currency": b.get("currency", ""),
        "lines": len(lines),
        "items": [
            {
                "sku": ln.get("sku", ""),
                "names": ln.get("names") or {},
                "unit": ln.get("unit", ""),
                "qty": ln.get("qty", 0),
                "amount": ln.get("total", 0),
            }
            for ln in lines
            if isinstance(ln, dict)
        ],
    }


def sales_view(env: Any) -> dict | None:
    """An event as the sales feed shows it (``events.sales``: the big screen): sales figures of a
    till, or None for every other event. An order carries its items (sku, names, unit, qty and
    amount paid: the big screen's top products); an exchange both parts (``returned``: a refund's
    amount, ``sold``: an order's figures). No staff, IP, member, order or line id, tender."""
    kind = env.kind
    if kind not in SALES_KINDS:
        return None
    b = _body(env)
    if kind == "order.completed":
        body = _sale(b)
    elif kind == "order.refunded":
        body = {"amount": b.get("amount", 0), "currency": b.get("currency", "")}
    elif kind == "order.exchanged":
        back = b.get("returned") or {}
        body = {
            "returned": {"amount": back.get("amount", 0), "currency": back.get("currency", "")},
            "sold": _sale(b.get("sold") or {}),
        }
    else:
        body = {"business_day": b.get("business_day", "")}
    return {"seq": env.seq, "ts": env.ts, "kind": kind, "till": env.till, "body": body}


def full_view(env: Any) -> dict:
    return redact({**env.to_wire(), "body": _body(env)})  # upcast: this code's shape of it


def _body(env: Any) -> Any:
    """The stored body as a dict in its kind's current version (``domain.upcast``)."""
    return current_body(env.kind, env.v, msgspec.json.decode(env.body))


async def audit(request: web.Request) -> web.Response:
    """Who did what, from which till and IP: events filtered by staff, till, IP, kind prefixes
    (``kind=staff.,permissions.``), a UTC µs range (``since``, ``until``) and free text (``q``:
    what a row shows, ``actors.http.audit_rows``), scanning at most ``scan`` events per request.
    Oldest first after ``after`` (``next_after`` pages on), or with ``order=newest`` newest first
    before ``before`` (0: the journal's end; ``next_before`` pages on). ``done``: nothing more."""
    g = gw(request)
    await g.auth(request, "audit.view")
    after = query_int(request, "after", 0, 0, 2**62)
    before = query_int(request, "before", 0, 0, 2**62)
    limit = query_int(request, "limit", 200, 1, 1000)
    scan = query_int(request, "scan", 20000, 1, 200000)
    since = query_int(request, "since", 0, 0, 2**62)
    until = query_int(request, "until", 0, 0, 2**62)
    order = request.query.get("order", "oldest")
    if order not in ("oldest", "newest"):
        raise InvalidInput("input.bad_field", "order is oldest or newest", field="order")
    query = AuditQuery.of(request.query, since, until)
    rows: list[dict] = []
    summary: dict[tuple, int] = {}
    newest = order == "newest"
    if newest and not before:
        before = int((await g.h.ledger.status())["seq"]) + 1
    pos, scanned, done = (before if newest else after), 0, False
    while scanned < scan and len(rows) < limit:
        n = min(2000, scan - scanned)
        if newest:
            start = max(0, pos - 1 - n)
            envs = list(reversed(await g.h.ledger.read(start, pos - 1 - start)))
        else:
            envs = await g.h.ledger.read(pos, n)
        if not envs:
            done = True
            break
        for e in envs:
            pos = e.seq
            scanned += 1
            if newest and since and e.ts < since:
                done = True  # the journal is in time order: nothing older can match
                break
            if not query.envelope_matches(e):
                continue
            row = row_of(e)
            if not query.row_matches(row):
                continue
            rows.append(row)
            k = (e.staff, e.ip, e.till)
            summary[k] = summary.get(k, 0) + 1
            if len(rows) >= limit:
                break
        if done or (newest and pos <= 1):
            done = True
            break
    await _order_numbers(g, rows)
    page = {"next_before": pos} if newest else {"next_after": pos}
    return jresp(
        {
            "events": rows,
            **page,
            "done": done,
            "summary": [
                {"staff": s, "ip": i, "till": t, "events": n}
                for (s, i, t), n in sorted(summary.items())
            ],
        }
    )


async def _order_numbers(g: Any, rows: list[dict]) -> None:
    """Give rows about an order (a refund, a freeze, a flag) the order's short number."""
    numbers: dict[str, str] = {}
    for row in rows:
        oid = row["details"].get("order_id")
        if not isinstance(oid, str) or not row["kind"].startswith(ORDER_KINDS):
            continue
        if oid not in numbers:
            try:
                numbers[oid] = str((await g.h.ledger.order(oid))["order"].get("number") or "")
            except Exception:  # an order the book no longer holds: the row keeps its id
                numbers[oid] = ""
        if numbers[oid]:
            row["details"]["order_number"] = numbers[oid]


async def feed_view(request: web.Request) -> Callable[[Any], dict | None]:
    """Which events this session may read, and how: ``?scope=all`` (``events.read``: every
    event, PIN and session hashes hidden) or ``?scope=sales`` (``events.sales``: sales figures
    only). Without ``scope`` a session gets the widest its role allows."""
    g = gw(request)
    scope = request.query.get("scope", "")
    if scope not in ("", "all", "sales"):
        raise InvalidInput("input.bad_field", "scope is all or sales", field="scope")
    ctx = await g.auth(request, None)
    if not scope:
        scope = (
            "all"
            if g.dir.allows(ctx.staff, "events.read") or not g.dir.allows(ctx.staff, "events.sales")
            else "sales"
        )
    g.require(ctx, "events.read" if scope == "all" else "events.sales")
    return full_view if scope == "all" else sales_view


async def events(request: web.Request) -> web.Response:
    """Events after ``after`` (long-poll up to ``wait`` s). A filtered feed reads on past the
    events it hides (at most 20,000) so that a page is empty only at the journal's end; the
    ``X-Kassa-Next-After`` header gives the seq to ask after next."""
    g = gw(request)
    view = await feed_view(request)
    after = query_int(request, "after", 0, 0, 2**62)
    try:
        wait = min(max(float(request.query.get("wait", "0") or 0), 0.0), 30.0)
    except ValueError:
        raise InvalidInput("input.bad_field", "wait is a number of seconds", field="wait") from None
    if wait != wait:  # NaN
        wait = 0.0
    deadline = time.monotonic() + wait
    out: list[dict] = []
    scanned = 0
    while True:
        left = deadline - time.monotonic()
        envs = (
            await g.h.ledger.wait(after, 500, left)
            if left > 0
            else await g.h.ledger.read(after, 500)
        )
        if not envs:
            break
        after = envs[-1].seq
        scanned += len(envs)
        out = [v for v in map(view, envs) if v is not None]
        if out or scanned >= 20000:
            break
    return web.Response(
        body=orjson.dumps(out),
        content_type="application/json",
        headers={"X-Kassa-Next-After": str(after)},
    )


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events of committed events, for the big screen and customer displays,
    filtered as ``events`` is. The token may come as ``?token=`` (EventSource cannot set
    headers)."""
    g = gw(request)
    view = await feed_view(request)
    after = query_int(request, "after", 0, 0, 2**62)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    written = time.monotonic()
    try:
        while True:
            envs = await g.h.ledger.wait(after, 500, 15.0)
            for e in envs:
                v = view(e)
                if v is not None:
                    await resp.write(
                        b"id: %d\nevent: %s\ndata: %s\n\n"
                        % (e.seq, e.kind.encode(), orjson.dumps(v))
                    )
                    written = time.monotonic()
            if envs:
                after = envs[-1].seq
            if time.monotonic() - written >= 15.0:
                await resp.write(b": keep-alive\n\n")
                written = time.monotonic()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


ROUTES = [
    ("GET", "/v1/audit", audit),
    ("GET", "/v1/events", events),
    ("GET", "/v1/events/stream", stream),
]
