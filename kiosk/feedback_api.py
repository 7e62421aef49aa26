"""Exception feedback (异常反馈), store side: ``POST /v1/feedback`` journals a problem report.

Any signed-in staff member may report a problem from a till (a device, a price, stock, other). The
report becomes one ``feedback.reported`` event in the journal — so it is uploaded to HQ with
everything else — carrying who, which till and IP like every event.

To mount it on the gateway (one line where the routes are added)::

    from kiosk.feedback_api import add_routes
    add_routes(app)          # after make_gateway() built the app with app["gateway"]

Until it is mounted the till keeps reports in its outbox file and sends them once the store answers.
The event class lives here for now; it belongs in ``domain/events.py`` (readers that don't import it
decode its body as a plain dict, so nothing breaks meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from domain.errors import InvalidInput
from domain.events import register

__all__ = ["FeedbackReported", "KINDS", "decide_feedback", "add_routes"]

KINDS = ("device", "price", "stock", "other")


@register("feedback.reported")
@dataclass(frozen=True, slots=True)
class FeedbackReported:
    feedback_id: str
    kind: str  # device | price | stock | other
    message: str
    sku: str = ""
    device: str = ""


def decide_feedback(cid: str, data: dict[str, Any]) -> FeedbackReported:
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidInput("feedback.bad_kind", f"kind is one of {', '.join(KINDS)}", field="kind")
    message = data.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > 2000:
        raise InvalidInput("feedback.bad_message", "describe the problem in 1–2000 characters",
                           field="message")
    out = {}
    for key, n in (("sku", 64), ("device", 64)):
        value = data.get(key, "")
        if not isinstance(value, str) or len(value) > n:
            raise InvalidInput("input.bad_field", f"{key!r} is text of at most {n} characters",
                               field=key)
        out[key] = value.strip()
    return FeedbackReported(feedback_id=cid, kind=kind, message=message.strip(), **out)


async def post_feedback(request: web.Request) -> web.Response:
    from actors.gateway import command_id, jresp, read_json

    g = request.app["gateway"]
    data = await read_json(request)
    ctx = await g.auth(request, None, data)  # any signed-in staff member
    cid = command_id(data)
    body = decide_feedback(cid, data)
    ack = await g.submit(ctx, cid, "feedback", {"kind": body.kind, "message": body.message,
                                                "sku": body.sku, "device": body.device}, body)
    return jresp(g.answer(ack))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/feedback", post_feedback)
