"""The desk asks about unsettled payments on its own (``PaymentDesk.sweep``): a card terminal that
approves as the till gives up is recorded as a late success to give back even though no till asks
again; the simulator's test amounts choose how a charge ends (one store, every path)."""

from __future__ import annotations

from actors.payments.card import TEST_AMOUNTS
from tests.unit.conftest import cid
from tests.unit.test_payment_desk import Clock, basket, desk_for, run, started_kinds


def past_timeout(shop, tmp_path, mode: str):
    """A card payment started on a terminal in ``mode``, the clock 61 s on (the timeout is 60)."""
    clock = Clock()
    desk, _ = desk_for(shop, tmp_path, mode, clock)
    b, key = basket(shop), cid()
    clock.now = shop.ledger.last_ts / 1e6
    run(desk.start("T1", key, "card", 4500, b, "THB"))
    clock.now += 61
    return desk, clock, key


def test_a_late_approval_is_recorded_when_no_till_asks_again(shop, tmp_path):
    desk, _clock, key = past_timeout(shop, tmp_path, "late")  # the till gives up: timed out
    assert run(desk.poll(key))["state"] == "timed_out"
    shop.do("pay", {"tenders": [{"kind": "cash", "amount": 4500}]})  # paid in cash instead
    assert shop.ledger.payments(None) == []  # nobody has asked the terminal since
    run(desk.sweep())
    assert [(r["key"], r["action"]) for r in shop.ledger.payments(None)] == [(key, "refund")]
    assert started_kinds(shop)[-1] == "payment.late_success"
    assert key not in desk.watch  # settled: not asked again
    run(desk.sweep())
    assert started_kinds(shop).count("payment.late_success") == 1


def test_an_unsettled_payment_is_given_up_after_its_watch(shop, tmp_path):
    desk, clock, key = past_timeout(shop, tmp_path, "timeout")
    run(desk.sweep())  # the till went away: the desk times it out itself
    assert shop.ledger.payments([key])[0]["state"] == "timed_out" and key in desk.watch
    clock.now += 10_000
    run(desk.sweep())
    assert key not in desk.watch


def test_test_amounts_choose_how_a_charge_ends(shop, tmp_path):
    clock = Clock()
    desk, terminal = desk_for(shop, tmp_path, "by_amount", clock)
    states = {}
    for cents, _mode in [(0, "approve"), *TEST_AMOUNTS.items()]:
        key = cid()
        run(desk.start("T1", key, "card", 4500 + cents if cents else 4500, basket(shop), "THB"))
        states[cents] = run(desk.poll(key))["state"]
        shop.do("void", {"reason": "test"})
    assert states == {0: "succeeded", 51: "failed", 52: "pending", 53: "pending"}
