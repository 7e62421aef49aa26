"""The chain rule for HQ's coupons (``domain.coupon_chain``): each store may use an HQ coupon
its offline quota times plus the uses HQ granted it online from its pool, so whatever the stores
do, online or cut off, in any order, the coupon is used at most as many times as HQ issued it;
and while a store may still use it (its quota, or HQ's pool online) a sale is not refused.
Driven through the real book (``domain.book`` with its loyalty part), as the ledger drives it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.coupon_chain import CouponRevoked, CouponUseGranted, may_claim, pool_of, quota_fits
from domain.errors import KassaError
from domain.loyalty import CouponIssued
from tests.kits.loyaltykit import Shop, coupon

CODE = "HQCOUPON1"


class HqModel:
    """HQ's side of the rule as ``cloud.coupons_db`` keeps it: N uses, k stores, quota q."""

    def __init__(self, uses: int, stores: int, quota: int) -> None:
        assert quota_fits(uses, stores, quota)
        self.uses, self.stores, self.quota, self.claimed = uses, stores, quota, 0

    def claim(self) -> bool:
        if may_claim(self.uses, self.stores, self.quota, self.claimed):
            self.claimed += 1
            return True
        return False


def hq_coupon(quota: int) -> CouponIssued:
    return CouponIssued(CODE, "amount", 100, uses=quota, issued_by="hq")


@st.composite
def chains(draw):
    stores = draw(st.integers(1, 4))
    uses = draw(st.integers(1, 12))
    quota = draw(st.integers(0, uses // stores))
    ops = draw(st.lists(st.tuples(st.integers(0, stores - 1), st.booleans()), max_size=40))
    return uses, stores, quota, ops


@settings(max_examples=300, deadline=None)
@given(chains())
def test_an_hq_coupon_is_never_used_more_than_issued_online_or_offline(chain):
    uses, stores, quota, ops = chain
    hq = HqModel(uses, stores, quota)
    shops = [Shop() for _ in range(stores)]
    for shop in shops:
        shop.commit(hq_coupon(quota))
    used = [0] * stores
    for i, (s, online) in enumerate(ops):
        shop = shops[s]
        held = shop.book.loyalty.coupons[CODE]
        could = held.used < held.coupon.uses or (
            online and hq.claimed < pool_of(uses, stores, quota)
        )
        if online and hq.claim():  # the gateway's claim before the pay
            shop.commit(CouponUseGranted(CODE, f"claim-{i}"))
        try:
            shop.sell(f"o{i}", 1_000, coupon(CODE, 100))
            used[s] += 1
        except KassaError as exc:
            assert exc.code == "coupon.used_up"
            assert not could, "refused while the store could still use the coupon"
        assert sum(used) <= uses  # the rule: never over-used chain-wide
        assert used[s] <= shop.book.loyalty.coupons[CODE].coupon.uses  # its quota + grants


def test_all_online_one_store_uses_the_pool_then_its_quota_not_the_others():
    hq = HqModel(uses=5, stores=2, quota=1)  # pool 3, a quota of 1 each
    a, b = Shop(), Shop()
    for shop in (a, b):
        shop.commit(hq_coupon(1))
    for i in range(4):
        if hq.claim():
            a.commit(CouponUseGranted(CODE, f"c{i}"))
        a.sell(f"a{i}", 1_000, coupon(CODE, 100))
    assert not hq.claim()  # the pool is empty
    with pytest.raises(KassaError) as refused:
        a.sell("a9", 1_000, coupon(CODE, 100))
    assert refused.value.code == "coupon.used_up"
    b.sell("b1", 1_000, coupon(CODE, 100))  # B's quota, offline or not


def test_a_revoked_coupon_is_refused_from_then_on_and_a_store_coupon_is_not_hqs():
    shop = Shop()
    shop.commit(hq_coupon(3))
    shop.sell("o1", 1_000, coupon(CODE, 100))
    shop.days(1)
    shop.commit(CouponRevoked(CODE))
    shop.days(0.001)
    with pytest.raises(KassaError) as refused:
        shop.sell("o2", 1_000, coupon(CODE, 100))
    assert refused.value.code == "coupon.not_valid_now"
    shop.coupon("OWN01", uses=1)
    for body in (CouponUseGranted("OWN01", "c1"), CouponRevoked("OWN01")):
        with pytest.raises(KassaError) as not_hq:
            shop.commit(body)
        assert not_hq.value.code == "coupon.not_hq"
    with pytest.raises(KassaError):
        shop.coupon("OWN02", uses=0)  # a store's coupon has a use; an HQ quota may be 0
    shop.commit(CouponIssued("HQZERO", "amount", 100, uses=0, issued_by="hq"))
