"""Exchanges decided in the ledger (``domain.exchange``), against ``actors.ledger.Ledger`` without
Ray: the returned part obeys the refund rules, the sold part is a normal sale, the difference is
settled either way, refund limits need a manager, and a replayed journal gives the same book."""

from __future__ import annotations

import pytest

from actors.ledger import LEDGER_METHODS, Ledger, Request
from domain.commands import FreezeOrder, RefundOrder
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.exchange import ExchangeItem, ExchangeOrder, quote
from domain.exchange_events import OrderExchanged
from domain.payments import TenderIn
from tests.unit.conftest import cid
from tests.unit.test_pickling import over_wire

SOAP = ExchangeItem("SOAP", {"en": "Bar soap"}, "each", 1, 2000, "std", 700, "household")
CHEESE = ExchangeItem("CHEESE", {"en": "Cheese"}, "each", 1, 50000, "std", 700, "dairy")


def sell(shop, lines: dict[str, int], tenders: list[dict]) -> dict:
    for sku, qty in lines.items():
        shop.do("add", {"sku": sku, "qty": qty})
    return shop.do("pay", {"tenders": tenders})["order"]


def line_of(order: dict, sku: str) -> str:
    return next(ln["line_id"] for ln in order["lines"] if ln["sku"] == sku)


def exchange(
    shop, order: dict, returned: dict[str, int], items, tenders=(), **kw
) -> OrderExchanged:
    cmd = ExchangeOrder(
        order_id=order["order_id"],
        exchange_id=cid(),
        sold_id=cid(),
        returned={line_of(order, s): q for s, q in returned.items()},
        items=tuple(items),
        tenders=tuple(TenderIn(**t) for t in tenders),
        cash_increment=25,
        **kw,
    )
    return shop.submit(cmd).body


def test_positive_difference_customer_pays_the_rest(shop):
    order = sell(
        shop,
        {"MILK-1L": 2},
        [{"kind": "card", "amount": 9000, "reference": "TRM-1", "last4": "4242"}],
    )
    ex = exchange(shop, order, {"MILK-1L": 1}, [CHEESE], [{"kind": "cash", "amount": 50000}])
    assert ex.returned.amount == 4500 and ex.sold.total == 50000
    assert ex.credit_total == 4500 and ex.credit[0].kind == "card"  # from the original card
    assert ex.difference == 45500  # 50000 - 4500 in cash, rounded to 25 (already)
    cash = [p for p in ex.sold.payments if p.kind == "cash"][0]
    assert cash.amount == 45500 and cash.change == 4500
    assert ex.sold.number and ex.returned.number and ex.sold.number != order["number"]
    book = shop.ledger.book
    assert book.orders[ex.sold.order_id].order.total == 50000  # a normal, findable sale
    assert book.order(order["order_id"]).refunded_qty == {line_of(order, "MILK-1L"): 1}
    assert book.stock.level("CHEESE") == -1 and book.stock.level("MILK-1L") == -1


def test_negative_difference_goes_back_by_the_refund_tender_rules(shop):
    order = sell(shop, {"CHEESE": 1}, [{"kind": "cash", "amount": 50000}])
    ex = exchange(shop, order, {"CHEESE": 1}, [SOAP])
    assert ex.returned.amount == 50000 and ex.sold.total == 2000
    back = ex.returned.tenders[len(ex.credit) :]
    assert [t.kind for t in back] == ["cash"] and back[0].amount == 48000
    assert ex.difference == -48000
    assert ex.sold.payments == ex.credit and ex.credit_total == 2000
    # nothing is left to refund on the original: the whole order was returned
    with pytest.raises(Conflict) as exc:
        shop.submit(RefundOrder(order["order_id"], cid(), None, cash_increment=25))
    assert exc.value.code == "refund.nothing_left"


def test_the_new_order_refunds_back_to_real_tenders(shop):
    order = sell(
        shop,
        {"MILK-1L": 1},
        [{"kind": "card", "amount": 4500, "reference": "TRM-2", "last4": "4242"}],
    )
    ex = exchange(shop, order, {"MILK-1L": 1}, [SOAP, SOAP])  # 4000 of 4500 credit
    assert ex.difference == -500 and ex.returned.tenders[-1].kind == "card"
    r = shop.submit(RefundOrder(ex.sold.order_id, cid(), None, cash_increment=25)).body
    assert [(t.kind, t.reference, t.amount) for t in r.tenders] == [("card", "TRM-2", 4000)]


def test_returned_part_obeys_the_refund_rules(shop):
    order = sell(shop, {"MILK-1L": 1}, [{"kind": "cash", "amount": 4500}])
    with pytest.raises(Conflict) as exc:
        exchange(shop, order, {"MILK-1L": 2}, [SOAP])
    assert exc.value.code == "refund.exceeds_paid"
    with pytest.raises(InvalidInput) as bad:
        exchange(shop, order, {}, [SOAP])
    assert bad.value.code == "refund.no_lines"
    shop.submit(FreezeOrder(order["order_id"], "checking"))
    with pytest.raises(Conflict) as frozen:
        exchange(shop, order, {"MILK-1L": 1}, [SOAP])
    assert frozen.value.code == "order.frozen"


def test_nothing_sold_or_unpaid_difference_is_refused(shop):
    order = sell(shop, {"MILK-1L": 1}, [{"kind": "cash", "amount": 4500}])
    with pytest.raises(Conflict) as empty:
        exchange(shop, order, {"MILK-1L": 1}, [])
    assert empty.value.code == "basket.empty"
    with pytest.raises(InvalidInput) as unpaid:
        exchange(shop, order, {"MILK-1L": 1}, [CHEESE])
    assert unpaid.value.code == "payment.none"
    assert shop.ledger.book.order(order["order_id"]).refunded_qty == {}


def test_refund_limit_needs_a_manager_for_refunds_and_exchanges(shop):
    order = sell(shop, {"CHEESE": 1}, [{"kind": "cash", "amount": 50000}])
    with pytest.raises(Forbidden) as exc:
        exchange(shop, order, {"CHEESE": 1}, [SOAP], refund_limit=10000)
    assert exc.value.code == "refund.needs_manager"
    assert exc.value.details["action"] == "orders.refund_over_limit"
    with pytest.raises(Forbidden):
        shop.submit(RefundOrder(order["order_id"], cid(), None, cash_increment=25, refund_limit=1))
    ok = shop.submit(
        RefundOrder(
            order["order_id"], cid(), None, cash_increment=25, refund_limit=1, limit_ok=True
        )
    ).body
    assert ok.amount == 50000


def test_an_exchange_paying_more_than_it_returns_is_not_a_large_refund(shop):
    order = sell(shop, {"SOAP": 1}, [{"kind": "cash", "amount": 2000}])
    ex = exchange(
        shop, order, {"SOAP": 1}, [CHEESE], [{"kind": "cash", "amount": 48000}], refund_limit=1
    )
    assert ex.difference == 48000


def test_replay_gives_the_same_book_and_the_command_crosses_the_wire(shop, tmp_path):
    order = sell(shop, {"MILK-1L": 2}, [{"kind": "cash", "amount": 9000}])
    ex = exchange(shop, order, {"MILK-1L": 2}, [SOAP])
    path = shop.ledger.journal.path
    again = Ledger(path)
    assert again.book.order(ex.sold.order_id).order == ex.sold
    assert again.book.order(order["order_id"]).refunded_qty == (
        shop.ledger.book.order(order["order_id"]).refunded_qty
    )
    assert again.book.stock.levels == shop.ledger.book.stock.levels
    again.journal.close()
    cmd = ExchangeOrder("O1", "E" * 36, "S" * 36, {"L1": 1}, (SOAP,), (TenderIn("cash", 100),))
    req = Request("c" * 36, b"h", cmd, "m1", "T1")
    assert over_wire(LEDGER_METHODS["submit"], req) == req


def test_quote_matches_the_decision(shop):
    order = sell(shop, {"MILK-1L": 3}, [{"kind": "cash", "amount": 13500}])
    rec = shop.ledger.book.order(order["order_id"])
    q = quote(rec, {line_of(order, "MILK-1L"): 1}, (SOAP,), True)
    ex = exchange(shop, order, {"MILK-1L": 1}, [SOAP])
    assert (q["returned"], q["sold"], q["difference"]) == (4500, 2000, -2500)
    assert ex.difference == -2500


def test_wallet_credit_and_money_back_keep_balances_and_read_models_exact(shop):
    from actors.projections import StockView, WalletView

    m = shop.member("M7", topup=60000)
    order = sell(shop, {"CHEESE": 1}, [{"kind": "wallet", "amount": 50000, "member": m}])
    assert shop.ledger.book.balance(m) == 10000
    ex = exchange(shop, order, {"CHEESE": 1}, [SOAP])
    assert [(t.kind, t.amount) for t in ex.returned.tenders] == [
        ("wallet", 2000),
        ("wallet", 48000),
    ]
    assert shop.ledger.book.balance(m) == 58000  # 60 000 - 2 000 for the soap
    wallets, stock = WalletView(), StockView()
    envs = shop.ledger.read(0, 1000)
    wallets.apply(envs)
    stock.apply(envs)
    assert wallets.balances[m] == 58000
    assert stock.book.levels == shop.ledger.book.stock.levels
    assert stock.book.level("CHEESE") == 0 and stock.book.level("SOAP") == -1
