"""The ``order.flagged`` event: an anomaly flag, journaled to reach HQ and the till's order view.

``OrderFlagged`` is registered with ``domain.events.register`` when this module is imported (the
domain module is owned elsewhere; registering here keeps analytics' event beside its rules). Import
it in the process that journals flags (the ledger) so ``kind_of`` knows it.

``flags_to_events(flags)`` turns the frame of ``analytics.anomaly.score`` into bodies. ``flag_id``
is a UUID derived from (store, rule, order): use it as the command id, so journaling a flag twice
has one effect. If ``freeze`` is true the caller also sends
``domain.commands.FreezeOrder(order_id, reason=f"flag: {rule}", rule=rule)``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from domain.events import KINDS, register

__all__ = [
    "OrderFlagged",
    "FlagAcknowledged",
    "FlagDismissed",
    "flags_to_events",
    "flag_id",
    "action",
    "inbox",
]

_NS = uuid.UUID("8f5d7a52-4a4b-4d0e-9a57-6b6173736101")


def flag_id(store_id: str, rule: str, order_id: str) -> str:
    return str(uuid.uuid5(_NS, f"{store_id}|{rule}|{order_id}"))


@dataclass(frozen=True, slots=True)
class OrderFlagged:
    flag_id: str  # uuid5(store|rule|order): the idempotency key
    order_id: str  # the order (or the voided basket) flagged
    rule: str  # one of analytics.anomaly.RULES
    severity: str  # low | medium | high
    score: float  # how far past the threshold (≥ 1.0 roughly means "just past"); not money
    evidence: dict[str, Any]  # rule-specific facts (amounts in minor units), JSON values
    freeze: bool = False  # the rule asks for the order to be frozen
    subject_staff: str = ""  # who the flag is about (the seller, or who refunded/voided)
    subject_till: str = ""
    order_ts: int = 0  # UTC microseconds of the flagged event
    business_day: str = ""  # YYYY-MM-DD in the store's zone


@dataclass(frozen=True, slots=True)
class FlagAcknowledged:
    """A manager has seen a flag (the flags inbox); the flag stays on the order."""

    flag_id: str
    order_id: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class FlagDismissed:
    """A manager judged a flag a false alarm; ``note`` says why."""

    flag_id: str
    order_id: str
    note: str


for _kind, _cls in (
    ("order.flagged", OrderFlagged),
    ("flag.acknowledged", FlagAcknowledged),
    ("flag.dismissed", FlagDismissed),
):
    if _kind not in KINDS:
        register(_kind)(_cls)


def action(op: str, flag: str, order_id: str, note: str) -> FlagAcknowledged | FlagDismissed:
    if op == "acknowledge":
        return FlagAcknowledged(flag, order_id, note)
    return FlagDismissed(flag, order_id, note)


def inbox(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the ``flags`` table (flags, and the actions on them: ``rule`` "") → one entry per
    flag with its ``state`` (open | acknowledged | dismissed), who acted, when and the note; the
    newest first."""
    flags: dict[str, dict[str, Any]] = {}
    acts = sorted((r for r in rows if not r.get("rule")), key=lambda r: r.get("seq") or 0)
    for r in rows:
        if r.get("rule"):
            ev = r.get("evidence") or "{}"
            flags[r["flag_id"]] = {
                "flag_id": r["flag_id"],
                "order_id": r["order_id"],
                "rule": r["rule"],
                "severity": r["severity"],
                "score": r["score"],
                "evidence": msgspec.json.decode(ev) if isinstance(ev, str) else ev,
                "freeze": r["freeze"],
                "staff": r.get("subject_staff") or "",
                "till": r.get("subject_till") or "",
                "ts": r.get("ts"),
                "business_day": r.get("business_day"),
                "state": "open",
                "by": "",
                "note": "",
                "acted_at": None,
            }
    for a in acts:
        f = flags.get(a["flag_id"])
        if f is not None:
            ev = a.get("evidence") or "{}"
            d = msgspec.json.decode(ev) if isinstance(ev, str) else ev
            f.update(state=d.get("action", "open"), note=d.get("note", ""), by=a.get("staff", ""))
            f["acted_at"] = a.get("ts")
    return sorted(flags.values(), key=lambda f: str(f["ts"]), reverse=True)


def flags_to_events(flags: Any) -> list[OrderFlagged]:
    """``flags``: the Polars frame of ``analytics.anomaly.score``."""
    import polars as pl  # here, not at the top: the ledger imports this module for the event

    out = []
    for r in flags.with_columns(
        pl.col("ts").dt.epoch("us").alias("_us"),
        pl.col("business_day").cast(pl.String).alias("_day"),
    ).iter_rows(named=True):
        out.append(
            OrderFlagged(
                flag_id=flag_id(r["store_id"], r["rule"], r["order_id"]),
                order_id=r["order_id"],
                rule=r["rule"],
                severity=r["severity"],
                score=float(r["score"] or 0.0),
                evidence=msgspec.json.decode(r["evidence"]) if r["evidence"] else {},
                freeze=bool(r["freeze"]),
                subject_staff=r["staff"] or "",
                subject_till=r["till"] or "",
                order_ts=int(r["_us"] or 0),
                business_day=r["_day"] or "",
            )
        )
    return out
