"""The anomaly flags inbox: every flag with its rule, order, staff, till, time, evidence and what
was done about it; acknowledge or dismiss (with a note) a flag, each journaled
(``flag.acknowledged`` / ``flag.dismissed``, see ``analytics.events``). Freezing and unfreezing go
through ``/v1/orders/{order}/freeze|unfreeze`` (only a manager unfreezes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

import analytics.events as flag_events
from actors.http.common import command_id, jresp, need_str, read_json
from actors.http.context import gw
from actors.http.licensing import need_feature
from actors.openapi_schemas import ID, S, _body, _op, _path, _q
from domain.errors import InvalidInput, NotFound

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPE"]

READ_SCOPE = "flags.view: every flag (rule, order, staff, till, evidence, state); no member data"
STATES = ("open", "acknowledged", "dismissed")


def _day(request: web.Request, name: str) -> str | None:
    v = request.query.get(name) or None
    if v is not None and (len(v) != 10 or not v[:4].isdigit()):
        raise InvalidInput("day.bad_date", "a business day is YYYY-MM-DD", field=name)
    return v


async def _all(g: Any, start: str | None, end: str | None) -> list[dict]:
    await need_feature(g, "flags")  # the licence grants the flags (actors.http.licensing)
    at = (await g.h.ledger.status())["seq"]
    rows = await g.h.analytics.report("flags", {"start": start, "end": end}, at)
    return flag_events.inbox(rows)


async def list_flags(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "flags.view")
    state = request.query.get("state", "")
    if state and state not in STATES:
        raise InvalidInput("input.bad_field", "state is open, acknowledged or dismissed")
    rows = await _all(g, _day(request, "from"), _day(request, "to"))
    for key in ("rule", "staff", "till", "severity"):
        want = request.query.get(key)
        if want:
            rows = [r for r in rows if r[key] == want]
    if state:
        rows = [r for r in rows if r["state"] == state]
    return jresp({"flags": rows, "open": sum(1 for r in rows if r["state"] == "open")})


async def act(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "flags.act", data)
    op = request.match_info["op"]
    if op not in ("acknowledge", "dismiss"):
        raise NotFound("flag.not_found", "acknowledge or dismiss a flag")
    flag_id = request.match_info["flag"][:64]
    note = need_str(data, "note", 500, required=False)
    if op == "dismiss" and not note.strip():
        raise InvalidInput("flag.note_required", "say why the flag is dismissed", field="note")
    known = {r["flag_id"]: r for r in await _all(g, None, None)}
    if flag_id not in known:
        raise NotFound("flag.not_found", "no such flag", flag=flag_id)
    cid = command_id(data)
    body = flag_events.action(op, flag_id, known[flag_id]["order_id"], note)
    ack = await g.submit(ctx, cid, f"flag.{op}", {"flag": flag_id, "note": note}, body)
    return jresp(g.answer(ack))


ROUTES = [
    ("GET", "/v1/flags", list_flags),
    ("POST", "/v1/flags/{flag}/{op}", act),
]

_DAY = {"type": "string", "format": "date"}
OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/flags": {
        "get": _op(
            "the anomaly flags inbox: rule, order, staff, till, time, evidence, state",
            "flags.view",
            params=[
                _q("state", {"type": "string", "enum": list(STATES)}),
                _q("rule", S),
                _q("staff", S),
                _q("till", S),
                _q("severity", {"type": "string", "enum": ["low", "medium", "high"]}),
                _q("from", _DAY),
                _q("to", _DAY),
            ],
        )
    },
    "/v1/flags/{flag}/{op}": {
        "post": _op(
            "acknowledge a flag, or dismiss it with a note (journaled)",
            "flags.act",
            _body({"id": ID, "note": S}, ["id"]),
            [_path("flag"), _path("op", {"type": "string", "enum": ["acknowledge", "dismiss"]})],
        )
    },
}
