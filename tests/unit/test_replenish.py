"""Replenishment suggestions (``domain.replenish``) equal a hand computation; the low-stock alert
(``domain.alerts_stock``) and the mail settings (``domain.mail``) are checked.

The formula, per product::

    velocity = net units sold over weeks × 7 days / (weeks × 7)
    need     = velocity × (lead_days + safety_days) + min − on_hand − on_order
    suggest  = clamp(ceil_to_pack(need), 0, floor_to_pack(max − on_hand − on_order))
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from domain.alerts_stock import LowItem, items_of, low_items, stock_alert
from domain.errors import InvalidInput
from domain.mail import SmtpSettings, compose
from domain.replenish import ReplenishRules, SkuRule, suggest_qty, suggestions
from domain.store import StoreConfig

RULES = ReplenishRules.from_dict(
    {
        "weeks": 2,
        "lead_days": 5,
        "safety_days": 2,
        "per_sku": {
            "A": {"min": 4, "pack": 6, "supplier": "ACME"},
            "B": {"max": 3},
            "C": {"min": 2, "max": 10, "pack": 4},
            "D": {"min": 10, "max": 20, "pack": 12, "supplier": "BETA"},
        },
    }
)
SOLD = {"A": 28, "B": 10, "C": 7, "E": -2, "F": 14}  # net of refunds, over 14 days
LEVELS = {"A": 5, "B": 1, "C": 0, "D": -3, "E": 4, "F": 3}
ON_ORDER = {"B": 2, "F": 4}


def test_suggestions_equal_the_hand_computation() -> None:
    """Window 2 weeks = 14 days; cover = lead 5 + safety 2 = 7 days.

    A: 28 / 14 = 2 a day; 2 × 7 + min 4 − on hand 5 − 0 = 13 → packs of 6: 18; no max → 18.
    B: 10 / 14 = 5/7 a day; 5/7 × 7 = 5; 5 + 0 − 1 − 2 = 2; max 3 − 1 − 2 = 0 left → 0.
    C: 7 / 14 = 1/2 a day; 3.5 + 2 − 0 − 0 = 5.5 → packs of 4: 8; room 10 − 0 − 0 = 10,
       whole packs 8 → 8.
    D: not sold; 0 + 10 − (−3) − 0 = 13 → packs of 12: 24; room 20 + 3 = 23 → one pack 12 → 12.
    E: more refunded than sold: no demand; 0 + 0 − 4 < 0 → 0.
    F: 14 / 14 = 1 a day; 7 + 0 − 3 − 4 = 0 → 0.
    Sorted by supplier then SKU: C (none), A (ACME), D (BETA).
    """
    got = suggestions(RULES, SOLD, LEVELS, ON_ORDER, names={"A": "Apples"})
    assert [(s.sku, s.suggest) for s in got] == [("C", 8), ("A", 18), ("D", 12)]
    a = got[1]
    assert (a.name, a.supplier, a.sold, a.days, a.velocity) == ("Apples", "ACME", 28, 14, 2)
    assert (a.to_dict()["velocity"], got[0].to_dict()["velocity"]) == ("2.00", "0.50")
    every = {s.sku: s.suggest for s in suggestions(RULES, SOLD, LEVELS, ON_ORDER,
                                                     only_positive=False)}  # fmt: skip
    assert every == {"A": 18, "B": 0, "C": 8, "D": 12, "E": 0, "F": 0}


def test_exact_arithmetic_never_rounds_a_float() -> None:
    # 1/3 a day over 3 days = exactly 1: no 1.0000000002 rounding up to a second pack
    assert suggest_qty(Fraction(1, 3), SkuRule(pack=1), 2, 1, 0, 0) == 1
    assert suggest_qty(Fraction(1, 3), SkuRule(pack=2), 2, 1, 0, 0) == 2
    assert suggest_qty(Fraction(0), SkuRule(min=1), 0, 0, 0, 0) == 1
    assert suggest_qty(Fraction(0), SkuRule(min=1), 0, 0, 1, 0) == 0  # at min: nothing


@pytest.mark.parametrize(
    "bad",
    [
        {"weeks": 0},
        {"weeks": 1.5},
        {"lead_days": -1},
        {"nope": 1},
        {"per_sku": {"A": {"pack": 0}}},
        {"per_sku": {"A": {"min": 5, "max": 2}}},
        {"per_sku": {"A": {"colour": "red"}}},
        {"per_sku": {"A": []}},
        [],
    ],
)
def test_bad_settings_are_refused_at_load(bad: object) -> None:
    with pytest.raises(InvalidInput) as e:
        ReplenishRules.from_dict(bad)
    assert e.value.code == "replenish.bad_setting"
    if isinstance(bad, dict):
        with pytest.raises(InvalidInput):
            StoreConfig(replenish=bad)


def test_low_stock_is_at_or_under_the_higher_threshold() -> None:
    levels = {"A": 4, "B": 5, "C": -1, "D": 9}
    thresholds = {"A": 4, "B": 4, "C": 2, "D": 0, "E": 1}  # E never seen: level 0
    items = low_items(levels, thresholds, {"C": "Cola"})
    # most urgent first: C (−1 vs 2: −3), E (0 vs 1: −1), A (4 vs 4: 0)
    assert [(i.sku, i.level, i.threshold) for i in items] == [
        ("C", -1, 2), ("E", 0, 1), ("A", 4, 4)
    ]  # fmt: skip
    alert = stock_alert(items)
    assert alert is not None and alert.code == "stock.low"
    assert alert.values["count"] == 3
    assert items_of(alert.values)[0] == {"sku": "C", "name": "Cola", "level": -1, "min": 2}
    assert len(items_of(alert.values)) == 3
    # HQ keeps only flat values (cloud.hqhealth.check_report)
    assert all(isinstance(v, (int, str)) for v in alert.values.values())
    assert "Cola (-1/2)" in alert.message
    assert stock_alert([]) is None


def test_mail_settings() -> None:
    assert not SmtpSettings.from_dict({}).enabled
    s = SmtpSettings.from_dict(
        {"host": "127.0.0.1", "port": 2525, "from": "kassa@shop.test", "to": "boss@shop.test"}
    )
    assert s.enabled and s.to == ("boss@shop.test",) and s.sender == "kassa@shop.test"
    for bad in ({"host": "h"}, {"port": 0}, {"to": ["nobody"]}, {"host": "a\nb"}, {"x": 1}):
        with pytest.raises(InvalidInput):
            StoreConfig(smtp=bad)
    subject, body = compose("S1", "Shop", {"stock.low:A": "Apples low"}, {"disk.low": "disk"})
    assert subject == "[kassa S1] alerts: 1 new, 1 cleared"
    assert "New alerts:\n  - Apples low" in body and "Cleared:\n  - disk" in body


def test_the_reorder_tab_makes_one_order_per_supplier_and_says_the_alert_in_words() -> None:
    from kiosk.screens.manager_replenish import low_stock_detail, orders_of

    rows = [s.to_dict() for s in suggestions(RULES, SOLD, LEVELS, ON_ORDER)]
    assert orders_of(rows) == {
        "": [{"sku": "C", "qty": 8, "unit_cost": 0}],
        "ACME": [{"sku": "A", "qty": 18, "unit_cost": 0}],
        "BETA": [{"sku": "D", "qty": 12, "unit_cost": 0}],
    }
    items = [LowItem(f"S{n}", n, 10, f"Item {n}") for n in range(7)]
    alert = stock_alert(items)
    assert alert is not None
    text = low_stock_detail(alert.values)
    assert text.startswith("Item 0: 0 left, minimum 10; Item 1: 1 left")
    assert "Item 4: 4 left" in text and "Item 5" not in text and "and 2 more." in text
