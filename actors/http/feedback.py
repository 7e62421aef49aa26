"""Exception feedback (异常反馈): ``POST /v1/feedback`` journals a problem report from a till.

Any signed-in staff member (``feedback.report``; not a display) may report a problem (a device, a
price, stock, other); text holding a card number is refused (``domain.pan``). The report becomes one
``feedback.reported`` event in the journal (``domain.feedback``), so it is uploaded to HQ with
everything else, carrying who, which till and IP like every event. The till's side (its outbox,
``kiosk.client.StoreClient.feedback``) keeps reports until the store answers.
"""

from __future__ import annotations

from aiohttp import web

from actors.http.common import command_id, jresp, read_json
from actors.http.context import gw
from domain.feedback import decide_feedback
from domain.pan import refuse_card_number

__all__ = ["ROUTES"]


async def post_feedback(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "feedback.report", data)  # any staff member, not a display
    cid = command_id(data)
    body = decide_feedback(cid, data)
    for key in ("message", "device"):  # free text: never a card number (the SKU is a code)
        refuse_card_number(getattr(body, key), key)
    ack = await g.submit(
        ctx,
        cid,
        "feedback",
        {"kind": body.kind, "message": body.message, "sku": body.sku, "device": body.device},
        body,
    )
    return jresp(g.answer(ack))


ROUTES = [("POST", "/v1/feedback", post_feedback)]
