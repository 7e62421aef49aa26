"""Exception feedback (异常反馈): any staff member reports a problem (device, price, stock) from a
till; the report is one ``feedback.reported`` event, journaled and uploaded like everything else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput
from domain.events import register

__all__ = ["FeedbackReported", "KINDS", "decide_feedback"]

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
        raise InvalidInput(
            "feedback.bad_message", "describe the problem in 1–2000 characters", field="message"
        )
    out = {}
    for key, n in (("sku", 64), ("device", 64)):
        value = data.get(key, "")
        if not isinstance(value, str) or len(value) > n:
            raise InvalidInput(
                "input.bad_field", f"{key!r} is text of at most {n} characters", field=key
            )
        out[key] = value.strip()
    return FeedbackReported(feedback_id=cid, kind=kind, message=message.strip(), **out)
