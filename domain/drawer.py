"""No-sale drawer openings: a cashier opens the cash drawer without a sale (change for a customer,
a tender put right, a cash pickup) and says why. Each opening is one ``drawer.opened`` event,
journaled and uploaded like everything else, so the anomaly rule ``no_sale_drawer`` can judge a
cashier's openings against the other cashiers' and their own usual count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput
from domain.events import register

__all__ = ["DrawerOpened", "REASONS", "decide_drawer"]

# why a drawer is opened without a sale; "other" needs a note
REASONS = ("change", "correction", "pickup", "float", "other")


@register("drawer.opened")
@dataclass(frozen=True, slots=True)
class DrawerOpened:
    drawer_id: str  # the command id
    reason: str  # one of REASONS
    note: str = ""
    staff: str = ""
    till: str = ""


def decide_drawer(cid: str, data: dict[str, Any], staff: str, till: str) -> DrawerOpened:
    reason = data.get("reason")
    if reason not in REASONS:
        raise InvalidInput(
            "drawer.bad_reason", f"reason is one of {', '.join(REASONS)}", field="reason"
        )
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 200:
        raise InvalidInput(
            "input.bad_field", "note is text of at most 200 characters", field="note"
        )
    note = note.strip()
    if reason == "other" and not note:
        raise InvalidInput("drawer.note_required", "say why the drawer is opened", field="note")
    return DrawerOpened(drawer_id=cid, reason=reason, note=note, staff=staff, till=till)
