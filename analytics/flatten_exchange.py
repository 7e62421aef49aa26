"""``order.exchanged`` → rows: its returned part as one ``refunds`` row (with its lines, tenders
and stock moves), its sold part as one ``orders`` row (lines, payments, stock moves), each counted
once, and one ``exchanges`` row linking both to the original order.

The credit (returned value that paid for the new items) is journaled with the original tenders'
kinds so the book can refund the new order later; here it becomes the tender kind ``exchange`` on
both sides, so the cash/card/wallet columns (and a Z report's expected cash) count only money
that moved, and no wallet movement is written for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["add_exchange"]

EXCHANGE_TENDER = "exchange"  # as domain.exchange_events.EXCHANGE_TENDER (analytics reads dicts)


def _as_credit(pays: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [{**p, "kind": EXCHANGE_TENDER} if i < n else p for i, p in enumerate(pays)]


def add_exchange(rows: Any, e: dict[str, Any], add_event: Callable[[Any, dict], None]) -> None:
    b = e["body"]
    n = len(b.get("credit", ()))
    returned = {**b["returned"], "tenders": _as_credit(list(b["returned"].get("tenders", ())), n)}
    sold = {**b["sold"], "payments": _as_credit(list(b["sold"].get("payments", ())), n)}
    add_event(rows, {**e, "kind": "order.refunded", "id": f"{e['id']}/returned", "body": returned})
    add_event(rows, {**e, "kind": "order.completed", "id": f"{e['id']}/sold", "body": sold})
    rows.add(
        "exchanges",
        {
            "seq": e["seq"],
            "ts": e["ts"],
            "till": e.get("till", ""),
            "staff": e.get("staff", ""),
            "local_ts": e["ts"],
            "event_id": e["id"],
            "exchange_id": b["exchange_id"],
            "order_id": b["order_id"],
            "refund_id": returned.get("refund_id", ""),
            "refund_number": returned.get("number", ""),
            "sold_order_id": sold.get("order_id", ""),
            "sold_number": sold.get("number", ""),
            "currency": sold.get("currency", ""),
            "returned": returned.get("amount", 0),
            "sold": sold.get("total", 0),
            "credit": sum(p["amount"] for p in b.get("credit", ())),
            "difference": b.get("difference", 0),
            "reason": b.get("reason", ""),
        },
    )
