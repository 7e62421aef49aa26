"""The tier discount applied (``domain.member_discount``): a till names the member on the basket,
the basket is priced with their tier's discount, and the ledger's book takes only the discount of
the tier it computes itself — exactly at the tier's boundary, never one the till invents — and a
refund gives back the discounted price of what comes back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.basket import Basket, Line, apply_basket, price_basket
from domain.book_records import decide_refund
from domain.errors import KassaError
from domain.events import OrderCompleted, Payment
from domain.member_discount import BasketMemberNamed, member_discount
from domain.till_commands import parse_till_command
from domain.till_handlers import Counter, decide_till_command
from tests.kits.loyaltykit import Shop, gold
from tests.unit.conftest import make_config

CONFIG = make_config()


def line(i: int, price: int, qty: int = 1, rate_bp: int = 700) -> Line:
    return Line(f"L{i}", f"SKU{i}", {"en": f"Item {i}"}, "food", "each", qty, price, "std", rate_bp)


def till(basket: Basket, op: str, args: dict[str, Any]) -> Any:
    at = Counter("T1", basket, {basket.basket_id: basket}, CONFIG, None, 10_000)  # type: ignore[arg-type]
    return decide_till_command(parse_till_command(op, args), at)


def name_and_pay(shop: Shop, basket: Basket, tier: str, bp: int) -> OrderCompleted:
    """The till names m1 with (tier, bp) — committed through the book — then pays by card."""
    named = shop.commit(till(basket, "member", {"member": "m1", "tier": tier, "discount_bp": bp}))
    basket = apply_basket(basket, named)
    total = price_basket(basket, CONFIG.prices_include_tax).total
    card = {"kind": "card", "amount": total, "reference": "r1", "last4": "4242"}
    return till(basket, "pay", {"tenders": [card]})


@pytest.mark.parametrize("spent, discounted", [(9_999, False), (10_000, True)])
def test_the_tier_discount_starts_exactly_at_the_tier_boundary(spent: int, discounted: bool):
    """Gold (5 % off) from 100.00 spent in 30 days: at 99.99 the ledger refuses a till that
    applies Gold's discount; at 100.00 exactly it takes it, and the order carries it."""
    shop = Shop(gold(10_000))
    shop.sell("o1", spent)
    shop.days(1)
    basket = Basket("B2", "T1", (line(1, 4_000, 2), line(2, 2_000)))  # 100.00 eligible
    if not discounted:
        with pytest.raises(KassaError) as e:
            name_and_pay(shop, basket, "Gold", 500)
        assert e.value.code == "tier.discount_changed"
        assert e.value.details["discount_bp"] == 0
        return
    o = shop.commit(name_and_pay(shop, basket, "Gold", 500))
    assert (o.member, o.tier, o.member_discount_bp, o.member_discount) == ("m1", "Gold", 500, 500)
    assert o.total == 9_500 and o.discount == 500
    assert [ln.total for ln in o.lines] == [7_600, 1_900]  # the discount split pro rata


def test_a_till_cannot_invent_or_inflate_a_discount():
    shop = Shop(gold(10_000))
    shop.sell("o1", 10_000)
    basket = Basket("B2", "T1", (line(1, 10_000),))
    with pytest.raises(KassaError) as e:  # Gold is 5 %, not 9 %
        name_and_pay(shop, basket, "Gold", 900)
    assert e.value.code == "tier.discount_changed"
    o = name_and_pay(shop, basket, "Gold", 500)
    # an order whose discount amount is not the tier's share of its lines is refused too
    fat = replace(o, member_discount=o.member_discount + 2)
    with pytest.raises(KassaError) as e:
        shop.commit(fat)
    assert e.value.code == "tier.bad_discount"
    stranger = replace(o, member="m2")  # another member's order cannot carry m1's tier
    with pytest.raises(KassaError) as e:
        shop.commit(stranger)
    assert e.value.code == "tier.discount_changed"
    assert shop.commit(o).member_discount == 500


def test_a_refund_gives_back_the_discounted_price_and_reverses_the_discount_in_proportion():
    shop = Shop(gold(10_000))
    shop.sell("o1", 10_000)
    basket = Basket("B2", "T1", (line(1, 3_000), line(2, 7_000)))
    o = shop.commit(name_and_pay(shop, basket, "Gold", 500))
    assert o.total == 9_500
    refund = shop.commit(decide_refund(shop.book.order("B2"), "r1", {"L1": 1}))
    assert refund.amount == 2_850  # 30.00 less its 5 %: the customer gets back what they paid
    assert [t.amount for t in refund.tenders] == [2_850]
    # what the refunded share of the order kept of the member discount: 150 of the 500
    assert 3_000 - refund.amount == o.member_discount * refund.amount // o.total


def test_naming_no_member_or_a_member_without_tier_is_no_discount():
    shop = Shop(gold(10_000))
    basket = Basket("B2", "T1", (line(1, 10_000),))
    o = shop.commit(name_and_pay(shop, basket, "", 0))  # m1 has no tier yet
    assert (o.member, o.member_discount, o.total) == ("m1", 0, 10_000)
    assert o.discount == 0


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.integers(1, 500_000), min_size=1, max_size=6),
    bp=st.integers(0, 9_000),
    order_bp=st.integers(0, 5_000),
)
def test_the_basket_and_the_ledger_agree_on_every_discount(
    prices: list[int], bp: int, order_bp: int
):
    """Any basket, any cashier's order discount, any tier: the till's pricing gives exactly
    floor(eligible × bp / 10000) off, the lines' totals never go below zero, and the ledger's own
    check accepts that order and refuses a bigger one (the ledger sees the lines after every
    discount, so a claim is bounded by its rounding step: 10 minor units more up to 90 %)."""
    b = Basket("B", "T1", tuple(line(i, p) for i, p in enumerate(prices)), "pct", order_bp)
    plain = price_basket(b, True)
    named = apply_basket(b, BasketMemberNamed("B", "m1", "Gold", bp))
    p = price_basket(named, True)
    assert p.member_discount == member_discount(plain.total, bp)
    assert p.total == plain.total - p.member_discount
    assert all(ln.total >= 0 for ln in p.lines)
    from domain.member_discount import check_order

    o = OrderCompleted(
        "B", "", "THB", True, p.lines, p.subtotal, p.discount, p.tax, p.total, 0,
        (Payment("card", p.total),), member="m1", member_discount=p.member_discount,
        member_discount_bp=bp, tier="Gold" if bp else "",
    )  # fmt: skip
    rules = gold(0)  # everyone is Gold
    rules = replace(rules, tiers=(replace(rules.tiers[0], discount_bp=bp),))
    check_order(o, {}, rules, 1)
    if bp:
        with pytest.raises(KassaError):
            check_order(replace(o, member_discount=o.member_discount + 10), {}, rules, 1)
