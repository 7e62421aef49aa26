"""Every transition of a QR / card tender (domain.tender_flow) against a real ledger and till,
without Ray or sockets: pending → succeeded | failed | cancelled | timed_out; an order completes
only with succeeded tenders, each used once; a success that comes after a timeout or a cancel is
never lost and never counted twice."""

from __future__ import annotations

import pytest

from actors.ledger import Ledger
from domain.commands import RefundOrder
from domain.errors import KassaError
from domain.payment_events import (
    PaymentCancelled,
    PaymentFailed,
    PaymentLateSuccess,
    PaymentStarted,
    PaymentSucceeded,
    PaymentTimedOut,
)
from tests.unit.conftest import cid

MILK = 4500  # MILK-1L: 45.00


def open_basket(shop, sku: str = "MILK-1L") -> str:
    shop.do("add", {"sku": sku, "qty": 1})
    return shop.till.basket.basket_id


def started(shop, basket: str, amount: int = MILK, kind: str = "qr") -> str:
    key = cid()
    shop.submit(PaymentStarted(key, basket, kind, "promptpay", amount, "THB"), till="T1")
    return key


def state(shop, key: str) -> dict:
    return shop.ledger.payments([key])[0]


def refused(fn, *args, **kw) -> tuple[int, str]:
    with pytest.raises(KassaError) as exc:
        fn(*args, **kw)
    return exc.value.http_status, exc.value.code


def pay_qr(shop, key: str, amount: int = MILK, extra: tuple = ()):
    tenders = [{"kind": "qr", "amount": amount, "key": key}, *extra]
    return shop.do("pay", {"tenders": tenders})


def test_pending_then_succeeded_pays_the_order_with_the_providers_reference(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    assert state(shop, key)["state"] == "pending"
    shop.submit(PaymentSucceeded(key, "PP-20260101-77", "", "callback"))
    assert state(shop, key)["state"] == "succeeded"
    order = pay_qr(shop, key)["order"]
    (p,) = order["payments"]
    assert (p["kind"], p["key"], p["provider"], p["reference"]) == (
        "qr",
        key,
        "promptpay",
        "PP-20260101-77",
    )
    assert state(shop, key)["used_by"] == basket


@pytest.mark.parametrize("end", [None, PaymentFailed, PaymentCancelled, PaymentTimedOut])
def test_an_order_never_completes_with_a_tender_that_did_not_succeed(shop, end):
    basket = open_basket(shop)
    key = started(shop, basket)
    if end is not None:
        shop.submit(end(key))
    assert refused(pay_qr, shop, key) == (409, "payment.tender_not_succeeded")
    assert shop.till.basket.basket_id == basket  # still open: pay another way
    assert shop.ledger.book.orders == {}


def test_only_a_pending_tender_fails_is_cancelled_or_times_out(shop):
    basket = open_basket(shop)
    for first, then in (
        (PaymentFailed, PaymentCancelled),
        (PaymentCancelled, PaymentTimedOut),
        (PaymentTimedOut, PaymentFailed),
        (PaymentSucceeded, PaymentCancelled),
    ):
        key = started(shop, basket)
        shop.submit(first(key))
        assert refused(shop.submit, then(key)) == (409, "payment.not_pending")
    key = started(shop, basket)
    shop.submit(PaymentSucceeded(key, "R1"))
    assert refused(shop.submit, PaymentSucceeded(key, "R2")) == (409, "payment.already_succeeded")


def test_a_key_names_one_tender_and_a_tender_pays_one_order(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    again = PaymentStarted(key, basket, "qr", "promptpay", MILK, "THB")
    assert refused(shop.submit, again) == (409, "payment.key_taken")
    shop.submit(PaymentSucceeded(key, "R1"))
    pay_qr(shop, key)
    open_basket(shop)  # the next customer's basket cannot reuse it
    assert refused(pay_qr, shop, key) == (409, "payment.tender_used")
    assert len(shop.ledger.book.orders) == 1


def test_a_tender_is_for_its_own_basket_and_amount(shop):
    basket = open_basket(shop)
    key = started(shop, basket, amount=MILK - 100)
    shop.submit(PaymentSucceeded(key, "R1"))
    assert refused(pay_qr, shop, key) == (409, "payment.tender_mismatch")  # 45.00 vs 44.00
    cash = ({"kind": "cash", "amount": 100},)
    order = pay_qr(shop, key, MILK - 100, cash)["order"]
    assert sorted(p["kind"] for p in order["payments"]) == ["cash", "qr"]


def test_no_tender_starts_for_a_closed_basket_and_qr_needs_a_key(shop):
    basket = open_basket(shop)
    shop.do("pay", {"tenders": [{"kind": "cash", "amount": MILK}]})
    code = refused(shop.submit, PaymentStarted(cid(), basket, "qr", "promptpay", MILK, "THB"))
    assert code == (409, "basket.closed")
    open_basket(shop)
    no_key = {"tenders": [{"kind": "qr", "amount": MILK}]}
    assert refused(shop.do, "pay", no_key) == (400, "payment.no_key")


def test_a_cancelled_qr_cannot_pay_and_the_basket_is_paid_in_cash(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    shop.submit(PaymentCancelled(key, "customer left the queue"))
    assert state(shop, key)["state"] == "cancelled"
    assert refused(pay_qr, shop, key) == (409, "payment.tender_not_succeeded")
    order = shop.do("pay", {"tenders": [{"kind": "cash", "amount": 5000}]})["order"]
    assert [p["kind"] for p in order["payments"]] == ["cash"]
    assert shop.ledger.payments(None) == []  # nothing was taken: nothing to give back


def test_timeout_then_late_success_while_the_basket_is_open_pays_it_once(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    shop.submit(PaymentTimedOut(key, 120))
    ack = shop.submit(PaymentSucceeded(key, "PP-LATE-1", "", "callback"))
    assert ack.kind == "payment.succeeded"  # the basket is open: the money pays it
    assert state(shop, key)["state"] == "succeeded" and state(shop, key)["late"]
    order = pay_qr(shop, key)["order"]
    assert sum(p["amount"] for p in order["payments"]) == MILK
    assert shop.ledger.payments(None) == []


def test_timeout_then_paid_in_cash_then_late_success_is_flagged_to_refund(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    shop.submit(PaymentTimedOut(key, 120))
    order = shop.do("pay", {"tenders": [{"kind": "cash", "amount": 5000}]})["order"]
    ack = shop.submit(PaymentSucceeded(key, "PP-LATE-2", "", "callback"))
    assert ack.kind == "payment.late_success"  # journaled, not lost
    assert isinstance(ack.body, PaymentLateSuccess) and ack.body.amount == MILK
    # not counted twice: the order holds the cash only, the QR money is to give back
    assert [p["kind"] for p in order["payments"]] == ["cash"]
    (refund,) = shop.ledger.payments(None)
    assert (refund["key"], refund["amount"], refund["reference"], refund["action"]) == (
        key,
        MILK,
        "PP-LATE-2",
        "refund",
    )
    assert refused(shop.submit, PaymentSucceeded(key, "again")) == (
        409,
        "payment.already_succeeded",
    )
    assert len(shop.ledger.book.orders) == 1


def test_a_succeeded_tender_whose_basket_is_voided_is_money_to_give_back(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    shop.submit(PaymentSucceeded(key, "R9"))
    shop.do("void", {"reason": "customer changed their mind"})
    assert [r["key"] for r in shop.ledger.payments(None)] == [key]


def test_a_refund_of_a_qr_order_goes_back_to_the_qr_tender(shop):
    basket = open_basket(shop)
    key = started(shop, basket)
    shop.submit(PaymentSucceeded(key, "PP-9"))
    pay_qr(shop, key)
    body = shop.submit(RefundOrder(basket, cid())).body
    (t,) = body.tenders
    assert (t.kind, t.amount, t.reference, t.key, t.provider) == (
        "qr",
        MILK,
        "PP-9",
        key,
        "promptpay",
    )


def test_the_tender_book_is_rebuilt_from_the_journal(shop, tmp_path):
    basket = open_basket(shop)
    a, b = started(shop, basket), started(shop, basket)
    shop.submit(PaymentTimedOut(a, 120))
    shop.submit(PaymentSucceeded(b, "R2"))
    before = shop.ledger.payments([a, b])
    again = Ledger(shop.ledger.journal.path)
    try:
        assert again.payments([a, b]) == before
    finally:
        again.journal.close()
