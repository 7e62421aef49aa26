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
from typing import Any

from domain.alerts import Alert
from domain.error_codes.replenish import StockAlert

__all__ = ["LowItem", "low_items", "stock_alert", "items_of", "SHOWN", "NAMED"]

SHOWN = 20  # products named on the big screen
NAMED = 5  # products named in the alert (HQ keeps an alert's values flat: sku_1, name_1, …)


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
    named = items[:NAMED]
    names = ", ".join(f"{i.name or i.sku} ({i.level}/{i.threshold})" for i in named)
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    values: dict[str, object] = {"count": len(items)}
    for n, i in enumerate(named, 1):
        values.update(
            {f"sku_{n}": i.sku, f"name_{n}": i.name[:100], f"level_{n}": i.level,
             f"min_{n}": i.threshold}
        )  # fmt: skip
    return Alert(
        StockAlert.LOW,
        f"{len(items)} product(s) at or under their minimum stock: {names}{more}",
        values,
    )


def items_of(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The products named in a ``stock.low`` alert's values, most urgent first."""
    return [
        {k: values.get(f"{k}_{n}") for k in ("sku", "name", "level", "min")}
        for n in range(1, NAMED + 1)
        if f"sku_{n}" in values
    ]
