"""Money: integer minor units, Babel precision and formatting, rounding, tax, cash rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.money import (
    Money,
    TaxClass,
    div_round,
    format_money,
    precision,
    round_cash,
    split_pro_rata,
    tax_of_line,
    to_minor,
)


@pytest.mark.parametrize(
    "currency, digits", [("JPY", 0), ("CNY", 2), ("THB", 2), ("KWD", 3), ("jpy", 0)]
)
def test_precision_comes_from_babel(currency, digits):
    assert precision(currency) == digits


@pytest.mark.parametrize(
    "text, currency, minor",
    [
        ("12.50", "THB", 1250),
        ("12.5", "CNY", 1250),
        ("1234", "JPY", 1234),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("1,234.56", "CNY", 123456),
        (" 7 ", "THB", 700),
        ("-3.25", "THB", -325),
        (Decimal("9.99"), "THB", 999),
        (5, "THB", 500),
        (5, "JPY", 5),
        (5, "KWD", 5000),
    ],
)
def test_to_minor_parses_human_amounts(text, currency, minor):
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(
    "text, currency", [("12.345", "THB"), ("1.5", "JPY"), ("0.0001", "KWD"), ("12.501", "CNY")]
)
def test_to_minor_refuses_more_decimals_than_the_currency_has(text, currency):
    with pytest.raises(InvalidInput) as exc:
        to_minor(text, currency)
    assert exc.value.code == "money.too_precise"


@pytest.mark.parametrize("value", [12.5, 0.1, 1.0])
def test_to_minor_refuses_floats(value):
    with pytest.raises(InvalidInput) as exc:
        to_minor(value, "THB")
    assert exc.value.code == "money.float_refused"


@pytest.mark.parametrize("text", ["abc", "", "NaN", "Infinity", "12.5.0", True])
def test_to_minor_refuses_non_amounts(text):
    with pytest.raises(InvalidInput) as exc:
        to_minor(text, "THB")
    assert exc.value.code == "money.bad_amount"


@pytest.mark.parametrize("amount", [12.5, Decimal("1"), "100", True, None])
def test_money_amount_must_be_an_integer(amount):
    with pytest.raises(InvalidInput):
        Money(amount, "THB")


def test_money_arithmetic_keeps_currency_and_refuses_mixing():
    a, b = Money(1250, "thb"), Money(75, "THB")
    assert a.currency == "THB"
    assert (a + b) == Money(1325, "THB")
    assert (a - b) == Money(1175, "THB")
    assert -a == Money(-1250, "THB")
    assert Money(1234, "KWD").to_decimal() == Decimal("1.234")
    with pytest.raises(InvalidInput) as exc:
        a + Money(1, "JPY")
    assert exc.value.code == "money.currency_mismatch"
    with pytest.raises(InvalidInput):
        Money(1, "BAHT")


@pytest.mark.parametrize(
    "amount, currency, locale, expected",
    [
        (123456, "CNY", "zh_CN", "¥1,234.56"),
        (1235, "JPY", "ja_JP", "￥1,235"),
        (1250, "THB", "th_TH", "฿12.50"),
        (123456, "EUR", "de_DE", "1.234,56\xa0€"),
        (1, "KWD", "en", "KWD0.001"),
    ],
)
def test_format_money_per_locale(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_format_money_uses_currency_precision():
    # the same minor units mean different amounts in different currencies
    assert "12,345" in format_money(12345, "JPY", "en")
    assert "123.45" in format_money(12345, "THB", "en")
    assert "12.345" in format_money(12345, "KWD", "en")
    assert Money(12345, "KWD").format("en") == format_money(12345, "KWD", "en")
    with pytest.raises(InvalidInput):
        format_money(12.5, "THB")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "num, den, expected",
    [
        (5, 2, 3),
        (-5, 2, -3),
        (7, 2, 4),
        (-7, 2, -4),
        (4, 3, 1),
        (5, 3, 2),
        (-4, 3, -1),
        (-5, 3, -2),
        (1, 2, 1),
        (-1, 2, -1),
        (0, 7, 0),
        (5, -2, -3),
        (-5, -2, 3),
        (10, 5, 2),
    ],
)
def test_div_round_is_half_away_from_zero(num, den, expected):
    assert div_round(num, den) == expected


@given(st.integers(-(10**15), 10**15), st.integers(-(10**6), 10**6).filter(bool))
def test_div_round_matches_exact_rational_rounding(num, den):
    exact = Fraction(num, den)
    got = div_round(num, den)
    assert abs(Fraction(got) - exact) <= Fraction(1, 2)
    if abs(Fraction(got) - exact) == Fraction(1, 2):  # a tie goes away from zero
        assert abs(got) > abs(exact)


def test_div_round_by_zero():
    with pytest.raises(ZeroDivisionError):
        div_round(1, 0)


def test_tax_inclusive_is_carved_out_of_the_price():
    # 107.00 incl. 7 % VAT = 100.00 net + 7.00 tax; the customer pays the shelf price
    assert tax_of_line(10700, 700, True) == (700, 10700)
    # 45.00 incl. 7 %: net 42.056 -> 42.06, tax 2.94
    assert tax_of_line(4500, 700, True) == (294, 4500)
    assert tax_of_line(4500, 0, True) == (0, 4500)


def test_tax_exclusive_is_added_on_top():
    assert tax_of_line(10000, 700, False) == (700, 10700)
    # 0.50 at 7 % = 0.035 -> 0.04 (half away from zero)
    assert tax_of_line(50, 700, False) == (4, 54)
    assert tax_of_line(49, 700, False) == (3, 52)
    # a negative basis (never on a sale, but must round symmetrically)
    assert tax_of_line(-50, 700, False) == (-4, -54)


@given(st.integers(0, 10**10), st.integers(0, 10000), st.booleans())
def test_tax_per_line_is_the_rounded_exact_tax(amount, rate_bp, inclusive):
    tax, total = tax_of_line(amount, rate_bp, inclusive)
    if inclusive:
        assert total == amount
        exact = Fraction(amount * rate_bp, 10000 + rate_bp)
    else:
        assert total == amount + tax
        exact = Fraction(amount * rate_bp, 10000)
    assert abs(Fraction(tax) - exact) <= Fraction(1, 2)
    assert 0 <= tax <= total


def test_tax_class_rate_bounds():
    assert TaxClass("std", 700).rate_bp == 700
    for bad in (-1, 10001):
        with pytest.raises(InvalidInput):
            TaxClass("x", bad)
    with pytest.raises(InvalidInput):
        TaxClass("x", 7.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount, inc, expected",
    [
        (1012, 5, 1010),
        (1013, 5, 1015),
        (1010, 5, 1010),
        (1012, 25, 1000),
        (1013, 25, 1025),
        (1037, 25, 1025),
        (1038, 25, 1050),
        (18372, 25, 18375),
        (7, 1, 7),
        (7, 0, 7),
    ],
)
def test_cash_rounding_to_the_increment(amount, inc, expected):
    assert round_cash(amount, inc) == expected


@given(st.integers(0, 10**9), st.sampled_from([5, 10, 25, 50, 100]))
def test_cash_rounding_is_nearest_multiple(amount, inc):
    r = round_cash(amount, inc)
    assert r % inc == 0
    assert 2 * abs(r - amount) <= inc


def test_cash_rounding_refuses_float():
    with pytest.raises(InvalidInput):
        round_cash(10.0, 5)  # type: ignore[arg-type]


def test_split_pro_rata_examples():
    assert split_pro_rata(100, [1, 1, 1]) == [34, 33, 33]
    assert split_pro_rata(10, [3, 7]) == [3, 7]
    assert split_pro_rata(-100, [1, 1, 1]) == [-34, -33, -33]
    assert split_pro_rata(5, [0, 0]) == [5, 0]
    assert split_pro_rata(5, []) == []


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=12))
@settings(max_examples=200)
def test_split_pro_rata_sums_exactly_and_stays_proportional(total, weights):
    parts = split_pro_rata(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    wsum = sum(weights)
    if wsum:
        for p, w in zip(parts, weights, strict=True):
            # each part is within one minor unit of its exact share
            assert abs(Fraction(p) - Fraction(total * w, wsum)) < 1
            if w == 0:
                assert p == 0
