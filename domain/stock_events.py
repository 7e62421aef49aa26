"""Stock documents as events: purchase orders, stock counts and transfers between stores; and the
upcaster of ``stock.received`` v1 → v2.

- ``po.created`` / ``po.cancelled``: an order to a supplier (lines: sku, qty, unit cost). What was
  received against it is the ``stock.received`` events naming it (``po``); nothing else changes it.
- ``count.started`` → ``count.lines`` (counted quantities, the last one of a sku wins) →
  ``count.approved`` (decided in the ledger: ``variances`` = (sku, expected, counted) with the
  level at approval as expected; the levels become the counted ones) or ``count.cancelled``.
- ``transfer.sent`` at the sending store (levels go down), ``transfer.received`` at the receiving
  one (levels go up), entered there by the transfer's reference when the goods arrive.

Imported at the end of ``domain.events`` (a one-line hook)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.events import register
from domain.upcast import upcaster

__all__ = [
    "PoLine",
    "PoCreated",
    "PoCancelled",
    "CountStarted",
    "CountLines",
    "CountApproved",
    "CountCancelled",
    "TransferSent",
    "TransferReceived",
    "supplier_of_reference",
]


def supplier_of_reference(reference: str) -> str:
    """The supplier a v1 receipt named in its reference ("ACME/INV-889" → "ACME"), as the stock
    screen asked it written before receipts carried a supplier."""
    ref = reference.strip()
    return ref.split("/", 1)[0].strip() if "/" in ref else ref


@upcaster("stock.received", 1)
def _received_v2(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    body.setdefault("supplier", supplier_of_reference(str(body.get("reference") or "")))
    body.setdefault("unit_cost", 0)
    body.setdefault("po", "")
    return body


@dataclass(frozen=True, slots=True)
class PoLine:
    sku: str
    qty: int
    unit_cost: int = 0


@register("po.created")
@dataclass(frozen=True, slots=True)
class PoCreated:
    po: str
    supplier: str
    lines: tuple[PoLine, ...]
    expected: str = ""  # the day the goods are expected, YYYY-MM-DD ("" not said)
    note: str = ""


@register("po.cancelled")
@dataclass(frozen=True, slots=True)
class PoCancelled:
    po: str
    reason: str = ""


@register("count.started")
@dataclass(frozen=True, slots=True)
class CountStarted:
    count: str
    scope: str  # all | category
    blind: bool = True
    category: str = ""


@register("count.lines")
@dataclass(frozen=True, slots=True)
class CountLines:
    count: str
    lines: tuple[tuple[str, int], ...]  # (sku, counted)


@register("count.approved")
@dataclass(frozen=True, slots=True)
class CountApproved:
    count: str
    variances: tuple[tuple[str, int, int], ...]  # (sku, expected, counted)


@register("count.cancelled")
@dataclass(frozen=True, slots=True)
class CountCancelled:
    count: str
    reason: str = ""


@register("transfer.sent")
@dataclass(frozen=True, slots=True)
class TransferSent:
    transfer: str
    to_store: str
    lines: tuple[tuple[str, int], ...]  # (sku, qty)
    note: str = ""


@register("transfer.received")
@dataclass(frozen=True, slots=True)
class TransferReceived:
    transfer: str
    from_store: str
    lines: tuple[tuple[str, int], ...] = field(default_factory=tuple)
