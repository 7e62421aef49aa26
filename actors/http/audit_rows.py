"""The audit's rows (``GET /v1/audit``): which events a query selects and what a row shows.

A row is who (staff), where (till, client address), when (UTC µs), what (kind and the
aggregate) and a few plain details from the event's body — order and refund numbers, amounts,
reasons, the staff member acted on — never a PIN or session hash, a member's name or phone,
or the basket's lines. The free-text filter matches what a row shows, nothing hidden."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from domain.errors import InvalidInput
from domain.events import current_body

__all__ = ["AuditQuery", "row_of", "DETAIL_KEYS", "ORDER_KINDS"]

# rows about an order that get the order's short number (``details.order_number``)
ORDER_KINDS = ("order.refunded", "order.exchanged", "order.frozen", "order.unfrozen", "flag.")

# body fields an audit row may show (scalars, or lists of short strings)
DETAIL_KEYS = (
    "number",
    "order_id",
    "amount",
    "total",
    "difference",
    "currency",
    "reason",
    "note",
    "staff",
    "role",
    "action",
    "roles",
    "approver",
    "purpose",
    "failures",
    "business_day",
    "float",
    "counted_cash",
    "sku",
    "qty",
    "delta",
    "counted",
    "value",
    "status",
    "tender",
    "reference",
    "version",
    "count",
    "source",
    "rule",
    "flag",
    "active",
)
MAX_TEXT = 64


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The filters of one audit request: exact staff, till, address; kind prefixes (any of,
    comma-separated: ``staff.,permissions.``); a UTC µs range ``[since, until)``; free text."""

    staff: str = ""
    till: str = ""
    ip: str = ""
    kinds: tuple[str, ...] = ()
    since: int = 0
    until: int = 0
    text: str = ""

    @classmethod
    def of(cls, q: Any, since: int, until: int) -> AuditQuery:
        f = {k: str(q.get(k, "") or "") for k in ("staff", "till", "ip", "kind", "q")}
        if any(len(v) > MAX_TEXT for v in f.values()):
            raise InvalidInput("input.bad_field", f"filters are at most {MAX_TEXT} characters")
        kinds = tuple(k.strip() for k in f["kind"].split(",") if k.strip())
        return cls(f["staff"], f["till"], f["ip"], kinds, since, until, f["q"].strip().casefold())

    def envelope_matches(self, e: Any) -> bool:
        """The filters an envelope's header decides (cheap: no body decoded)."""
        return not (
            (self.staff and e.staff != self.staff)
            or (self.till and e.till != self.till)
            or (self.ip and e.ip != self.ip)
            or (self.kinds and not e.kind.startswith(self.kinds))
            or (self.since and e.ts < self.since)
            or (self.until and e.ts >= self.until)
        )

    def row_matches(self, row: dict[str, Any]) -> bool:
        if not self.text:
            return True
        shown = [row["kind"], row["staff"], row["till"], row["ip"], row["agg"]]
        shown += [str(v) for v in row["details"].values()]
        return any(self.text in s.casefold() for s in shown)


def _detail(value: Any) -> Any:
    if isinstance(value, bool | int) or (isinstance(value, str) and len(value) <= 200):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v for v in value[:20] if len(v) <= 64]
    return None


def row_of(e: Any) -> dict[str, Any]:
    """The audit row of envelope ``e``."""
    try:  # in its kind's current version (domain.upcast), as every reader sees it
        body = msgspec.json.decode(e.body)
        if isinstance(body, dict):
            body = current_body(e.kind, e.v, body)
    except msgspec.DecodeError:
        body = {}
    details: dict[str, Any] = {}
    if isinstance(body, dict):
        for k in DETAIL_KEYS:
            v = _detail(body.get(k))
            if v is not None and v != "":
                details[k] = v
        lines = body.get("lines")
        if isinstance(lines, list | tuple):
            details["lines"] = len(lines)
        elif isinstance(lines, int):
            details["lines"] = lines
    approved = details.get("approver", "") or (
        body.get("approved_by", "") if isinstance(body, dict) else ""
    )
    return {
        "seq": e.seq,
        "ts": e.ts,
        "kind": e.kind,
        "staff": e.staff,
        "till": e.till,
        "ip": e.ip,
        "agg": e.agg,
        "approved_by": approved if isinstance(approved, str) else "",
        "details": details,
    }
