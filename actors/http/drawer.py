"""No-sale drawer openings: ``POST /v1/drawer`` journals that the cash drawer of the session's
till was opened without a sale, with a reason (``domain.drawer``). The till kicks the drawer itself
(its printer queue) once the store has the event: an opening nobody can account for never
happens without a record."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.http.common import command_id, jresp, read_json
from actors.http.context import gw
from actors.openapi_schemas import ID, _body, _op
from domain.drawer import REASONS, decide_drawer

__all__ = ["ROUTES", "OPENAPI"]


async def open_drawer(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "drawer.open", data)
    cid = command_id(data)
    body = decide_drawer(cid, data, ctx.staff, ctx.till)
    ack = await g.submit(ctx, cid, "drawer", {"reason": body.reason, "note": body.note}, body)
    return jresp(g.answer(ack))


ROUTES = [("POST", "/v1/drawer", open_drawer)]

OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/drawer": {
        "post": _op(
            "journal a no-sale opening of this till's cash drawer, with a reason",
            "drawer.open",
            _body(
                {
                    "id": ID,
                    "reason": {"enum": list(REASONS)},
                    "note": {"type": "string", "maxLength": 200},
                },
                ["id", "reason"],
            ),
        )
    }
}
