"""The book and the ledger: wallets, sales, refunds, freezes, idempotent commands, restarts."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from actors.ledger import Ledger, Request
from actors.till import Who, execute
from domain.commands import FreezeOrder, RefundOrder, UnfreezeOrder
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import MemberRegistered, OrderRefunded, Payment, RefundLine, WalletToppedUp
from tests.unit.conftest import MILK_EAN, cid

CARD = {"kind": "card", "amount": 0, "reference": "TRM-88123", "last4": "4242"}


def card(amount, ref="TRM-88123"):
    return {**CARD, "amount": amount, "reference": ref}


def sell(shop, lines, tenders):
    """Scan ``lines`` (sku -> qty) and pay with ``tenders``; returns the completed order dict."""
    for sku, qty in lines.items():
        shop.do("add", {"sku": sku, "qty": qty})
    return shop.do("pay", {"tenders": tenders})["order"]


def refund(shop, order_id, lines=None, refund_id=None, inc=25, command_id=None):
    cmd = RefundOrder(order_id, refund_id or cid(), lines, cash_increment=inc)
    return shop.submit(cmd, command_id=command_id).body


def kinds(ledger):
    return [e.kind for e in ledger.read()]


# ------------------------------------------------------------------ wallets


def test_top_up_records_the_resulting_balance(shop):
    shop.member("M1")
    a = shop.submit(WalletToppedUp("M1", 10000, "cash"))
    b = shop.submit(WalletToppedUp("M1", 2500, "card", reference="TRM-1"))
    assert (a.body.balance_after, b.body.balance_after) == (10000, 12500)
    assert shop.ledger.balance("M1") == 12500


@pytest.mark.parametrize("amount", [0, -100])
def test_top_up_must_be_positive(shop, amount):
    shop.member("M1")
    with pytest.raises(InvalidInput):
        shop.submit(WalletToppedUp("M1", amount, "cash"))


def test_top_up_of_unknown_member_is_refused(shop):
    with pytest.raises(NotFound) as exc:
        shop.submit(WalletToppedUp("GHOST", 100, "cash"))
    assert exc.value.code == "member.not_found"


def test_member_ids_and_cards_are_unique(shop):
    shop.member("M1")
    with pytest.raises(Conflict) as exc:
        shop.submit(MemberRegistered("M1", "again"))
    assert exc.value.code == "member.exists"
    with pytest.raises(Conflict) as exc:
        shop.submit(MemberRegistered("M2", "thief", card="CARD-M1"))
    assert exc.value.code == "member.card_taken"
    assert shop.ledger.book.find_member("CARD-M1").member == "M1"


def test_wallet_spend_and_never_below_zero(shop):
    shop.member("M1", topup=5000)
    order = sell(shop, {"MILK-1L": 1}, [{"kind": "wallet", "member": "M1", "amount": 4500}])
    assert order["member"] == "M1"
    assert shop.ledger.balance("M1") == 500
    seq = shop.ledger.seq
    shop.do("add", {"sku": "BREAD"})
    with pytest.raises(Conflict) as exc:
        shop.do("pay", {"tenders": [{"kind": "wallet", "member": "M1", "amount": 3500}]})
    assert exc.value.code == "wallet.insufficient_funds"
    assert shop.ledger.balance("M1") == 500
    assert shop.ledger.seq == seq + 1  # only the scan was journaled
    # the basket is still open: pay the rest by card
    order = shop.do(
        "pay", {"tenders": [{"kind": "wallet", "member": "M1", "amount": 500}, card(3000)]}
    )["order"]
    assert shop.ledger.balance("M1") == 0 and order["total"] == 3500


def test_two_spends_in_one_batch_cannot_overdraw(shop, config, catalogue):
    from actors.till import Till

    shop.member("M1", topup=5000)
    t2 = Till("T2", config, catalogue)
    reqs = []
    for till in (shop.till, t2):
        till.commit(shop.ledger.submit(till.prepare(cid(), "add", {"sku": "MILK-1L"}, shop.who)))
    for till in (shop.till, t2):
        reqs.append(
            till.prepare(
                cid(),
                "pay",
                {"tenders": [{"kind": "wallet", "member": "M1", "amount": 4500}]},
                shop.who,
            )
        )
    first, second = shop.ledger.submit_batch(reqs)
    assert first.kind == "order.completed"
    assert isinstance(second, Conflict) and second.code == "wallet.insufficient_funds"
    assert shop.ledger.balance("M1") == 500


def test_wallet_payment_for_unknown_member_is_refused(shop):
    shop.do("add", {"sku": "WATER"})
    with pytest.raises(NotFound):
        shop.do("pay", {"tenders": [{"kind": "wallet", "member": "GHOST", "amount": 1000}]})


# ------------------------------------------------------------------ orders


def test_orders_are_numbered_per_till_and_payments_equal_total(shop):
    o1 = sell(shop, {"MILK-1L": 1}, [{"kind": "cash", "amount": 5000}])
    o2 = sell(shop, {"BREAD": 2, "SOAP": 1}, [card(9000)])
    assert (o1["number"], o2["number"]) == ("T1-000001", "T1-000002")
    for o in (o1, o2):
        assert sum(p["amount"] for p in o["payments"]) == o["total"] + o["rounding"]
        assert sum(ln["total"] for ln in o["lines"]) == o["total"]
    assert o1["change"] == 500
    assert o2["payments"][0]["reference"] == "TRM-88123"


def test_a_basket_completes_at_most_once(shop):
    order = sell(shop, {"MILK-1L": 1}, [card(4500)])
    body = shop.ledger.book.order(order["order_id"]).order
    again = dataclasses.replace(body, number="")
    with pytest.raises(Conflict) as exc:
        shop.submit(again)
    assert exc.value.code == "order.already_completed"
    assert kinds(shop.ledger).count("order.completed") == 1


def test_a_voided_basket_cannot_be_paid_or_added_to(shop):
    shop.do("add", {"sku": "MILK-1L"})
    bid = shop.till.basket.basket_id
    req = shop.till.prepare(cid(), "pay", {"tenders": [card(4500)]}, shop.who)
    shop.do("void", {"reason": "test"})
    with pytest.raises(Conflict):
        shop.ledger.submit(req)
    from domain.events import LineAdded

    with pytest.raises(Conflict) as exc:
        shop.submit(LineAdded(bid, "L9", "WATER", {"en": "w"}, "each", 1, 1000, "zero", 0))
    assert exc.value.code == "basket.closed"


def test_unbalanced_order_is_refused_at_commit(shop):
    shop.do("add", {"sku": "MILK-1L"})
    req = shop.till.prepare(cid(), "pay", {"tenders": [card(4500)]}, shop.who)
    bad = dataclasses.replace(
        req.body, payments=(Payment("card", 4000, reference="x", last4="1234"),)
    )
    with pytest.raises(Conflict) as exc:
        shop.ledger.submit(dataclasses.replace(req, body=bad))
    assert exc.value.code == "payment.unbalanced"


# ------------------------------------------------------------------ refunds


def test_whole_refund_goes_back_to_the_original_tenders(shop):
    shop.member("M1", topup=2000)
    order = sell(
        shop,
        {"MILK-1L": 2, "BREAD": 1},  # 125.00
        [
            {"kind": "wallet", "member": "M1", "amount": 2000},
            card(6000),
            {"kind": "cash", "amount": 5000},
        ],
    )
    assert shop.ledger.balance("M1") == 0
    r = refund(shop, order["order_id"])
    assert r.order_id == order["order_id"]
    assert r.amount == order["total"] == 12500
    got = {t.kind: t for t in r.tenders}
    assert got["wallet"].amount == 2000 and got["wallet"].member == "M1"
    assert got["card"].amount == 6000
    assert (got["card"].reference, got["card"].last4) == ("TRM-88123", "4242")
    assert got["cash"].amount == 4500
    assert shop.ledger.balance("M1") == 2000
    with pytest.raises(Conflict) as exc:
        refund(shop, order["order_id"])
    assert exc.value.code == "refund.nothing_left"
    assert shop.ledger.order(order["order_id"])["refunded_total"] == 12500


def test_refund_by_line_and_never_more_than_was_sold(shop):
    order = sell(shop, {"MILK-1L": 3, "BREAD": 1}, [card(17000)])
    lines = {ln["sku"]: ln["line_id"] for ln in order["lines"]}
    r1 = refund(shop, order["order_id"], {lines["MILK-1L"]: 1})
    assert r1.amount == 4500 and [t.amount for t in r1.tenders] == [4500]
    with pytest.raises(Conflict) as exc:
        refund(shop, order["order_id"], {lines["MILK-1L"]: 3})
    assert exc.value.code == "refund.exceeds_paid"
    r2 = refund(shop, order["order_id"], {lines["MILK-1L"]: 2})
    assert r2.amount == 9000
    with pytest.raises(Conflict):
        refund(shop, order["order_id"], {lines["MILK-1L"]: 1})
    # what remains is the bread
    r3 = refund(shop, order["order_id"])
    assert [(ln.sku, ln.qty, ln.amount) for ln in r3.lines] == [("BREAD", 1, 3500)]
    assert r1.amount + r2.amount + r3.amount == order["total"]


@pytest.mark.parametrize(
    "lines, code",
    [
        ({"L9": 1}, "refund.line_not_found"),
        ({"L1": 0}, "refund.bad_quantity"),
        ({"L1": -1}, "refund.bad_quantity"),
        ({}, "refund.no_lines"),
    ],
)
def test_bad_refund_requests(shop, lines, code):
    order = sell(shop, {"MILK-1L": 2}, [card(9000)])
    with pytest.raises((InvalidInput, NotFound)) as exc:
        refund(shop, order["order_id"], lines)
    assert exc.value.code == code


def test_refund_of_unknown_order(shop):
    with pytest.raises(NotFound) as exc:
        refund(shop, "no-such-order")
    assert exc.value.code == "order.not_found"


def test_partial_refunds_of_a_line_add_up_to_its_total(shop):
    # 3 x 19.99 with a 1.00 order discount: the line total does not split evenly
    shop.till.catalogue.put(dataclasses.replace(shop.till.catalogue.by_sku["SOAP"], price=1999))
    shop.do("add", {"sku": "SOAP", "qty": 3})
    shop.do("discount_order", {"kind": "amount", "value": 100})
    order = shop.do("pay", {"tenders": [card(5897)]})["order"]
    ln = order["lines"][0]
    parts = [refund(shop, order["order_id"], {"L1": 1}).lines[0] for _ in range(3)]
    assert sum(p.amount for p in parts) == ln["total"]
    assert all(abs(p.amount - ln["total"] / 3) < 1 for p in parts)
    assert sum(p.tax for p in parts) == ln["tax"]


def test_a_forged_refund_over_what_was_paid_is_refused_at_commit(shop):
    order = sell(shop, {"MILK-1L": 1}, [card(4500)])
    oid = order["order_id"]
    too_much = OrderRefunded(
        cid(),
        oid,
        "THB",
        (RefundLine("L1", "MILK-1L", 1, 4600, 300),),
        (Payment("card", 4600, reference="TRM-88123", last4="4242"),),
        4600,
    )
    with pytest.raises(Conflict) as exc:
        shop.submit(too_much)
    assert exc.value.code == "refund.exceeds_paid"
    wrong_tender = OrderRefunded(
        cid(),
        oid,
        "THB",
        (RefundLine("L1", "MILK-1L", 1, 4500, 294),),
        (Payment("cash", 4500),),
        4500,
    )
    with pytest.raises(Conflict) as exc:
        shop.submit(wrong_tender)
    assert exc.value.code == "refund.exceeds_paid"
    wallet_theft = OrderRefunded(
        cid(),
        oid,
        "THB",
        (RefundLine("L1", "MILK-1L", 1, 4500, 294),),
        (Payment("wallet", 4500, member="M1"),),
        4500,
    )
    with pytest.raises(Conflict):
        shop.submit(wallet_theft)
    assert "order.refunded" not in kinds(shop.ledger)


def test_frozen_order_refuses_refunds_until_unfrozen(shop):
    order = sell(shop, {"MILK-1L": 2}, [card(9000)])
    oid = order["order_id"]
    with pytest.raises(InvalidInput):
        shop.submit(FreezeOrder(oid, "  "))
    shop.submit(FreezeOrder(oid, "refund pattern", rule="many_refunds"))
    with pytest.raises(Conflict) as exc:
        shop.submit(FreezeOrder(oid, "again"))
    assert exc.value.code == "order.already_frozen"
    with pytest.raises(Conflict) as exc:
        refund(shop, oid, {"L1": 1})
    assert exc.value.code == "order.frozen"
    # a refund decided before the freeze is refused when it reaches the commit
    forged = OrderRefunded(
        cid(),
        oid,
        "THB",
        (RefundLine("L1", "MILK-1L", 1, 4500, 294),),
        (Payment("card", 4500, reference="TRM-88123", last4="4242"),),
        4500,
    )
    with pytest.raises(Conflict) as exc:
        shop.submit(forged)
    assert exc.value.code == "order.frozen"
    shop.submit(UnfreezeOrder(oid, "checked"))
    with pytest.raises(Conflict) as exc:
        shop.submit(UnfreezeOrder(oid))
    assert exc.value.code == "order.not_frozen"
    assert refund(shop, oid, {"L1": 1}).amount == 4500


def test_freeze_unknown_order(shop):
    with pytest.raises(NotFound):
        shop.submit(FreezeOrder("nope", "x"))


# ------------------------------------------------------------------ idempotent commands


def test_same_command_id_twice_has_one_effect_and_the_first_answer(shop, clock):
    shop.member("M1")
    a1 = shop.submit(WalletToppedUp("M1", 1000, "cash"), command_id="cmd-topup-0001", cmd=b"h1")
    clock.advance(5)
    a2 = shop.submit(WalletToppedUp("M1", 1000, "cash"), command_id="cmd-topup-0001", cmd=b"h1")
    assert not a1.duplicate and a2.duplicate
    assert (a2.seq, a2.ts, a2.body) == (a1.seq, a1.ts, a1.body)
    assert shop.ledger.balance("M1") == 1000
    assert kinds(shop.ledger).count("wallet.topped_up") == 1


def test_same_command_id_with_another_body_is_refused(shop):
    shop.member("M1")
    shop.submit(WalletToppedUp("M1", 1000, "cash"), command_id="cmd-topup-0002", cmd=b"h1")
    with pytest.raises(Conflict) as exc:
        shop.submit(WalletToppedUp("M1", 9000, "cash"), command_id="cmd-topup-0002", cmd=b"h2")
    assert exc.value.code == "command.id_reused"
    assert shop.ledger.balance("M1") == 1000


def test_retried_till_command_has_one_effect(shop):
    a = shop.do("scan", {"code": MILK_EAN}, command_id="scan-0000-0001")
    b = shop.do("scan", {"code": MILK_EAN}, command_id="scan-0000-0001")
    assert b["duplicate"] and b["seq"] == a["seq"]
    assert len(shop.till.view()["lines"]) == 1
    with pytest.raises(Conflict) as exc:
        shop.do("scan", {"code": MILK_EAN, "qty": 5}, command_id="scan-0000-0001")
    assert exc.value.code == "command.id_reused"
    pay = {"tenders": [card(4500)]}
    o1 = shop.do("pay", pay, command_id="pay-0000-0001")
    # the kiosk lost the answer and retries; the till has no basket any more but the answer stands
    again = asyncio.run(
        execute(shop.till, ledger_call(shop.ledger), "pay-0000-0001", "pay", pay, Who())
    )
    assert again["duplicate"] and again["seq"] == o1["seq"]
    assert again["order"] == o1["order"]
    assert kinds(shop.ledger).count("order.completed") == 1
    # the same id asking for something else is refused, not answered
    with pytest.raises(Conflict) as exc:
        asyncio.run(
            execute(
                shop.till,
                ledger_call(shop.ledger),
                "pay-0000-0001",
                "pay",
                {"tenders": [card(9999)]},
                Who(),
            )
        )
    assert exc.value.code == "command.id_reused"
    # and a fresh command that cannot be decided is refused as it is
    with pytest.raises(Conflict) as exc:
        asyncio.run(
            execute(shop.till, ledger_call(shop.ledger), "pay-0000-0002", "pay", pay, Who())
        )
    assert exc.value.code == "basket.none"


def ledger_call(ledger):
    async def call(method, payload):
        if method == "submit":
            return ledger.submit(payload)
        return ledger.lookup(*payload)

    return call


def test_same_id_twice_in_one_batch(shop):
    shop.member("M1")
    body = WalletToppedUp("M1", 700, "cash")
    a, b, c = shop.ledger.submit_batch(
        [
            Request("batch-id-0001", b"x", body),
            Request("batch-id-0001", b"x", body),
            Request("batch-id-0001", b"y", body),
        ]
    )
    assert not a.duplicate and b.duplicate and a.seq == b.seq
    assert isinstance(c, Conflict) and c.code == "command.id_reused"
    assert shop.ledger.balance("M1") == 700


@pytest.mark.parametrize("bad", ["short", "x" * 65, "bad\nid!", 12345678])
def test_command_ids_are_checked(shop, bad):
    shop.member("M1")
    with pytest.raises(InvalidInput) as exc:
        shop.ledger.submit(Request(bad, b"x", WalletToppedUp("M1", 1, "cash")))
    assert exc.value.code == "command.bad_id"


def test_malformed_request_in_a_batch_is_refused_alone(shop, tmp_path):
    shop.member("M1")
    good = Request(cid(), b"a", WalletToppedUp("M1", 500, "cash"))
    not_an_event = Request(cid(), b"b", {"kind": "wallet.topped_up"})
    broken = Request(cid(), b"c", WalletToppedUp("M1", None, "cash"))  # type: ignore[arg-type]
    r1, r2, r3 = shop.ledger.submit_batch([good, not_an_event, broken])
    assert r1.kind == "wallet.topped_up"
    assert isinstance(r2, InvalidInput) and isinstance(r3, InvalidInput)
    # the book and the journal agree
    assert shop.ledger.balance("M1") == 500
    again = Ledger(shop.ledger.journal.path)
    assert again.balance("M1") == 500
    again.journal.close()


# ------------------------------------------------------------------ restart


def test_restart_rebuilds_the_book_from_the_journal(shop, clock):
    shop.member("M1", topup=10000)
    o = sell(shop, {"MILK-1L": 2}, [{"kind": "wallet", "member": "M1", "amount": 9000}])
    refund(shop, o["order_id"], {"L1": 1})
    shop.submit(FreezeOrder(o["order_id"], "look at it"))
    shop.do("add", {"sku": "BREAD"})
    path = shop.ledger.journal.path
    before = (shop.ledger.order(o["order_id"]), shop.ledger.balance("M1"), shop.ledger.status())
    again = Ledger(path, clock=clock)
    try:
        after = (again.order(o["order_id"]), again.balance("M1"), again.status())
        before[2].pop("start"), after[2].pop("start")  # how each was loaded (snapshots)
        assert after == before
        with pytest.raises(Conflict) as exc:
            again.submit(Request(cid(), b"r", RefundOrder(o["order_id"], cid(), None)))
        assert exc.value.code == "order.frozen"
        # numbering continues where it stopped
        assert again.book.till_orders["T1"] == 1
    finally:
        again.journal.close()


def test_single_unit_refunds_of_a_big_line_stay_fair(shop):
    # 1000 pieces for 19.99 in all: no unit may take the whole rounding remainder
    shop.till.catalogue.put(dataclasses.replace(shop.till.catalogue.by_sku["SOAP"], price=2))
    shop.do("add", {"sku": "SOAP", "qty": 1000})
    shop.do(
        "discount_line",
        {"line_id": "L1", "kind": "amount", "value": 1},
        who=dataclasses.replace(shop.who, approved_by="boss"),
    )
    order = shop.do("pay", {"tenders": [card(1999)]})["order"]
    oid = order["order_id"]
    got = [refund(shop, oid, {"L1": 100}).lines[0].amount for _ in range(10)]
    assert sum(got) == 1999
    assert max(got) - min(got) <= 1
