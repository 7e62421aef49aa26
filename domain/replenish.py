"""Replenishment: how much of each product to order, from how fast it sells.

The rule, per product (all quantities in the product's stock unit: pieces, or grams when weighed)::

    velocity = net units sold over the last ``weeks`` × 7 days / (``weeks`` × 7)
               (sold in completed orders minus refunded, exchanges counted as both)
    need     = velocity × (lead_days + safety_days) + min − on_hand − on_order
    suggest  = clamp(ceil_to_pack(need), 0, floor_to_pack(max − on_hand − on_order))

``ceil_to_pack`` rounds up to a whole number of packs (``pack``, 1 when unset); the upper bound is
what still fits under ``max`` once the open orders arrive, rounded down to whole packs (no ``max``:
no upper bound). Arithmetic is exact (``Fraction``): no float decides an order. A product is
suggested when ``suggest`` > 0.

Settings are store.json's ``replenish`` object (``ReplenishRules.from_dict``)::

    {"weeks": 4, "lead_days": 7, "safety_days": 3,
     "per_sku": {"8850001": {"min": 12, "max": 48, "pack": 6, "supplier": "ACME"}}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from domain.error_codes.replenish import Replenish
from domain.errors import InvalidInput

__all__ = [
    "SkuRule",
    "ReplenishRules",
    "Suggestion",
    "suggest_qty",
    "suggestions",
    "low_threshold",
    "MAX_QTY",
]

MAX_QTY = 10**9  # as domain.stock.MAX_STOCK_QTY
MAX_DAYS = 366
CENT = Decimal("0.01")


def _whole(d: Mapping[str, Any], key: str, default: int, lo: int, hi: int, where: str) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(
            Replenish.BAD_SETTING, f"{where}{key} is a whole number {lo}–{hi}", field=key
        )
    return value


@dataclass(frozen=True, slots=True)
class SkuRule:
    """One product's settings: ``min`` kept on the shelf (also its low-stock level), ``max`` never
    exceeded by an order (0: no maximum), ``pack`` ordered in multiples of, ``supplier``."""

    min: int = 0
    max: int = 0
    pack: int = 1
    supplier: str = ""

    @classmethod
    def from_dict(cls, sku: str, d: Any) -> SkuRule:
        where = f"replenish.per_sku.{sku}."
        if not isinstance(d, dict):
            raise InvalidInput(Replenish.BAD_SETTING, f"{where[:-1]} is an object", field=sku)
        unknown = set(d) - {"min", "max", "pack", "supplier"}
        if unknown:
            raise InvalidInput(
                Replenish.BAD_SETTING, f"unknown setting {where}{min(unknown)}", field=sku
            )
        supplier = d.get("supplier", "")
        if not isinstance(supplier, str) or len(supplier) > 100:
            raise InvalidInput(
                Replenish.BAD_SETTING, f"{where}supplier is a name of 100 characters or fewer"
            )
        rule = cls(
            _whole(d, "min", 0, 0, MAX_QTY, where),
            _whole(d, "max", 0, 0, MAX_QTY, where),
            _whole(d, "pack", 1, 1, MAX_QTY, where),
            supplier.strip(),
        )
        if rule.max and rule.max < rule.min:
            raise InvalidInput(Replenish.BAD_SETTING, f"{where}max is under min", field=sku)
        return rule


@dataclass(frozen=True, slots=True)
class ReplenishRules:
    weeks: int = 4
    lead_days: int = 7
    safety_days: int = 3
    per_sku: dict[str, SkuRule] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return self.weeks * 7

    def rule(self, sku: str) -> SkuRule:
        return self.per_sku.get(sku) or SkuRule()

    @classmethod
    def from_dict(cls, d: Any) -> ReplenishRules:
        """store.json's ``replenish`` object; keys left out keep their defaults."""
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise InvalidInput(Replenish.BAD_SETTING, "replenish is an object")
        unknown = set(d) - {"weeks", "lead_days", "safety_days", "per_sku"}
        if unknown:
            raise InvalidInput(Replenish.BAD_SETTING, f"unknown setting replenish.{min(unknown)}")
        per = d.get("per_sku") or {}
        if not isinstance(per, dict):
            raise InvalidInput(Replenish.BAD_SETTING, "replenish.per_sku is an object")
        return cls(
            _whole(d, "weeks", 4, 1, 52, "replenish."),
            _whole(d, "lead_days", 7, 0, MAX_DAYS, "replenish."),
            _whole(d, "safety_days", 3, 0, MAX_DAYS, "replenish."),
            {str(sku): SkuRule.from_dict(str(sku), v) for sku, v in per.items()},
        )


@dataclass(frozen=True, slots=True)
class Suggestion:
    sku: str
    name: str
    supplier: str
    sold: int  # net units over the window
    days: int
    velocity: Fraction  # units per day
    on_hand: int
    on_order: int
    min: int
    max: int
    pack: int
    suggest: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "supplier": self.supplier,
            "sold": self.sold,
            "days": self.days,
            # per day, two decimals for people (the order itself is decided exactly)
            "velocity": str(
                (Decimal(self.velocity.numerator) / self.velocity.denominator).quantize(CENT)
            ),
            "on_hand": self.on_hand,
            "on_order": self.on_order,
            "min": self.min,
            "max": self.max,
            "pack": self.pack,
            "suggest": self.suggest,
        }


def _ceil_to(x: Fraction, pack: int) -> int:
    return math.ceil(x / pack) * pack


def suggest_qty(
    velocity: Fraction, rule: SkuRule, lead_days: int, safety_days: int, on_hand: int, on_order: int
) -> int:
    """The order quantity of one product (the module's formula)."""
    need = velocity * (lead_days + safety_days) + rule.min - on_hand - on_order
    qty = max(0, _ceil_to(need, rule.pack))
    if rule.max:
        room = rule.max - on_hand - on_order
        qty = min(qty, max(0, (room // rule.pack) * rule.pack))
    return qty


def low_threshold(rule: SkuRule, product_low_stock: int) -> int:
    """The level at or under which a product is low: its ``min`` or the product's own
    ``low_stock``, whichever is higher (0: no threshold)."""
    return max(rule.min, product_low_stock, 0)


def suggestions(
    rules: ReplenishRules,
    sold: Mapping[str, int],
    levels: Mapping[str, int],
    on_order: Mapping[str, int],
    names: Mapping[str, str] | None = None,
    only_positive: bool = True,
) -> list[Suggestion]:
    """The suggestion of every product sold in the window or configured in ``per_sku``, sorted
    by supplier then SKU; with ``only_positive`` only those with something to order."""
    names = names or {}
    out = []
    for sku in sorted(set(sold) | set(rules.per_sku)):
        rule = rules.rule(sku)
        units = max(0, sold.get(sku, 0))  # more refunded than sold in the window: no demand
        velocity = Fraction(units, rules.days)
        on_hand, pending = levels.get(sku, 0), max(0, on_order.get(sku, 0))
        qty = suggest_qty(velocity, rule, rules.lead_days, rules.safety_days, on_hand, pending)
        if qty <= 0 and only_positive:
            continue
        out.append(
            Suggestion(
                sku,
                names.get(sku, ""),
                rule.supplier,
                units,
                rules.days,
                velocity,
                on_hand,
                pending,
                rule.min,
                rule.max,
                rule.pack,
                qty,
            )  # fmt: skip
        )
    return sorted(out, key=lambda s: (s.supplier, s.sku))
