"""Hypothesis: points never go negative, a refund in parts undoes an order's points and coupon use
exactly, and a coupon is never used more often than issued, whatever the interleaving of
concurrent tills' commits (the ledger serialises them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actors.ledger import Ledger, Request, command_hash
from domain.commands import RefundOrder
from domain.errors import KassaError
from domain.events import MemberRegistered, Payment
from domain.loyalty import CouponIssued, LoyaltyRulesSet
from domain.ports import ManualClock
from tests.kits.loyaltykit import Shop, coupon, gold, order, points

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("sell"), st.integers(10, 50_000), st.integers(0, 60_000)),
        st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([None, 1, 3, 7])),
        st.tuples(st.just("days"), st.integers(1, 40), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops=_ops, threshold=st.integers(0, 30_000))
def test_points_never_go_negative(ops, threshold):
    shop = Shop(gold(threshold, days=30))
    sold: list[str] = []
    for i, (op, a, b) in enumerate(ops):
        try:
            if op == "sell":
                redeem = min(b, a)
                pays = (points("m1", redeem, -(-redeem // 10)),) if redeem else ()
                shop.sell(f"o{i}", a, *pays)
                sold.append(f"o{i}")
            elif op == "refund" and sold:
                shop.refund(sold[a % len(sold)], b)
            else:
                shop.days(a)
        except KassaError:
            pass  # refused (too few points, nothing left to refund): nothing changed
        assert all(v >= 0 for v in shop.points.values())


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 200_000),
    total=st.integers(10, 80_000),
    redeem_share=st.integers(0, 100),
    coupon_amount=st.integers(0, 500),
    parts=st.lists(st.integers(1, 10), min_size=1, max_size=6),
)
# found by CI: a part whose card room was used up left its last unit to no tender (the customer
# got 1 less and the point paid for it never came back)
@example(seed=100, total=10, redeem_share=12, coupon_amount=1, parts=[1, 1, 7])
def test_a_refund_in_parts_undoes_an_order_exactly(seed, total, redeem_share, coupon_amount, parts):
    shop = Shop(gold(10**9))
    shop.sell("seed", seed)
    shop.coupon("ONE", value=500)
    before = dict(shop.points)
    cpn = min(coupon_amount, total)
    redeem = min(before.get("m1", 0) * 10, (total - cpn) * redeem_share // 100)
    pays = ((coupon("ONE", cpn),) if cpn else ()) + (
        (points("m1", redeem, -(-redeem // 10)),) if redeem else ()
    )
    shop.sell("o1", total, *pays)
    left = 10
    for q in parts:
        if left == 0:
            break
        r = shop.refund("o1", min(q, left))
        assert sum(t.amount for t in r.tenders) == r.amount  # no cash: every unit goes back
        left -= min(q, left)
        assert shop.book.loyalty.coupons["ONE"].used == (1 if cpn and left else 0)
    if left:
        shop.refund("o1", None)
    assert shop.points.get("m1", 0) == before.get("m1", 0)
    assert shop.book.loyalty.coupons["ONE"].used == 0


def _req(cid: str, body, till: str = "") -> Request:
    return Request(cid, command_hash(cid, 0), body, "s1", till)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    uses=st.integers(1, 4),
    tills=st.integers(1, 6),
    tries=st.integers(1, 4),
    refund_at=st.lists(st.integers(0, 23), max_size=4),
    cuts=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    data=st.data(),
)
def test_a_coupon_is_never_used_more_than_issued_across_concurrent_tills(
    uses, tills, tries, refund_at, cuts, data
):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.sqlite"
        led = Ledger(path, clock=ManualClock())
        led.submit(_req("member-0001", MemberRegistered("m1", "M")))
        led.submit(_req("rules-00001", LoyaltyRulesSet(gold())))
        led.submit(_req("coupon-0001", CouponIssued("SHARED", "amount", 300, uses=uses)))
        paid = (coupon("SHARED", 300), Payment("card", 700, reference="r", last4="4242"))
        reqs = [
            _req(f"order-{t}-{k:03d}", order(f"b-{t}-{k}", 1_000, paid), f"T{t}")
            for t in range(tills)
            for k in range(tries)
        ]
        order_of = data.draw(st.permutations(range(len(reqs))))
        queue = [reqs[i] for i in order_of]
        accepted: list[str] = []
        refunded = ever = 0
        step = 0
        while queue:
            n = cuts[step % len(cuts)]
            batch, queue = queue[:n], queue[n:]
            if step in refund_at and accepted:  # a full refund in the same batch gives a use back
                oid = accepted.pop(0)
                batch.append(_req(f"refund-{oid}", RefundOrder(oid, f"r-{oid}")))
            for r, out in zip(batch, led.submit_batch(batch), strict=True):
                if isinstance(r.body, RefundOrder):
                    refunded += not isinstance(out, KassaError)
                elif not isinstance(out, KassaError):
                    accepted.append(r.body.order_id)
                    ever += 1
                else:
                    assert out.code == "coupon.used_up"
            used = led.book.loyalty.coupons["SHARED"].used
            assert used == len(accepted) <= uses
            step += 1
        assert ever - refunded == used and ever <= uses + refunded
        assert ever == min(len(reqs), uses) or refunded  # without refunds: exactly the uses
        replayed = Ledger(path, clock=ManualClock())  # every reader derives the same uses
        assert replayed.book.loyalty.coupons["SHARED"].used == used
