"""Batch price edits at the store: the rule (set a price, or change it by a percentage or an
amount), the rounding (to whole units, halves, a last digit 9, or .99), the bounds, and who owns a
product's price. Pure: integer minor units, no floats, no I/O.

A plan is computed row by row: ``new = round(change(old))``. A row is *refused* (the whole batch
then is: all or nothing) when its new price would be below zero, zero for a product that had a
price, or above the store's ``max_unit_price``; a row whose price stays the same is *unchanged*.

Ownership (``store_owns_price``): a product HQ does not send is the store's own; one HQ sends is
the store's to price only when HQ's bundle lists ``price`` in ``store_fields`` (a franchisee).
Otherwise HQ's next catalogue would bring HQ's price back (``domain.catalogue_merge``), so the
store refuses the change and says to change it at HQ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from domain.error_codes.batch15b import PriceBatch
from domain.errors import InvalidInput

__all__ = [
    "KINDS",
    "ROUNDINGS",
    "MAX_ROWS",
    "MAX_PERCENT_BP",
    "Change",
    "PriceRow",
    "Plan",
    "check_change",
    "changed_price",
    "rounded",
    "plan",
    "store_owns_price",
]

Kind = Literal["set", "percent", "amount"]
Rounding = Literal["none", "unit", "half", "x9", "99"]
KINDS: tuple[str, ...] = ("set", "percent", "amount")
ROUNDINGS: tuple[str, ...] = ("none", "unit", "half", "x9", "99")
MAX_ROWS = 1000  # products in one batch
MAX_PERCENT_BP = 100_000  # +1000 % at most; at least -99.99 % (a price never goes to nothing)


@dataclass(frozen=True, slots=True)
class Change:
    """``set``: the new price (minor units); ``percent``: basis points (+1000 = +10 %);
    ``amount``: minor units added (negative: taken off)."""

    kind: Kind
    value: int
    rounding: Rounding = "none"


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(PriceBatch.BAD_CHANGE, f"{what} is a whole number", field=what)
    return value


def check_change(d: object, max_price: int) -> Change:
    """The change a request describes (``{kind, value, rounding}``), within bounds."""
    if not isinstance(d, Mapping):
        raise InvalidInput(PriceBatch.BAD_CHANGE, "give the change as {kind, value, rounding}")
    kind, rounding = d.get("kind"), d.get("rounding", "none")
    if kind not in KINDS:
        raise InvalidInput(PriceBatch.BAD_CHANGE, f"kind is one of {', '.join(KINDS)}")
    if rounding not in ROUNDINGS:
        raise InvalidInput(PriceBatch.BAD_CHANGE, f"rounding is one of {', '.join(ROUNDINGS)}")
    value = _int(d.get("value"), "value")
    if kind == "set" and not 0 <= value <= max_price:
        raise InvalidInput(PriceBatch.BAD_CHANGE, "a new price is from zero to the store's maximum")
    if kind == "percent" and not -10_000 < value <= MAX_PERCENT_BP:
        raise InvalidInput(PriceBatch.BAD_CHANGE, "a percentage is above -100 % and up to +1000 %")
    if kind == "amount" and (value == 0 or abs(value) > max_price):
        raise InvalidInput(PriceBatch.BAD_CHANGE, "an amount changes the price, within the maximum")
    return Change(kind, value, rounding)


def changed_price(old: int, change: Change) -> int:
    """``old`` after the change, before rounding (a percentage rounded half up to a minor unit)."""
    if change.kind == "set":
        return change.value
    if change.kind == "amount":
        return old + change.value
    return (old * (10_000 + change.value) + 5_000) // 10_000  # old ≥ 0, factor > 0: half up


def _nearest(price: int, step: int, rest: int) -> int:
    """The nearest value ≡ ``rest`` (mod ``step``) not below zero (a tie goes up)."""
    below = price - ((price - rest) % step)
    above = below + step
    if below < 0 or above - price <= price - below:
        return above
    return below


def rounded(price: int, rounding: Rounding, unit: int) -> int:
    """``price`` rounded for shelf labels to the nearest price with that ending (never below zero;
    zero stays zero); ``unit``: minor units in one major (100 for THB, 1 for JPY). Rounding that
    needs a finer unit than the currency has leaves the price as it is."""
    if price <= 0 or rounding == "none":  # a free product stays free
        return price
    if rounding == "unit":
        return _nearest(price, unit, 0) if unit > 1 else price
    if rounding == "half":
        return _nearest(price, unit // 2, 0) if unit >= 2 and unit % 2 == 0 else price
    if rounding == "x9":
        return _nearest(price, 10, 9) if unit >= 10 else price
    return _nearest(price, unit, unit - 1) if unit > 1 else price  # "99": .99


@dataclass(frozen=True, slots=True)
class PriceRow:
    sku: str
    name: str
    old: int
    new: int
    store_owned: bool = True
    problem: str = ""  # why the row is refused ("" when it is not)

    @property
    def changes(self) -> bool:
        return self.new != self.old and not self.problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "old": self.old,
            "new": self.new,
            "owner": "store" if self.store_owned else "hq",
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    rows: tuple[PriceRow, ...]
    change: Change

    @property
    def hq_owned(self) -> list[str]:
        return [r.sku for r in self.rows if not r.store_owned]

    @property
    def refused(self) -> list[PriceRow]:
        return [r for r in self.rows if r.problem]

    @property
    def changing(self) -> list[PriceRow]:
        return [r for r in self.rows if r.changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "changed": len(self.changing),
            "unchanged": sum(r.new == r.old and not r.problem for r in self.rows),
            "refused": len(self.refused),
            "hq_owned": len(self.hq_owned),
        }


def _problem(old: int, new: int, max_price: int) -> str:
    if new < 0:
        return "below_zero"
    if new == 0 and old > 0:
        return "zero"
    if new > max_price:
        return "too_large"
    return ""


def plan(
    products: Iterable[Mapping[str, Any]],
    change: Change,
    unit: int,
    max_price: int,
    owned: Iterable[str] | None = None,
    lang: str = "en",
) -> Plan:
    """Each product's old and new price (``products``: dicts with sku, price, names); ``owned``:
    the SKUs whose price the store owns (None: all). A SKU named twice counts once."""
    mine = None if owned is None else set(owned)
    rows: dict[str, PriceRow] = {}
    for p in products:
        sku, old = str(p["sku"]), _int(p.get("price"), "price")
        names = p.get("names") or {}
        name = str(names.get(lang) or names.get("en") or sku) if isinstance(names, dict) else sku
        new = rounded(changed_price(old, change), change.rounding, unit)
        store = mine is None or sku in mine
        problem = _problem(old, new, max_price) if new != old else ""
        if not store:
            problem = "hq_owned"
        rows.setdefault(sku, PriceRow(sku, name, old, new, store, problem))
    if len(rows) > MAX_ROWS:
        raise InvalidInput(PriceBatch.TOO_MANY, f"change at most {MAX_ROWS} products at once")
    return Plan(tuple(rows.values()), change)


def store_owns_price(
    skus: Iterable[str], hq_version: int | None, hq_skus: set[str], store_fields: Iterable[str]
) -> set[str]:
    """The SKUs of ``skus`` whose price is the store's: all when the store runs no HQ catalogue
    or HQ lets stores own ``price``; else the products HQ does not send (the store's own)."""
    if hq_version is None or "price" in set(store_fields):
        return set(skus)
    return {s for s in skus if s not in hq_skus}
