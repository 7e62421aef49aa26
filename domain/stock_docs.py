"""Stock documents: purchase orders, receipts against them, stock counts and transfers — the
decisions (pure functions returning events, refusing with ``KassaError``) and ``StockDocs``, their
state as a projection of the journal (``apply(kind, body, ts)``), with each product's movements.

A receipt against a PO may be partial (the rest stays open) or exceed what was ordered (shown as
over-received); the PO is "received" once every line has come. A count's approval is a ledger
command (``ApproveCount``): the expected level is the book's at the moment of approval, so no two
approvals decide against the same state, and the counted levels replace the book's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domain.commands import LedgerCommand
from domain.error_codes.stock import StockDoc
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import OrderCompleted, OrderRefunded, StockAdjusted, StockCounted, StockReceived
from domain.stock import MAX_STOCK_QTY, SetLevel
from domain.stock_events import (
    CountApproved,
    CountCancelled,
    CountLines,
    CountStarted,
    PoCancelled,
    PoCreated,
    PoLine,
    TransferReceived,
    TransferSent,
)

__all__ = [
    "STOCK_DOC_TYPES",
    "ADJUST_REASONS",
    "ApproveCount",
    "handle_approve_count",
    "check_doc_id",
    "decide_po",
    "decide_receipt_lines",
    "decide_batch_levels",
    "decide_count_start",
    "open_po",
    "open_count",
    "decide_count_lines",
    "decide_transfer_sent",
    "decide_transfer_received",
    "PoState",
    "CountState",
    "StockDocs",
]

STOCK_DOC_TYPES = (CountApproved, TransferSent, TransferReceived)  # events that move levels
ADJUST_REASONS = ("damaged", "expired", "theft", "found", "own use", "correction")
MAX_LINES = 500
MAX_UNIT_COST = 10**10
MOVES_KEPT = 30  # per product, newest last (memory: ~30 × active products)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")


def check_doc_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidInput(
            StockDoc.BAD_REFERENCE, f"{what}: 1–40 letters, digits, '.', '_', '/' or '-'"
        )
    return value


def _qty(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_STOCK_QTY:
        raise InvalidInput("stock.bad_quantity", f"{what} must be a whole number above zero")
    return value


def _cost(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UNIT_COST:
        raise InvalidInput(StockDoc.BAD_COST, "a unit cost is a whole amount in minor units")
    return value


def _sku(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise InvalidInput("stock.bad_quantity", "each line names a product (sku)")
    return value


def _lines(lines: object) -> list[dict[str, Any]]:
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise InvalidInput(StockDoc.NO_LINES, f"give 1 to {MAX_LINES} lines")
    if not all(isinstance(ln, dict) for ln in lines):
        raise InvalidInput(StockDoc.NO_LINES, "each line is an object")
    return lines


# ---------------------------------------------------------------- purchase orders and receipts


@dataclass
class PoState:
    po: str
    supplier: str
    lines: dict[str, PoLine]
    expected: str = ""
    created: int = 0
    state: str = "open"  # open | received | cancelled
    received: dict[str, int] = field(default_factory=dict)

    def outstanding(self, sku: str) -> int:
        ln = self.lines.get(sku)
        return max(0, (ln.qty if ln else 0) - self.received.get(sku, 0))

    def to_dict(self) -> dict[str, Any]:
        skus = list(self.lines) + [s for s in self.received if s not in self.lines]
        rows = []
        for sku in skus:
            ln = self.lines.get(sku)
            ordered, got = (ln.qty if ln else 0), self.received.get(sku, 0)
            rows.append(
                {
                    "sku": sku,
                    "qty": ordered,
                    "unit_cost": ln.unit_cost if ln else 0,
                    "received": got,
                    "outstanding": max(0, ordered - got),
                    "over": max(0, got - ordered),
                }
            )
        return {
            "po": self.po,
            "supplier": self.supplier,
            "expected": self.expected,
            "created": self.created,
            "state": self.state,
            "lines": rows,
            "value": sum(ln.qty * ln.unit_cost for ln in self.lines.values()),
        }


def decide_po(
    po: str, supplier: str, lines: object, expected: str = "", note: str = ""
) -> PoCreated:
    if not supplier.strip():
        raise InvalidInput(StockDoc.SUPPLIER_REQUIRED, "name the supplier")
    out: dict[str, PoLine] = {}
    for ln in _lines(lines):
        sku = _sku(ln.get("sku"))
        if sku in out:
            raise InvalidInput(StockDoc.DUPLICATE_LINE, "a product is on the order once", sku=sku)
        out[sku] = PoLine(
            sku, _qty(ln.get("qty"), "ordered quantity"), _cost(ln.get("unit_cost", 0))
        )
    if expected and not re.match(r"^\d{4}-\d{2}-\d{2}$", expected):
        raise InvalidInput(StockDoc.BAD_REFERENCE, "the expected day is YYYY-MM-DD")
    return PoCreated(
        check_doc_id(po, "po"), supplier.strip()[:100], tuple(out.values()), expected, note[:200]
    )


def decide_receipt_lines(
    lines: object, po: PoState | None, supplier: str = "", reference: str = ""
) -> list[StockReceived]:
    """One ``stock.received`` per line; against ``po`` (open) the supplier is the PO's and a line
    without a unit cost takes the PO's."""
    if po is not None:
        open_po(po)
    out: list[StockReceived] = []
    for ln in _lines(lines):
        sku = _sku(ln.get("sku"))
        qty = _qty(ln.get("qty"), "received quantity")
        on_po = po.lines.get(sku) if po is not None else None
        cost = ln.get("unit_cost")
        unit_cost = _cost(cost) if cost is not None else (on_po.unit_cost if on_po else 0)
        out.append(
            StockReceived(
                sku=sku,
                qty=qty,
                reference=reference[:100],
                supplier=po.supplier if po is not None else supplier.strip()[:100],
                unit_cost=unit_cost,
                po=po.po if po is not None else "",
            )
        )
    return out


# ---------------------------------------------------------------- counts


@dataclass
class CountState:
    count: str
    scope: str
    category: str
    blind: bool
    started: int = 0
    state: str = "open"  # open | approved | cancelled
    lines: dict[str, int] = field(default_factory=dict)
    variances: tuple[tuple[str, int, int], ...] = ()

    def to_dict(self, expected: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "count": self.count,
            "scope": self.scope,
            "category": self.category,
            "blind": self.blind,
            "started": self.started,
            "state": self.state,
            "lines": [{"sku": s, "counted": c} for s, c in sorted(self.lines.items())],
        }
        if expected and self.state == "approved":
            out["variances"] = [
                {"sku": s, "expected": e, "counted": c, "difference": c - e}
                for s, e, c in self.variances
            ]
        return out


def decide_count_start(count: str, scope: str, category: str, blind: bool) -> CountStarted:
    if scope not in ("all", "category"):
        raise InvalidInput(StockDoc.BAD_SCOPE, "a count's scope is all or category")
    if scope == "category" and not category.strip():
        raise InvalidInput(StockDoc.BAD_SCOPE, "name the category to count")
    return CountStarted(check_doc_id(count, "count"), scope, bool(blind), category.strip()[:100])


def open_po(po: PoState) -> PoState:
    if po.state != "open":
        raise Conflict(StockDoc.PO_CLOSED, f"purchase order {po.po} is {po.state}", po=po.po)
    return po


def open_count(c: CountState | None, count: str) -> CountState:
    if c is None:
        raise NotFound(StockDoc.COUNT_NOT_FOUND, "there is no such stock count", count=count)
    if c.state != "open":
        raise Conflict(StockDoc.COUNT_CLOSED, f"stock count {count} is {c.state}", count=count)
    return c


def decide_count_lines(
    c: CountState | None, count: str, lines: object, category_of: dict[str, str]
) -> CountLines:
    """Counted quantities (0 allowed: the shelf is empty); ``category_of`` each line's product
    category, for a count of one category."""
    st = open_count(c, count)
    out: list[tuple[str, int]] = []
    for ln in _lines(lines):
        sku, counted = _sku(ln.get("sku")), ln.get("counted")
        if isinstance(counted, bool) or not isinstance(counted, int):
            raise InvalidInput("stock.bad_quantity", "a counted quantity is a whole number")
        if not 0 <= counted <= MAX_STOCK_QTY:
            raise InvalidInput("stock.bad_quantity", "a counted quantity is out of range")
        if st.scope == "category" and category_of.get(sku, "") != st.category:
            raise InvalidInput(
                StockDoc.OUT_OF_SCOPE, f"{sku} is not in the category counted", sku=sku
            )
        out.append((sku, counted))
    return CountLines(count, tuple(out))


class ApproveCount(LedgerCommand, frozen=True):
    """Approve a count: its counted lines (``lines`` sku → counted) become the levels."""

    count: str
    lines: dict[str, int]


def handle_approve_count(cmd: ApproveCount, book: Any) -> CountApproved:
    if not cmd.lines:
        raise Conflict(StockDoc.COUNT_EMPTY, "nothing was counted yet", count=cmd.count)
    return CountApproved(
        cmd.count,
        tuple((s, book.stock.level(s), c) for s, c in sorted(cmd.lines.items())),
    )


def decide_batch_levels(lines: object, reason: str) -> list[SetLevel]:
    """Levels set for many products at once: one ``SetLevel`` per line, each decided in the
    ledger against the level at its commit (never against a level read before)."""
    if not reason.strip():
        raise InvalidInput("stock.reason_required", "say why stock is adjusted")
    out = []
    for ln in _lines(lines):
        sku, level = _sku(ln.get("sku")), ln.get("level")
        if isinstance(level, bool) or not isinstance(level, int) or abs(level) > MAX_STOCK_QTY:
            raise InvalidInput("stock.bad_quantity", "each line gives sku and level")
        out.append(SetLevel(sku, level, reason[:200]))
    return out


# ---------------------------------------------------------------- transfers


def _pairs(lines: object) -> tuple[tuple[str, int], ...]:
    out: dict[str, int] = {}
    for ln in _lines(lines):
        sku = _sku(ln.get("sku"))
        out[sku] = out.get(sku, 0) + _qty(ln.get("qty"), "transferred quantity")
    return tuple(out.items())


def decide_transfer_sent(
    transfer: object, to_store: object, here: str, lines: object
) -> TransferSent:
    to = check_doc_id(to_store, "to_store")
    if to == here:
        raise InvalidInput(StockDoc.SAME_STORE, "a transfer goes to another store")
    return TransferSent(check_doc_id(transfer, "transfer"), to, _pairs(lines))


def decide_transfer_received(
    transfer: object, from_store: object, lines: object, received: set[str]
) -> TransferReceived:
    ref = check_doc_id(transfer, "transfer")
    if ref in received:
        raise Conflict(StockDoc.TRANSFER_RECEIVED, "this transfer was received already")
    return TransferReceived(ref, check_doc_id(from_store, "from_store"), _pairs(lines))


# ---------------------------------------------------------------- the projection


class StockDocs:
    """POs, counts, transfers and each product's last ``MOVES_KEPT`` movements."""

    def __init__(self) -> None:
        self.pos: dict[str, PoState] = {}
        self.counts: dict[str, CountState] = {}
        self.sent: dict[str, TransferSent] = {}
        self.received: dict[str, TransferReceived] = {}
        self.moves: dict[str, list[tuple[int, str, int, str]]] = {}

    def _move(self, sku: str, ts: int, kind: str, delta: int, ref: str) -> None:
        hist = self.moves.setdefault(sku, [])
        hist.append((ts, kind, delta, ref))
        if len(hist) > MOVES_KEPT:
            del hist[:-MOVES_KEPT]

    def apply(self, body: Any, ts: int) -> None:
        if isinstance(body, OrderCompleted):
            for ln in body.lines:
                self._move(ln.sku, ts, "sale", -ln.qty, body.order_id)
        elif isinstance(body, OrderRefunded):
            for rl in body.lines:
                self._move(rl.sku, ts, "refund", rl.qty, body.order_id)
        elif isinstance(body, StockReceived):
            self._move(body.sku, ts, "received", body.qty, body.po or body.reference)
            po = self.pos.get(body.po) if body.po else None
            if po is not None:
                po.received[body.sku] = po.received.get(body.sku, 0) + body.qty
                if po.state == "open" and all(po.outstanding(s) == 0 for s in po.lines):
                    po.state = "received"
        elif isinstance(body, StockAdjusted):
            self._move(body.sku, ts, "adjusted", body.delta, body.reason)
        elif isinstance(body, StockCounted):
            self._move(body.sku, ts, "counted", body.counted - body.previous, "")
        elif isinstance(body, PoCreated):
            lines = {ln.sku: ln for ln in body.lines}
            self.pos[body.po] = PoState(body.po, body.supplier, lines, body.expected, ts)
        elif isinstance(body, PoCancelled) and body.po in self.pos:
            self.pos[body.po].state = "cancelled"
        elif isinstance(body, CountStarted):
            self.counts[body.count] = CountState(
                body.count, body.scope, body.category, body.blind, ts
            )
        elif isinstance(body, CountLines) and body.count in self.counts:
            self.counts[body.count].lines.update(dict(body.lines))
        elif isinstance(body, CountApproved):
            c = self.counts.get(body.count)
            if c is not None:
                c.state, c.variances = "approved", body.variances
            for sku, expected, counted in body.variances:
                self._move(sku, ts, "count", counted - expected, body.count)
        elif isinstance(body, CountCancelled) and body.count in self.counts:
            self.counts[body.count].state = "cancelled"
        elif isinstance(body, TransferSent):
            self.sent[body.transfer] = body
            for sku, qty in body.lines:
                self._move(sku, ts, "transfer out", -qty, body.transfer)
        elif isinstance(body, TransferReceived):
            self.received[body.transfer] = body
            for sku, qty in body.lines:
                self._move(sku, ts, "transfer in", qty, body.transfer)
