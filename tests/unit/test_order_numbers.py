"""Short order and refund numbers: given by the ledger, journaled, per till, never reused, read back
the same on replay, and found again by after-sales (any case, zeros optional)."""

from __future__ import annotations

from actors.ledger import Ledger
from actors.till import Till
from domain.commands import RefundOrder
from domain.numbering import Numbers, short_id
from domain.reports_query import orders_matching
from tests.unit.conftest import Shop, cid


def sell(shop: Shop, sku: str = "MILK-1L") -> dict:
    shop.do("add", {"sku": sku, "qty": 1})
    return shop.do(
        "pay", {"tenders": [{"kind": "card", "amount": 4500, "reference": "R1", "last4": "4242"}]}
    )["order"]


def refund(shop: Shop, order_id: str, till: str) -> dict:
    ack = shop.submit(RefundOrder(order_id, cid(), None), till=till, staff="a1")
    return {"number": ack.body.number, "refund_id": ack.body.refund_id}


def numbers_in(ledger: Ledger) -> list[tuple[str, str]]:
    """(kind, number) of every order and refund, as journaled."""
    return [
        (e.kind, e.decoded().number)
        for e in ledger.read()
        if e.kind in ("order.completed", "order.refunded")
    ]


def test_two_tills_refunds_apart_and_replay(shop: Shop, clock) -> None:
    t2 = Shop(shop.ledger, Till("T2", shop.till.config, shop.till.catalogue))
    a1, b1, a2, b2 = sell(shop), sell(t2), sell(shop), sell(t2)
    assert [o["number"] for o in (a1, b1, a2, b2)] == [
        "T1-000001",
        "T2-000001",
        "T1-000002",
        "T2-000002",
    ]
    # refunds are numbered apart, per till that gives the money back, and use no order number
    r1 = refund(shop, a1["order_id"], "AS1")
    r2 = refund(shop, b2["order_id"], "AS1")
    r3 = refund(shop, a2["order_id"], "T2")
    assert [r["number"] for r in (r1, r2, r3)] == ["R-AS1-000001", "R-AS1-000002", "R-T2-000001"]
    assert sell(shop)["number"] == "T1-000003"
    assert shop.ledger.order(a1["order_id"])["refund_numbers"] == ["R-AS1-000001"]

    journaled = numbers_in(shop.ledger)
    assert len({n for _, n in journaled}) == len(journaled) == 8  # unique in the store

    # a restart replays the journal: the same numbers, and the counters go on (no reuse)
    path = shop.ledger.journal.path
    shop.ledger.journal.close()
    again = Ledger(path, clock=clock)
    try:
        assert numbers_in(again) == journaled
        assert again.book.numbers.index == shop.ledger.book.numbers.index
        t1 = Shop(again, Till("T1", shop.till.config, shop.till.catalogue))
        assert sell(t1)["number"] == "T1-000004"
        assert refund(t1, b1["order_id"], "AS1")["number"] == "R-AS1-000003"
    finally:
        again.journal.close()


def test_after_sales_finds_an_order_by_its_or_its_refunds_number(shop: Shop) -> None:
    sold = [sell(shop) for _ in range(3)]
    r = refund(shop, sold[1]["order_id"], "AS1")
    book = shop.ledger.book

    def found(key: str) -> list[str]:
        return [
            x["order"]["order_id"] for x in orders_matching(book.orders, key, "UTC", book.numbers)
        ]

    want = sold[1]["order_id"]
    for key in ("T1-000002", "t1-2", " T1-0002 ", r["number"], "r-as1-1"):
        assert found(key) == [want], key
    assert found("T1-000009") == []


def test_orders_journaled_without_a_number_are_known_by_a_short_id() -> None:
    numbers = Numbers()
    old = "0f8e3c1a-5b2d-4e6f-9a7b-1c2d3e4f5a6b"
    numbers.order_done("T1", "", old)
    assert short_id(old) == "0F8E3C1A"
    assert numbers.find("0f8e3c1a") == old
    assert numbers.next_order("T1") == "T1-000002"  # the old order still counts
