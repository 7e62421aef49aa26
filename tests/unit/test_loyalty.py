"""Loyalty in the book: points derived from orders, tiers at their boundary, points and coupons as
tenders, refunds reversing both, the snapshot keeping it all (``domain.loyalty*``)."""

from __future__ import annotations

import pytest

from actors.ledger import Ledger, Request, command_hash
from actors.loyalty_setup import journal_store_rules
from domain.book_snapshot import FORMAT, decode_book, encode_book
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import MemberRegistered
from domain.loyalty import DAY_US, LoyaltyRules
from domain.ports import ManualClock
from tests.kits.loyaltykit import T0, Shop, coupon, gold, order, points


def test_an_order_naming_a_member_earns_points_once_from_its_net_spend():
    shop = Shop(gold(10**9))  # no tier reached here
    shop.sell("o1", 12_345)  # 123.45 -> 123 points (rounded down)
    assert shop.points["m1"] == 123
    with pytest.raises(Conflict) as e:  # a retried or re-uploaded order cannot earn twice
        shop.sell("o1", 12_345)
    assert e.value.code == "order.already_completed"
    assert shop.points["m1"] == 123
    shop.sell("o2", 5_000, points("m1", 1_000, 100))  # 10.00 paid with points earns nothing
    assert shop.points["m1"] == 123 - 100 + 40


def test_no_member_or_no_rules_earns_nothing():
    shop = Shop()
    shop.sell("o1", 10_000)
    assert shop.points.get("m1", 0) == 0
    with pytest.raises(Conflict) as e:
        shop.sell("o2", 1_000, points("m1", 10, 1))
    assert e.value.code == "loyalty.off"


@pytest.mark.parametrize("spent, gold_after", [(9_999, False), (10_000, True), (10_001, True)])
def test_a_tier_is_reached_exactly_at_its_threshold(spent: int, gold_after: bool):
    """Gold from 100.00 spent in 30 days: the NEXT order earns double when the spend before it
    reaches 100.00 exactly (inclusive), not at 99.99."""
    shop = Shop(gold(10_000))
    shop.sell("o1", spent)
    before = shop.points["m1"]
    shop.days(1)
    view = shop.book.loyalty.member_view("m1", shop.now)
    assert (view["tier"] or {}).get("name") == ("Gold" if gold_after else None)
    shop.sell("o2", 1_000)  # 10.00: 10 points, 20 at Gold
    assert shop.points["m1"] - before == (20 if gold_after else 10)


def test_promotion_and_demotion_follow_the_window_inclusively():
    shop = Shop(gold(3, by="visits", days=30))
    for i in range(3):
        shop.sell(f"v{i}", 100)
    assert shop.book.loyalty.member_view("m1", shop.now)["tier"]["name"] == "Gold"
    shop.days(30)  # the first visits are exactly 30 days old: still inside
    assert shop.book.loyalty.member_view("m1", shop.now)["tier"]["name"] == "Gold"
    shop.now += 1  # one microsecond later they are out: demoted
    view = shop.book.loyalty.member_view("m1", shop.now)
    assert view["tier"] is None
    assert view["next_tier"] == {"name": "Gold", "by": "visits", "threshold": 3, "missing": 3}


def test_points_pay_part_of_an_order_and_never_more_than_the_balance():
    shop = Shop(gold(10**9))
    shop.sell("o1", 50_000)  # 500 points, worth 50.00 at 0.10 each
    with pytest.raises(Conflict) as e:
        shop.sell("o2", 10_000, points("m1", 5_010, 501))
    assert e.value.code == "loyalty.insufficient_points"
    with pytest.raises(InvalidInput) as e2:
        shop.sell("o2", 10_000, points("m1", 1_000, 99))  # 10.00 needs 100 points
    assert e2.value.code == "loyalty.bad_points"
    shop.sell("o2", 10_000, points("m1", 1_005, 101))  # the last point covers 0.05
    assert shop.points["m1"] == 500 - 101 + 89


def test_a_coupon_checks_dates_member_minimum_and_value_and_counts_its_uses():
    shop = Shop(gold(), members=("m1", "m2"))
    shop.coupon("WELCOME", value=500, min_spend=2_000, valid_from=T0, valid_to=T0 + DAY_US, uses=2)
    shop.coupon("MINE", kind="percent", value=1_000, member="m2")
    with pytest.raises(Conflict) as e:
        shop.coupon("WELCOME")
    assert e.value.code == "coupon.exists"
    tries = [
        ("NOPE", 100, 5_000, "m1", "coupon.not_found"),
        ("WELCOME", 501, 5_000, "m1", "coupon.over_value"),
        ("WELCOME", 500, 1_999, "m1", "coupon.min_spend"),
        ("MINE", 100, 5_000, "m1", "coupon.other_member"),
        ("MINE", 501, 5_000, "m2", "coupon.over_value"),  # 10 % of 50.00
    ]
    for i, (code, amount, total, member, want) in enumerate(tries):
        with pytest.raises((Conflict, NotFound)) as err:
            shop.sell(f"bad{i}", total, coupon(code, amount), member=member)
        assert err.value.code == want
    shop.sell("a", 2_000, coupon("WELCOME", 500))
    shop.sell("b", 5_000, coupon("MINE", 500), member="m2")
    shop.sell("c", 2_000, coupon("WELCOME", 500))
    with pytest.raises(Conflict) as e:
        shop.sell("d", 2_000, coupon("WELCOME", 500))
    assert e.value.code == "coupon.used_up"
    shop.coupon("LATER", valid_from=T0 + 2 * DAY_US)
    with pytest.raises(Conflict) as e:
        shop.sell("e", 2_000, coupon("LATER", 500))
    assert e.value.code == "coupon.not_valid_now"
    assert shop.book.loyalty.coupons["WELCOME"].used == 2


def test_a_partial_refund_reverses_points_by_share_toward_the_customer():
    shop = Shop(gold(10**9))
    shop.sell("seed", 100_000)  # 1000 points
    shop.sell("o1", 10_000, points("m1", 3_330, 333))  # earns 66 (66.70 paid in money)
    assert shop.points["m1"] == 1_000 - 333 + 66
    out = shop.refund("o1", 3)  # 30 % of the order
    pts = [t for t in out.tenders if t.kind == "points"]
    assert sum(t.amount for t in pts) == 999  # the points tender's share: floor(3330 * 0.3)
    # earned back: floor(66 * 0.3) = 19; redeemed returned: ceil(333 * 999 / 3330) = 100
    assert shop.points["m1"] == 1_000 - 333 + 66 - 19 + 100
    shop.refund("o1", None)  # the rest: everything is undone exactly
    assert shop.points["m1"] == 1_000


def test_a_reversal_never_takes_points_below_zero():
    shop = Shop(gold())
    shop.sell("o1", 10_000)  # 100 points
    shop.sell("o2", 1_000, points("m1", 1_000, 100))  # all spent
    shop.refund("o1", None)
    assert shop.points["m1"] == 0


def test_a_coupon_use_comes_back_only_on_a_full_refund():
    shop = Shop(gold())
    shop.coupon("ONCE", value=1_000)
    shop.sell("o1", 5_000, coupon("ONCE", 1_000))
    out = shop.refund("o1", 5)
    assert [t.amount for t in out.tenders if t.kind == "coupon"] == [500]  # its share only
    assert shop.book.loyalty.coupons["ONCE"].used == 1
    shop.refund("o1", None)
    assert shop.book.loyalty.coupons["ONCE"].used == 0
    shop.sell("o2", 5_000, coupon("ONCE", 1_000), member="")  # usable again, by anyone
    shop.refund("o2", None)
    assert shop.book.loyalty.coupons["ONCE"].used == 0
    assert "" not in shop.points


def test_the_snapshot_keeps_loyalty_and_a_format_2_snapshot_reads_empty():
    shop = Shop(gold())
    shop.coupon("C01")
    shop.sell("o1", 20_000, coupon("C01", 500))
    assert FORMAT == 4
    book, _, _ = decode_book(encode_book(shop.book, {}, 0))
    lo, was = book.loyalty, shop.book.loyalty
    assert (lo.rules, lo.points, lo.visits, lo.orders) == (
        was.rules,
        was.points,
        was.visits,
        was.orders,
    )
    assert lo.coupons == was.coupons
    import msgspec

    from domain.book_snapshot import BookImage

    im = msgspec.msgpack.decode(encode_book(shop.book, {}, 0), type=BookImage)
    old = msgspec.msgpack.encode([getattr(im, f) for f in im.__struct_fields__[:-2]])  # format 2
    book2, _, _ = decode_book(old)
    assert book2.loyalty.points == {} and book2.seq == shop.book.seq


def test_store_json_rules_are_journaled_once_at_start(tmp_path):
    path = tmp_path / "journal.sqlite"
    led = Ledger(path, clock=ManualClock())
    led.submit(Request("member-0001", command_hash("m", 1), MemberRegistered("m1", "M")))
    cfg = {"points_per_unit": 2, "tiers": [{"name": "Gold", "threshold": 100}]}
    assert journal_store_rules(led, cfg) is True
    assert journal_store_rules(led, cfg) is False
    led2 = Ledger(path, clock=ManualClock())
    assert journal_store_rules(led2, cfg) is False  # replayed: the same rules are in force
    assert led2.book.loyalty.rules == LoyaltyRules(
        points_per_unit=2, tiers=led2.book.loyalty.rules.tiers
    )
    assert [e.kind for e in led2.read()][-1] == "loyalty.rules_set"
    assert order  # the kit's order builder is what the other tests sell
