"""Exception feedback (异常反馈), store side: ``POST /v1/feedback`` journals a problem report.

Any signed-in staff member (``feedback.report``) may report a problem from a till (a device, a
price, stock, other); text holding a card number is refused (``domain.pan``). The report becomes
one ``feedback.reported`` event in the journal — so it is uploaded to HQ with everything else —
carrying who, which till and IP like every event.

To mount it on the gateway (one line where the routes are added)::

    from kiosk.feedback_api import add_routes
    add_routes(app)          # after make_gateway() built the app with app["gateway"]

Until it is mounted the till keeps reports in its outbox file and sends them once the store answers.
The event and its rules are in ``domain/feedback.py``.
"""

from __future__ import annotations

from aiohttp import web

from domain.feedback import KINDS, FeedbackReported, decide_feedback
from domain.pan import refuse_card_number

__all__ = ["FeedbackReported", "KINDS", "decide_feedback", "add_routes"]


async def post_feedback(request: web.Request) -> web.Response:
    from actors.gateway import command_id, jresp, read_json

    g = request.app["gateway"]
    data = await read_json(request)
    ctx = await g.auth(request, "feedback.report", data)  # any staff member, not a display
    cid = command_id(data)
    body = decide_feedback(cid, data)
    for key in ("message", "device"):  # free text: never a card number (the SKU is a code)
        refuse_card_number(getattr(body, key), key)
    ack = await g.submit(ctx, cid, "feedback", {"kind": body.kind, "message": body.message,
                                                "sku": body.sku, "device": body.device}, body)
    return jresp(g.answer(ack))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/feedback", post_feedback)
