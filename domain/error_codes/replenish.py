"""Codes of replenishment and the alerts that reach people: settings, low stock, the mail outbox."""

from __future__ import annotations

from domain.error_codes.base import LOCAL, Code
from domain.errors import InvalidInput

__all__ = ["Replenish", "StockAlert"]


class Replenish(Code):
    BAD_SETTING = (
        "replenish.bad_setting",
        InvalidInput,
        "A replenishment or e-mail setting of the store is not valid.",
    )


class StockAlert(Code):
    """The low-stock alert (``domain.alerts_stock``): manager counter, big screen, HQ, e-mail."""

    LOW = (
        "stock.low",
        LOCAL,
        "Some products are at or under their minimum stock: order more.",
    )
