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

__all__ = ["OrderFlagged", "flags_to_events", "flag_id"]

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


if "order.flagged" not in KINDS:
    register("order.flagged")(OrderFlagged)


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
