"""Commands decided in the ledger (domain.ledger_handlers), without Ray or sockets: refund, freeze,
unfreeze and stock count, each accepted and each refusal; the count decided where commits are
serialised; and the book's rules (open day, limits) exactly as they are given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors.ledger import LEDGER_METHODS, Ledger, Request
from actors.till import Till
from domain.basket import Basket, apply_basket, decide_add
from domain.book import Book, BookRules
from domain.catalogue import CatalogueIndex
from domain.commands import CountStock, FreezeOrder, RefundOrder, UnfreezeOrder
from domain.day import DayOpened
from domain.errors import KassaError
from domain.events import (
    MemberRegistered,
    OrderCompleted,
    OrderFrozen,
    OrderUnfrozen,
    StockCounted,
    StockReceived,
    WalletToppedUp,
)
from domain.exchange import ExchangeOrder
from domain.ledger_handlers import LEDGER_HANDLERS
from domain.money import Limits
from domain.payments import TenderIn
from domain.ports import ManualClock
from domain.stock import SetLevel
from domain.stock_docs import ApproveCount
from domain.till_commands import Pay
from domain.till_handlers import Counter, handle_pay
from tests.unit.conftest import Shop, cid, make_config, sample_products
from tests.unit.test_pickling import over_wire

CAT = CatalogueIndex(sample_products(), version="test-1")
CONFIG = make_config()


def sold(book: Book, order_id: str = "O1", **qty: int) -> OrderCompleted:
    """Sell ``qty`` (sku -> pieces) for cash and commit it to ``book``."""
    b = Basket(order_id, "T1")
    for sku, n in qty.items():
        b = apply_basket(b, decide_add(b, CAT.by_sku[sku], 700, qty=n))
    at = Counter("T1", b, {b.basket_id: b}, CONFIG, CAT)
    total = sum(ln.qty * ln.unit_price for ln in b.lines)
    order = handle_pay(Pay(tenders=(TenderIn("cash", total),)), at)
    order = book.check(order, "T1")
    book.apply(order, "c1", "T1", 1, 1)
    return order


def decide(cmd: Any, book: Book) -> Any:
    return LEDGER_HANDLERS[type(cmd)](cmd, book)


def refused(cmd: Any, book: Book) -> tuple[int, str]:
    with pytest.raises(KassaError) as exc:
        decide(cmd, book)
    return exc.value.http_status, exc.value.code


def test_every_ledger_command_has_one_handler():
    assert set(LEDGER_HANDLERS) == {
        RefundOrder,
        FreezeOrder,
        UnfreezeOrder,
        CountStock,
        ExchangeOrder,
        ApproveCount,
        SetLevel,
    }


def test_commands_cross_the_ledger_socket_as_themselves():
    for cmd in (
        CountStock("MILK-1L", 12),
        RefundOrder("O1", "R1", None, "", 25),
        UnfreezeOrder("O1", "checked"),
        ApproveCount("C-1", {"MILK-1L": 3}),
        SetLevel("MILK-1L", 40, "correction"),
    ):
        req = Request("c" * 36, b"h", cmd, "m1", "T1")
        back = over_wire(LEDGER_METHODS["submit"], req)
        assert back == req and type(back.body) is type(cmd)


# ------------------------------------------------------------------ refund


def test_refund_gives_back_what_was_sold():
    book = Book()
    sold(book, **{"MILK-1L": 2, "BREAD": 1})
    ev = decide(RefundOrder("O1", "R1", {"L1": 1}, "broken", 25), book)
    assert (ev.order_id, ev.refund_id, ev.reason) == ("O1", "R1", "broken")
    assert [(rl.line_id, rl.qty, rl.amount) for rl in ev.lines] == [("L1", 1, 4500)]
    whole = decide(RefundOrder("O1", "R2"), book)  # everything not refunded yet
    assert {rl.line_id: rl.qty for rl in whole.lines} == {"L1": 2, "L2": 1}


@pytest.mark.parametrize(
    "cmd, status, code",
    [
        (RefundOrder("NOPE", "R1"), 404, "order.not_found"),
        (RefundOrder("O1", "R1", {}), 400, "refund.no_lines"),
        (RefundOrder("O1", "R1", {"L9": 1}), 404, "refund.line_not_found"),
        (RefundOrder("O1", "R1", {"L1": 0}), 400, "refund.bad_quantity"),
        (RefundOrder("O1", "R1", {"L1": 3}), 409, "refund.exceeds_paid"),
    ],
)
def test_refund_refusals(cmd, status, code):
    book = Book()
    sold(book, **{"MILK-1L": 2})
    assert refused(cmd, book) == (status, code)


def test_a_refunded_or_frozen_order_refuses_a_refund():
    book = Book()
    sold(book, **{"MILK-1L": 1})
    book.apply(book.check(decide(RefundOrder("O1", "R1"), book), "T1"), "c1", "T1", 2, 2)
    assert refused(RefundOrder("O1", "R2"), book) == (409, "refund.nothing_left")
    other = Book()
    sold(other, **{"MILK-1L": 1})
    other.apply(decide(FreezeOrder("O1", "check it"), other), "m1", "", 2, 2)
    assert refused(RefundOrder("O1", "R1"), other) == (409, "order.frozen")


# ------------------------------------------------------------------ freeze, unfreeze


def test_freeze_and_unfreeze():
    book = Book()
    sold(book, **{"SOAP": 1})
    assert refused(UnfreezeOrder("O1"), book) == (409, "order.not_frozen")
    assert refused(FreezeOrder("O1", "  "), book) == (400, "order.reason_required")
    assert refused(FreezeOrder("NOPE", "x"), book) == (404, "order.not_found")
    ev = decide(FreezeOrder("O1", "many refunds", "refund_rule"), book)
    assert ev == OrderFrozen(order_id="O1", reason="many refunds", rule="refund_rule")
    book.apply(ev, "m1", "", 2, 2)
    assert refused(FreezeOrder("O1", "again"), book) == (409, "order.already_frozen")
    assert decide(UnfreezeOrder("O1", "checked"), book) == OrderUnfrozen("O1", "checked")
    assert refused(UnfreezeOrder("NOPE"), book) == (404, "order.not_found")


# ------------------------------------------------------------------ stock count


def test_a_count_keeps_the_level_it_replaces_as_of_the_book():
    book = Book()
    book.apply(StockReceived("MILK-1L", 10), "m1", "", 1, 1)
    sold(book, **{"MILK-1L": 3})
    ev = decide(CountStock("MILK-1L", 6), book)
    assert ev == StockCounted(sku="MILK-1L", counted=6, previous=7)
    book.apply(ev, "m1", "", 3, 3)
    assert decide(CountStock("MILK-1L", 5), book).previous == 6
    assert decide(CountStock("NEW", 4), book).previous == 0


@pytest.mark.parametrize("counted", [-1, "12", True, None, 1.5, 10**10])
def test_a_count_refusal(counted):
    assert refused(CountStock("MILK-1L", counted), Book()) == (400, "stock.bad_quantity")


def test_counts_in_one_commit_each_see_the_one_before(tmp_path: Path):
    """Two counts and a sale gathered into one group commit: each count's ``previous`` is the level
    after everything committed before it, never a level read before the batch."""
    ledger = Ledger(tmp_path / "journal.sqlite", clock=ManualClock())
    shop = Shop(ledger, Till("T1", CONFIG, CAT))
    shop.submit(StockReceived("SOAP", 20))
    shop.do("scan", {"code": "SOAP", "qty": 2})
    pay = shop.till.prepare(cid(), "pay", {"tenders": [{"kind": "cash", "amount": 4000}]}, shop.who)
    reqs = [
        Request(cid(), b"a", CountStock("SOAP", 15), "m1", "T1"),
        pay,
        Request(cid(), b"b", CountStock("SOAP", 11), "m1", "T1"),
    ]
    first, _, second = ledger.submit_batch(reqs)
    assert (first.body.previous, first.body.counted) == (20, 15)
    assert (second.body.previous, second.body.counted) == (13, 11)  # 15 - 2 sold
    assert ledger.book.stock.level("SOAP") == 11
    again = Ledger(ledger.journal.path)  # the book's levels come back from the journal
    assert again.book.stock.level("SOAP") == 11
    again.journal.close()
    ledger.journal.close()


def test_a_batch_level_set_counts_a_sale_committed_after_the_managers_look(tmp_path: Path):
    """``POST /v1/stock/batch`` sends the level wanted (``decide_batch_levels``); the ledger
    decides the adjustment at its commit. Before, the gateway computed the delta from the level
    it read, so a sale committed in between left the level off by what was sold."""
    from domain.stock_docs import decide_batch_levels

    ledger = Ledger(tmp_path / "journal.sqlite", clock=ManualClock())
    shop = Shop(ledger, Till("T1", CONFIG, CAT))
    shop.submit(StockReceived("SOAP", 20))
    cmds = decide_batch_levels([{"sku": "SOAP", "level": 50}], "correction")  # the look: 20
    shop.do("scan", {"code": "SOAP", "qty": 3})
    shop.do("pay", {"tenders": [{"kind": "cash", "amount": 10_000}]})  # a sale commits: 17
    ack = ledger.submit(Request(cid(), b"s", cmds[0], "m1", "T1"))
    assert (ack.kind, ack.body.delta, ack.body.reason) == ("stock.adjusted", 33, "correction")
    assert ledger.book.stock.level("SOAP") == 50
    with pytest.raises(KassaError) as exc:  # already there: nothing is journaled
        ledger.submit(Request(cid(), b"t", cmds[0], "m1", "T1"))
    assert exc.value.code == "stock.level_unchanged"
    ledger.journal.close()


# ------------------------------------------------------------------ the book's rules, as given


def test_require_open_day_is_what_the_book_is_given(tmp_path: Path):
    for required in (False, True):
        ledger = Ledger(
            tmp_path / f"j{required}.sqlite",
            clock=ManualClock(),
            rules=BookRules(require_open_day=required),
        )
        shop = Shop(ledger, Till("T1", CONFIG, CAT))
        shop.member("M1")
        if required:
            with pytest.raises(KassaError) as exc:
                shop.do("scan", {"code": "SOAP"})
            assert (exc.value.http_status, exc.value.code) == (409, "day.closed")
            with pytest.raises(KassaError) as exc:
                shop.submit(WalletToppedUp("M1", 100, "cash"), till="T1")
            assert exc.value.code == "day.closed"
            shop.submit(DayOpened("T1", "2026-01-02", 0), till="")
        assert shop.do("scan", {"code": "SOAP"})["event"] == "basket.line_added"
        shop.submit(WalletToppedUp("M1", 100, "cash"), till="T1")
        ledger.journal.close()
    assert Book().rules == BookRules(require_open_day=False)  # a book built without rules


def test_the_limits_are_the_books_own():
    tight = Book(BookRules(limits=Limits(max_topup=100)))
    loose = Book()
    tight.apply(tight.check(_member(), ""), "", "", 1, 1)
    loose.apply(loose.check(_member(), ""), "", "", 1, 1)
    with pytest.raises(KassaError) as exc:
        tight.check(WalletToppedUp("M1", 101, "cash"), "")
    assert exc.value.code == "amount.too_large"
    assert loose.check(WalletToppedUp("M1", 101, "cash"), "").balance_after == 101


def _member() -> MemberRegistered:
    return MemberRegistered("M1", "Member One")
