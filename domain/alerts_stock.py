"""The low-stock alert: products at or under their threshold, as one ``domain.alerts.Alert``.

A product is low when its level is at or under its threshold: the higher of store.json's
``replenish.per_sku.<sku>.min`` and the product's own ``low_stock`` (``domain.replenish.
low_threshold``); a product with neither (0) is never low. One alert, ``stock.low``, names the
most urgent products (lowest level against its threshold first, then by SKU); the whole list
stays with the caller, who mails each change (``actors.outbox``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.alerts import Alert
from domain.error_codes.replenish import StockAlert

__all__ = ["LowItem", "low_items", "stock_alert", "SHOWN"]

SHOWN = 20  # products named in the alert (HQ, the Health tab, the big screen)


@dataclass(frozen=True, slots=True)
class LowItem:
    sku: str
    level: int
    threshold: int
    name: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "name": self.name, "level": self.level, "min": self.threshold}


def low_items(
    levels: Mapping[str, int],
    thresholds: Mapping[str, int],
    names: Mapping[str, str] | None = None,
) -> list[LowItem]:
    """Every product at or under its threshold (a threshold of 0 or less: none), most urgent
    first. A product never received nor sold has level 0."""
    names = names or {}
    out = [
        LowItem(sku, levels.get(sku, 0), t, names.get(sku, ""))
        for sku, t in thresholds.items()
        if t > 0 and levels.get(sku, 0) <= t
    ]
    return sorted(out, key=lambda i: (i.level - i.threshold, i.sku))


def stock_alert(items: list[LowItem]) -> Alert | None:
    """The ``stock.low`` alert of ``items`` (None when nothing is low)."""
    if not items:
        return None
    shown = items[:SHOWN]
    names = ", ".join(f"{i.name or i.sku} ({i.level}/{i.threshold})" for i in shown[:5])
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return Alert(
        StockAlert.LOW,
        f"{len(items)} product(s) at or under their minimum stock: {names}{more}",
        {"count": len(items), "items": [i.to_dict() for i in shown]},
    )
