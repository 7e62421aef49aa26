"""Commands decided inside the ledger, against the book, where commits are serialised.

Most events are decided by the actor that owns the state (a till decides basket events). A command
whose answer depends on state shared by every till — a refund, a freeze, a stock count — is sent to
the ledger as one of these frozen msgspec Structs, and decided there by its handler
(``domain.ledger_handlers``) right before it commits, so no two of them decide against the same
stale state. They cross the store's internal sockets as data, named in ``actors.ledger.COMMANDS``.
"""

from __future__ import annotations

import msgspec

__all__ = ["LedgerCommand", "RefundOrder", "FreezeOrder", "UnfreezeOrder", "CountStock"]


class LedgerCommand(msgspec.Struct, frozen=True):
    """Base of the commands decided in the ledger."""


class RefundOrder(LedgerCommand, frozen=True):
    """Give back lines of an order (``lines`` {line id: qty}; None: all not refunded yet) to the
    tenders it was paid with."""

    order_id: str
    refund_id: str
    lines: dict[str, int] | None = None  # None: everything not yet refunded
    reason: str = ""
    cash_increment: int = 1
    # the same-cashier rule before money leaves: who refunds, when (UTC µs), within how many
    # minutes of their own sale a manager must approve (0: never), and whether one did
    by_staff: str = ""
    at_us: int = 0
    own_sale_minutes: int = 0
    manager_ok: bool = False
    # store.json refund_limits.needs_manager_over: more given back needs a manager (0: no limit)
    refund_limit: int = 0
    limit_ok: bool = False


class FreezeOrder(LedgerCommand, frozen=True):
    """Hold an order: no refund until a manager unfreezes it (``rule``: the anomaly rule if
    any)."""

    order_id: str
    reason: str
    rule: str = ""


class UnfreezeOrder(LedgerCommand, frozen=True):
    order_id: str
    reason: str = ""


class CountStock(LedgerCommand, frozen=True):
    """A counted shelf: the level becomes ``counted``; the event keeps the level it replaced."""

    sku: str
    counted: int
