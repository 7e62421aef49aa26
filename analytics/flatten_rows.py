"""Journal events → plain Python rows per table (the first half of ``analytics.flatten``).

``_as_dict`` turns an envelope or wire dict into a dict with a decoded body (None for kinds that
feed no table); ``_add_event`` appends that event's rows to a ``_Rows`` column store, one list per
column of ``analytics.schema.SCHEMAS``. To feed a new event kind: add its branch here, its columns
in ``analytics.schema`` and the kind to ``KINDS_USED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from analytics.flatten_exchange import add_exchange
from analytics.flatten_members import FLOAT_EVENTS, add_member_float
from analytics.schema import KINDS_USED, SCHEMAS
from domain.events import current_body
from domain.stock_export import stock_doc_moves

_decode = msgspec.json.Decoder()
_BASKET_EVENT = {
    "basket.line_added": "added",
    "basket.quantity_changed": "qty",
    "basket.line_removed": "removed",
}


_DOC_MOVE = {
    "count.approved": "counted",
    "transfer.sent": "transfer_out",
    "transfer.received": "transfer_in",
}


def _as_dict(ev: Any) -> dict[str, Any] | None:
    """Envelope or wire dict → a dict with a decoded ``body`` dict; None for kinds not used."""
    if isinstance(ev, Mapping):
        if ev["kind"] not in KINDS_USED:
            return None
        body = ev["body"]
        if isinstance(body, (bytes, str)):
            body = _decode.decode(body)
        elif not isinstance(body, dict):
            body = msgspec.to_builtins(body)
        return {**ev, "body": current_body(ev["kind"], ev.get("v"), body)}
    if ev.kind not in KINDS_USED:
        return None
    return {
        "seq": ev.seq,
        "id": ev.id,
        "ts": ev.ts,
        "kind": ev.kind,
        "staff": ev.staff,
        "till": ev.till,
        "ip": ev.ip,
        "agg": ev.agg,
        "body": current_body(ev.kind, ev.v, _decode.decode(ev.body)),
    }


def _name(names: Any) -> str:
    if isinstance(names, dict) and names:
        return str(names.get("en") or next(iter(names.values())))
    return ""


class _Rows:
    def __init__(self) -> None:
        self.cols: dict[str, dict[str, list]] = {t: {c: [] for c in s} for t, s in SCHEMAS.items()}

    def add(self, table: str, row: dict[str, Any]) -> None:
        cols = self.cols[table]
        for c, lst in cols.items():
            lst.append(row.get(c))


def _add_event(rows: _Rows, e: dict[str, Any]) -> None:
    kind, b = e["kind"], e["body"]
    if kind == "order.exchanged":  # a refunds row and an orders row, linked (flatten_exchange)
        add_exchange(rows, e, _add_event)
        return
    head = {"seq": e["seq"], "ts": e["ts"], "till": e.get("till", ""), "staff": e.get("staff", "")}
    if kind == "order.completed":
        pays = b.get("payments", ())
        per = {"cash": 0, "card": 0, "wallet": 0, "qr": 0, "points": 0, "coupon": 0}
        tendered = 0
        for p in pays:
            per[p["kind"]] = per.get(p["kind"], 0) + p["amount"]
            if p["kind"] == "cash":
                tendered += p.get("tendered", 0)
        oid = b["order_id"]
        lines = b.get("lines", ())
        rows.add(
            "orders",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "order_id": oid,
                "number": b.get("number", ""),
                "currency": b.get("currency", ""),
                "prices_include_tax": bool(b.get("prices_include_tax", True)),
                "member": b.get("member", ""),
                "n_lines": len(lines),
                "subtotal": b.get("subtotal", 0),
                "discount": b.get("discount", 0),
                "tax": b.get("tax", 0),
                "total": b["total"],
                "rounding": b.get("rounding", 0),
                "paid": sum(p["amount"] for p in pays),
                "cash": per["cash"],
                "card": per["card"],
                "wallet": per["wallet"],
                "qr": per["qr"],
                "points": per["points"],
                "coupon": per["coupon"],
                "tier": b.get("tier", ""),
                "member_discount": b.get("member_discount", 0),
                "tendered": tendered,
                "change": b.get("change", 0),
            },
        )
        for ln in lines:
            rows.add(
                "order_lines",
                {
                    **head,
                    "local_ts": e["ts"],
                    "order_id": oid,
                    "line_id": ln["line_id"],
                    "sku": ln["sku"],
                    "name": _name(ln.get("names")),
                    "category": ln.get("category", ""),
                    "unit": ln.get("unit", ""),
                    "qty": ln["qty"],
                    "unit_price": ln["unit_price"],
                    "base": ln["base"],
                    "discount": ln["discount"],
                    "amount": ln["amount"],
                    "tax": ln["tax"],
                    "total": ln["total"],
                    "tax_class": ln.get("tax_class", ""),
                    "rate_bp": ln.get("rate_bp", 0),
                },
            )
            rows.add(
                "stock_movements",
                {
                    **head,
                    "sku": ln["sku"],
                    "kind": "sale",
                    "delta": -ln["qty"],
                    "order_id": oid,
                    "reference": "",
                },
            )
        for i, p in enumerate(pays):
            rows.add(
                "payments",
                {
                    **head,
                    "order_id": oid,
                    "idx": i,
                    "kind": p["kind"],
                    "amount": p["amount"],
                    "tendered": p.get("tendered", 0),
                    "change": p.get("change", 0),
                    "reference": p.get("reference", ""),
                    "last4": p.get("last4", ""),
                    "member": p.get("member", ""),
                    "provider": p.get("provider", ""),
                    "key": p.get("key", ""),
                },
            )
            if p["kind"] == "wallet":
                rows.add(
                    "wallet_movements",
                    {
                        **head,
                        "member": p.get("member", ""),
                        "kind": "spend",
                        "amount": -p["amount"],
                        "tender": "",
                        "order_id": oid,
                        "refund_id": "",
                        "reference": "",
                    },
                )
    elif kind == "order.refunded":
        tenders = b.get("tenders", ())
        per = {"cash": 0, "card": 0, "wallet": 0, "qr": 0, "points": 0, "coupon": 0}
        for t in tenders:
            per[t["kind"]] = per.get(t["kind"], 0) + t["amount"]
        rid, oid = b["refund_id"], b["order_id"]
        lines = b.get("lines", ())
        rows.add(
            "refunds",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "refund_id": rid,
                "order_id": oid,
                "currency": b.get("currency", ""),
                "n_lines": len(lines),
                "amount": b["amount"],
                "tax": sum(ln.get("tax", 0) for ln in lines),
                "rounding": b.get("rounding", 0),
                "given": sum(t["amount"] for t in tenders),
                "cash": per["cash"],
                "card": per["card"],
                "wallet": per["wallet"],
                "qr": per["qr"],
                "points": per["points"],
                "coupon": per["coupon"],
                "reason": b.get("reason", ""),
                "original_staff": b.get("original_staff", ""),
                "original_ts": b.get("original_ts") or None,
            },
        )
        for ln in lines:
            rows.add(
                "refund_lines",
                {
                    **head,
                    "refund_id": rid,
                    "order_id": oid,
                    "line_id": ln["line_id"],
                    "sku": ln.get("sku", ""),
                    "qty": ln["qty"],
                    "amount": ln["amount"],
                    "tax": ln.get("tax", 0),
                },
            )
            rows.add(
                "stock_movements",
                {
                    **head,
                    "sku": ln.get("sku", ""),
                    "kind": "refund",
                    "delta": ln["qty"],
                    "order_id": oid,
                    "reference": rid,
                },
            )
        for i, t in enumerate(tenders):
            rows.add(
                "refund_tenders",
                {
                    **head,
                    "refund_id": rid,
                    "order_id": oid,
                    "idx": i,
                    "kind": t["kind"],
                    "amount": t["amount"],
                    "reference": t.get("reference", ""),
                    "member": t.get("member", ""),
                    "provider": t.get("provider", ""),
                    "key": t.get("key", ""),
                },
            )
            if t["kind"] == "wallet":
                rows.add(
                    "wallet_movements",
                    {
                        **head,
                        "member": t.get("member", ""),
                        "kind": "refund",
                        "amount": t["amount"],
                        "tender": "",
                        "order_id": oid,
                        "refund_id": rid,
                        "reference": "",
                    },
                )
    elif kind == "basket.voided":
        rows.add(
            "voids",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "basket": b.get("basket", ""),
                "reason": b.get("reason", ""),
                "lines": b.get("lines", 0),
                "amount": b.get("amount", 0),
            },
        )
    elif kind in FLOAT_EVENTS:  # members' money across the chain (flatten_members)
        add_member_float(rows, e, head)
    elif kind == "wallet.topped_up":
        rows.add(
            "wallet_movements",
            {
                **head,
                "member": b["member"],
                "kind": "topup",
                "amount": b["amount"],
                "tender": b.get("tender", ""),
                "order_id": "",
                "refund_id": "",
                "reference": b.get("reference", ""),
                "balance_after": b.get("balance_after"),
            },
        )
    elif kind == "stock.received":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "received",
                "delta": b["qty"],
                "order_id": "",
                "reference": b.get("reference", ""),
            },
        )
    elif kind in ("count.approved", "transfer.sent", "transfer.received"):
        for sku, delta, counted, ref in stock_doc_moves(kind, b):
            rows.add(
                "stock_movements",
                {**head, "sku": sku, "kind": _DOC_MOVE[kind], "delta": delta, "counted": counted,
                 "order_id": "", "reference": ref},
            )  # fmt: skip
    elif kind == "stock.adjusted":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "adjusted",
                "delta": b["delta"],
                "order_id": "",
                "reference": b.get("reason", ""),
            },
        )
    elif kind == "stock.counted":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "counted",
                "delta": b["counted"] - b.get("previous", 0),
                "counted": b["counted"],
                "order_id": "",
                "reference": "",
            },
        )
    elif kind in ("day.opened", "day.closed"):
        z = b.get("z_report")
        if z is not None and not isinstance(z, str):
            z = msgspec.json.encode(z).decode()
        row = {
            **head,
            "event_id": e["id"],
            "till": b.get("till") or head["till"],
            "event": kind.split(".", 1)[1],
            "opening_float": b.get("float", b.get("opening_float"))
            if kind == "day.opened"
            else None,
            "counted_cash": b.get("counted_cash") if kind == "day.closed" else None,
            "z_report": z or "",
        }
        day = b.get("business_day") or b.get("day")
        if isinstance(day, str) and len(day) == 10:
            row["_day"] = day
        rows.add("day_closes", row)
        rows.cols.setdefault("_day_closes_day", {"d": []})["d"].append(row.get("_day"))
    elif kind in ("basket.line_added", "basket.line_removed", "basket.quantity_changed"):
        row = {**head, "basket": b["basket"], "line_id": b["line_id"], "sku": b.get("sku", "")}
        row["event"] = _BASKET_EVENT[kind]
        row.update(unit=b.get("unit", ""), qty=b.get("qty", 0), unit_price=b.get("unit_price", 0))
        rows.add("basket_lines", {**row, "embedded": bool(b.get("embedded", False))})
    elif kind == "drawer.opened":
        row = {
            **head,
            "event_id": e["id"],
            "reason": b.get("reason", ""),
            "note": b.get("note", ""),
        }
        rows.add("drawer_openings", {**row, "till": b.get("till") or head["till"]})
    elif kind in ("flag.acknowledged", "flag.dismissed"):  # an action on a flag: rule ""
        note = {"action": kind.split(".")[1], "note": b.get("note", "")}
        ev = msgspec.json.encode(note).decode()
        row = {**head, "event_id": e["id"], "flag_id": b["flag_id"], "rule": "", "evidence": ev}
        rows.add("flags", {**row, "order_id": b.get("order_id", ""), "severity": "", "score": 0.0})
    elif kind == "order.flagged":
        ev = b.get("evidence", {})
        if not isinstance(ev, str):
            ev = msgspec.json.encode(ev).decode()
        rows.add(
            "flags",
            {
                **head,
                "event_id": e["id"],
                "flag_id": b.get("flag_id", e["id"]),
                "order_id": b.get("order_id", ""),
                "rule": b.get("rule", ""),
                "severity": b.get("severity", ""),
                "score": float(b.get("score", 0.0)),
                "evidence": ev,
                "freeze": bool(b.get("freeze", False)),
                "subject_staff": b.get("subject_staff", ""),
                "subject_till": b.get("subject_till", ""),
            },
        )
