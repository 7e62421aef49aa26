"""Batch price edits (``domain.price_batch``): a new price is never negative and never above the
store's maximum (such a row is refused, so the batch is), rounding lands on the chosen ending
and moves the price by at most half a step, a percentage is exact integer arithmetic, and who
owns a price follows HQ's ``store_fields``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.price_batch import (
    Change,
    changed_price,
    check_change,
    plan,
    rounded,
    store_owns_price,
)

MAX = 1_000_000_000
prices = st.integers(0, MAX)
units = st.sampled_from([1, 100, 1000])
changes = st.one_of(
    st.builds(Change, st.just("set"), st.integers(0, MAX), st.sampled_from(["none", "x9"])),
    st.builds(Change, st.just("percent"), st.integers(-9_999, 100_000)),
    st.builds(Change, st.just("amount"), st.integers(-MAX, MAX).filter(bool)),
)
roundings = st.sampled_from(["none", "unit", "half", "x9", "99"])


def product(sku: str, price: int) -> dict:
    return {"sku": sku, "price": price, "names": {"en": f"P {sku}"}}


@given(prices, changes, roundings, units)
def test_a_new_price_is_never_negative_nor_above_the_maximum(old, change, rounding, unit):
    change = Change(change.kind, change.value, rounding)  # type: ignore[arg-type]
    row = plan([product("A", old)], change, unit, MAX).rows[0]
    if row.problem:
        assert row.new < 0 or row.new > MAX or (row.new == 0 and old > 0)
        assert not row.changes
    else:
        assert 0 <= row.new <= MAX
        assert row.changes == (row.new != old)


@given(st.integers(0, 10**12), roundings, units)
def test_rounding_lands_on_its_ending_within_half_a_step(price, rounding, unit):
    r = rounded(price, rounding, unit)
    step, rest = {
        "none": (1, 0),
        "unit": (unit, 0),
        "half": (max(unit // 2, 1), 0),
        "x9": (10, 9),
        "99": (unit, unit - 1),
    }[rounding]
    if price == 0 or step == 1 or (rounding == "x9" and unit < 10):
        assert r == price  # zero stays zero; no finer unit than the currency has
        return
    assert r >= 0 and r % step == rest
    if price >= rest + step:  # an ending on either side: the nearest (a tie goes up)
        assert abs(r - price) * 2 <= step
    else:  # the lowest price with that ending at or above it
        assert r == rest if price <= rest else r in (rest, rest + step)


def test_rounding_examples_in_satang():
    assert rounded(1234, "unit", 100) == 1200 and rounded(1250, "unit", 100) == 1300
    assert rounded(1226, "half", 100) == 1250 and rounded(1274, "half", 100) == 1250
    assert rounded(1234, "x9", 100) == 1239 and rounded(1233, "x9", 100) == 1229
    assert rounded(1234, "99", 100) == 1199 and rounded(1260, "99", 100) == 1299
    assert rounded(30, "99", 100) == 99  # never below zero
    assert rounded(1234, "unit", 1) == 1234  # yen: no finer unit


@given(prices, st.integers(-9_999, 100_000))
def test_a_percentage_is_exact_and_rounded_half_up(old, bp):
    new = changed_price(old, Change("percent", bp))
    exact = old * (10_000 + bp)
    assert new * 10_000 - exact <= 5_000 and exact - new * 10_000 < 5_000
    assert isinstance(new, int) and new >= 0


@given(prices, st.integers(-9_999, 100_000), st.integers(-9_999, 100_000))
def test_a_larger_percentage_never_gives_a_lower_price(old, a, b):
    lo, hi = sorted((a, b))
    assert changed_price(old, Change("percent", lo)) <= changed_price(old, Change("percent", hi))


def test_examples_of_a_plan():
    p = plan(
        [product("A", 1000), product("B", 250), product("C", 990), product("A", 1000)],
        Change("amount", -300, "none"),
        100,
        MAX,
    )
    rows = {r.sku: r for r in p.rows}
    assert len(p.rows) == 3  # a SKU named twice counts once
    assert (rows["A"].new, rows["A"].problem) == (700, "")
    assert rows["B"].problem == "below_zero" and rows["B"].sku in {r.sku for r in p.refused}
    assert p.to_dict()["changed"] == 2 and p.to_dict()["refused"] == 1
    ten = plan([product("A", 1999)], Change("percent", 1000, "x9"), 100, MAX)
    assert ten.rows[0].new == 2199  # 21.989 → 21.99 → .x9 → 21.99
    assert plan([product("A", 5)], Change("set", 0), 100, MAX).rows[0].problem == "zero"
    assert plan([product("A", 5)], Change("set", 5), 100, MAX).to_dict()["unchanged"] == 1


def test_a_change_is_checked():
    assert check_change({"kind": "percent", "value": -1000, "rounding": "x9"}, MAX) == Change(
        "percent", -1000, "x9"
    )
    for bad in (
        {"kind": "percent", "value": -10_000},  # -100 %: nothing left
        {"kind": "percent", "value": 1.5},  # no floats
        {"kind": "set", "value": MAX + 1},
        {"kind": "set", "value": -1},
        {"kind": "amount", "value": 0},
        {"kind": "double", "value": 2},
        {"kind": "set", "value": 100, "rounding": "x8"},
        {"kind": "set", "value": True},
        [1, 2],
    ):
        with pytest.raises(InvalidInput) as exc:
            check_change(bad, MAX)
        assert exc.value.code == "prices.bad_change", bad


def test_hq_owned_prices_follow_store_fields():
    skus = ["HQ1", "HQ2", "MINE"]
    hq = {"HQ1", "HQ2"}
    assert store_owns_price(skus, None, hq, []) == set(skus)  # no HQ catalogue: all the store's
    assert store_owns_price(skus, 7, hq, ["favourite", "low_stock"]) == {"MINE"}
    assert store_owns_price(skus, 7, hq, ["favourite", "price"]) == set(skus)  # a franchisee
    p = plan([product(s, 100) for s in skus], Change("set", 120), 100, MAX, {"MINE"})
    assert p.hq_owned == ["HQ1", "HQ2"] and [r.sku for r in p.changing] == ["MINE"]
