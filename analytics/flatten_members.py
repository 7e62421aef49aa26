"""Members' money across the chain → ``member_floats`` rows (``domain.member_float``): HQ moving
a member's wallet or points to a store's float (``member.float_granted``, ``member.authorised``)
and the store giving an abandoned authorisation back (``member.float_returned``, negative)."""

from __future__ import annotations

from typing import Any

__all__ = ["FLOAT_EVENTS", "add_member_float"]

# the event's word in ``member_floats`` and the sign of its amount there
FLOAT_EVENTS = {
    "member.float_granted": ("granted", 1),
    "member.authorised": ("authorised", 1),
    "member.float_returned": ("returned", -1),
}


def add_member_float(rows: Any, e: dict[str, Any], head: dict[str, Any]) -> None:
    b = e["body"]
    word, sign = FLOAT_EVENTS[e["kind"]]
    ref = b.get("grant") or b.get("auth") or b.get("ref", "")
    row = {**head, "event_id": e["id"], "member": b["member"], "kind": b["kind"], "ref": ref}
    rows.add("member_floats", {**row, "event": word, "amount": sign * b["amount"]})
