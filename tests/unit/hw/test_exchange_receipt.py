"""An exchange's receipts: the credit (the returned value that paid for the new items) is printed
as "Exchange credit" on the sale receipt and on the refund receipt, never under the original
tender's name (no card was charged, no cash left the drawer for it); money that did move (the
difference paid in cash, or given back) keeps its own tender's name."""

from __future__ import annotations

import msgspec

from hw.receipt import build_receipt, build_refund_receipt, exchange_receipts
from tests.unit.test_exchange import CHEESE, SOAP, exchange, sell


def text(receipt) -> list[str]:
    return receipt.text_lines(48)


def test_sale_receipt_names_the_credit_and_the_cash_paid(shop, config):
    order = sell(
        shop,
        {"MILK-1L": 2},
        [{"kind": "card", "amount": 9000, "reference": "TRM-1", "last4": "4242"}],
    )
    ex = exchange(shop, order, {"MILK-1L": 1}, [CHEESE], [{"kind": "cash", "amount": 50000}])
    returned, sold = exchange_receipts(msgspec.to_builtins(ex))
    sale = text(build_receipt(sold, config, "en"))
    assert any(ln.startswith("Exchange credit") and "45.00" in ln for ln in sale)
    assert not any(ln.startswith("Card") for ln in sale)  # the card was not charged again
    assert any(ln.startswith("Cash") and "455.00" in ln for ln in sale)  # money that moved
    refund = text(build_refund_receipt(returned, config, "en", original=order))
    assert any(ln.startswith("Exchange credit") and "45.00" in ln for ln in refund)
    assert not any(ln.startswith("Card") for ln in refund)  # nothing went back to the card


def test_money_given_back_keeps_its_tender_and_the_credit_is_named(shop, config):
    order = sell(shop, {"CHEESE": 1}, [{"kind": "cash", "amount": 50000}])
    ex = exchange(shop, order, {"CHEESE": 1}, [SOAP])
    returned, sold = exchange_receipts(msgspec.to_builtins(ex))
    sale = text(build_receipt(sold, config, "th"))
    assert any(ln.startswith("เครดิตจากการเปลี่ยนสินค้า") for ln in sale)
    assert not any(ln.startswith("เงินสด") for ln in sale)
    refund = text(build_refund_receipt(returned, config, "en", original=order))
    assert any(ln.startswith("Exchange credit") and "20.00" in ln for ln in refund)
    assert any(ln.startswith("Cash") and "480.00" in ln for ln in refund)  # given back in cash
