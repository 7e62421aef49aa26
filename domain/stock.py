"""Stock levels as a projection of sales, refunds, receipts, adjustments and counts.

Stock never blocks a sale: a level may go negative; it is then reported (the shelf was right, the
count was wrong). Weighed products count grams, others pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.commands import LedgerCommand
from domain.error_codes.batch15b import StockBatch
from domain.errors import Conflict, InvalidInput
from domain.events import OrderCompleted, OrderRefunded, StockAdjusted, StockCounted, StockReceived
from domain.stock_events import (
    CountApproved,
    TransferReceived,
    TransferSent,
    supplier_of_reference,
)

__all__ = [
    "StockBook",
    "StockLine",
    "SetLevel",
    "decide_receipt",
    "decide_adjustment",
    "decide_count",
    "handle_set_level",
]

MAX_STOCK_QTY = 10**9


def _qty(value: object, what: str, allow_negative: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("stock.bad_quantity", f"{what} must be a whole number")
    if abs(value) > MAX_STOCK_QTY or (value < 0 and not allow_negative):
        raise InvalidInput("stock.bad_quantity", f"{what} is out of range")
    return value


def decide_receipt(sku: str, qty: int, reference: str = "") -> StockReceived:
    """A free receipt; its supplier is the reference's part before "/" ("ACME/INV-889")."""
    if _qty(qty, "received quantity") == 0:
        raise InvalidInput("stock.bad_quantity", "received quantity must be positive")
    ref = reference[:100]
    return StockReceived(sku=sku, qty=qty, reference=ref, supplier=supplier_of_reference(ref))


def decide_adjustment(sku: str, delta: int, reason: str) -> StockAdjusted:
    if _qty(delta, "adjustment", allow_negative=True) == 0:
        raise InvalidInput("stock.bad_quantity", "an adjustment must change something")
    if not reason.strip():
        raise InvalidInput("stock.reason_required", "say why stock is adjusted")
    return StockAdjusted(sku=sku, delta=delta, reason=reason[:200])


def decide_count(sku: str, counted: int, current: int) -> StockCounted:
    return StockCounted(sku=sku, counted=_qty(counted, "counted quantity"), previous=current)


class SetLevel(LedgerCommand, frozen=True):
    """A level set (a batch edit's line): decided in the ledger against the level as of its
    commit, so a sale committed after the manager looked still counts (the adjustment is the
    difference then, not the one the gateway saw)."""

    sku: str
    level: int
    reason: str


def handle_set_level(cmd: SetLevel, book: Any) -> StockAdjusted:
    """The adjustment that brings ``cmd.sku`` to ``cmd.level`` (refused when it is there)."""
    level = _qty(cmd.level, "level", allow_negative=True)
    now = book.stock.level(cmd.sku)
    if level == now:
        raise Conflict(StockBatch.UNCHANGED, "the level is already that", sku=cmd.sku)
    return decide_adjustment(cmd.sku, level - now, cmd.reason)


@dataclass(frozen=True, slots=True)
class StockLine:
    sku: str
    level: int
    low_stock: int

    @property
    def negative(self) -> bool:
        return self.level < 0

    @property
    def low(self) -> bool:
        return self.level <= self.low_stock


class StockBook:
    def __init__(self) -> None:
        self.levels: dict[str, int] = {}

    def level(self, sku: str) -> int:
        return self.levels.get(sku, 0)

    def _move(self, sku: str, delta: int) -> None:
        self.levels[sku] = self.levels.get(sku, 0) + delta

    def apply(self, body: Any) -> None:
        if isinstance(body, OrderCompleted):
            for ln in body.lines:
                self._move(ln.sku, -ln.qty)
        elif isinstance(body, OrderRefunded):
            for rl in body.lines:
                self._move(rl.sku, rl.qty)
        elif isinstance(body, StockReceived):
            self._move(body.sku, body.qty)
        elif isinstance(body, StockAdjusted):
            self._move(body.sku, body.delta)
        elif isinstance(body, StockCounted):
            self.levels[body.sku] = body.counted
        elif isinstance(body, CountApproved):
            for sku, _expected, counted in body.variances:
                self.levels[sku] = counted
        elif isinstance(body, TransferSent):
            for sku, qty in body.lines:
                self._move(sku, -qty)
        elif isinstance(body, TransferReceived):
            for sku, qty in body.lines:
                self._move(sku, qty)

    def negatives(self) -> list[tuple[str, int]]:
        return sorted((s, q) for s, q in self.levels.items() if q < 0)

    def low(self, thresholds: dict[str, int]) -> list[StockLine]:
        out = []
        for sku, threshold in thresholds.items():
            lvl = self.levels.get(sku, 0)
            if threshold > 0 and lvl <= threshold:
                out.append(StockLine(sku, lvl, threshold))
        return sorted(out, key=lambda s: s.sku)
