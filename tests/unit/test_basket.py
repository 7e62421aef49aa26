"""Baskets: lines, quantities, weighed items, discounts with role limits, park/resume/void."""

from __future__ import annotations

import pytest

from actors.till import Who
from domain.basket import (
    MAX_QTY,
    MAX_WEIGHT_G,
    Basket,
    apply_basket,
    decide_add,
    decide_line_discount,
    decide_order_discount,
    decide_park,
    decide_quantity,
    decide_remove,
    decide_resume,
    decide_void,
    price_basket,
)
from domain.catalogue import Product, decode_scan
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.conftest import MILK_EAN, ean

MILK = Product("MILK", {"en": "Milk"}, 4500)
TEA = Product("TEA", {"en": "Tea"}, 1999)
APPLE = Product("APPLE", {"en": "Apples"}, 8000, unit="kg", plu="00042")


def build(*events, basket=None):
    b = basket or Basket("B1", "T1")
    for ev in events:
        b = apply_basket(b, ev)
    return b


def add(b, product=MILK, **kw):
    return apply_basket(b, decide_add(b, product, kw.pop("rate_bp", 700), **kw))


# ------------------------------------------------------------------ lines and quantities


def test_add_change_quantity_and_remove_move_the_total():
    b = add(Basket("B1", "T1"))
    b = add(b, TEA, qty=3)
    assert [ln.line_id for ln in b.lines] == ["L1", "L2"]
    assert price_basket(b, True).total == 4500 + 3 * 1999
    b = apply_basket(b, decide_quantity(b, "L1", 4))
    assert price_basket(b, True).total == 4 * 4500 + 3 * 1999
    b = apply_basket(b, decide_remove(b, "L2"))
    assert price_basket(b, True).total == 4 * 4500
    # line ids are never reused after a removal
    b = add(b, TEA)
    assert b.lines[-1].line_id == "L3"


def test_unknown_line_is_not_found():
    b = add(Basket("B1", "T1"))
    for call in (lambda: decide_remove(b, "L9"), lambda: decide_quantity(b, "L9", 2)):
        with pytest.raises(NotFound) as exc:
            call()
        assert exc.value.code == "basket.line_not_found"


@pytest.mark.parametrize("qty", [0, -1, MAX_QTY + 1, 10**12, 1.5, "2", True])
def test_absurd_or_non_integer_quantities_are_refused(qty):
    b = Basket("B1", "T1")
    with pytest.raises(InvalidInput) as exc:
        decide_add(b, MILK, 700, qty=qty)
    too_large = isinstance(qty, int) and not isinstance(qty, bool) and qty > MAX_QTY
    assert exc.value.code == ("quantity.too_large" if too_large else "basket.bad_quantity")
    b = add(b)
    with pytest.raises(InvalidInput):
        decide_quantity(b, "L1", qty)


def test_largest_allowed_quantity_is_accepted():
    b = add(Basket("B1", "T1"), qty=MAX_QTY)
    assert b.lines[0].qty == MAX_QTY


def test_weighed_item_needs_a_weight():
    b = Basket("B1", "T1")
    with pytest.raises(InvalidInput) as exc:
        decide_add(b, APPLE, 0)
    assert exc.value.code == "basket.weight_required"
    with pytest.raises(InvalidInput):
        decide_add(b, APPLE, 0, weight_g=MAX_WEIGHT_G + 1)
    ev = decide_add(b, APPLE, 0, weight_g=1234)
    assert (ev.unit, ev.qty) == ("kg", 1234)
    # 1.234 kg at 80.00/kg = 98.72
    assert price_basket(apply_basket(b, ev), True).total == 9872


def test_weight_from_an_embedded_barcode():
    scan = decode_scan(ean("230004201500"))  # 1.500 kg of apples
    ev = decide_add(Basket("B1", "T1"), APPLE, 0, scan=scan)
    assert (ev.qty, ev.embedded) == (1500, True)
    b = apply_basket(Basket("B1", "T1"), ev)
    assert price_basket(b, True).total == 12000
    # the label fixes the quantity
    with pytest.raises(Conflict) as exc:
        decide_quantity(b, ev.line_id, 2000)
    assert exc.value.code == "basket.embedded_fixed"


def test_price_from_an_embedded_barcode():
    scan = decode_scan(ean("200004200999"))  # a pack of apples labelled 9.99
    ev = decide_add(Basket("B1", "T1"), APPLE, 0, scan=scan)
    assert (ev.unit, ev.qty, ev.unit_price, ev.embedded) == ("each", 1, 999, True)
    assert price_basket(apply_basket(Basket("B1", "T1"), ev), True).total == 999


def test_unsellable_product_is_refused():
    with pytest.raises(Conflict) as exc:
        decide_add(Basket("B1", "T1"), Product("OLD", {"en": "old"}, 1, sellable=False), 0)
    assert exc.value.code == "product.not_sellable"


def test_pricing_tax_exclusive_adds_tax_per_line():
    b = add(add(Basket("B1", "T1"), TEA, rate_bp=700), TEA, rate_bp=700)
    p = price_basket(b, prices_include_tax=False)
    # 19.99 * 7 % = 1.3993 -> 1.40 per line, rounded per line
    assert [ln.tax for ln in p.lines] == [140, 140]
    assert p.total == 2 * (1999 + 140)
    assert p.tax == 280 and p.subtotal == 3998


# ------------------------------------------------------------------ discounts


def test_line_discount_percent_and_amount():
    b = add(Basket("B1", "T1"), qty=2)  # 90.00
    b1 = apply_basket(b, decide_line_discount(b, "L1", "pct", 1000, limit_bp=1000))
    assert price_basket(b1, True).total == 8100
    b2 = apply_basket(b, decide_line_discount(b, "L1", "amount", 500, limit_bp=1000))
    assert price_basket(b2, True).total == 8500
    # a second line discount replaces the first, it does not stack
    b3 = apply_basket(b1, decide_line_discount(b1, "L1", "amount", 100, limit_bp=1000))
    assert price_basket(b3, True).total == 8900


def test_order_discount_is_spread_over_lines_and_sums_exactly():
    b = add(add(add(Basket("B1", "T1")), TEA), Product("X", {"en": "x"}, 1), rate_bp=0)
    before = price_basket(b, True)
    b = apply_basket(b, decide_order_discount(b, "amount", 1000, limit_bp=10000))
    p = price_basket(b, True)
    assert p.total == before.total - 1000
    assert p.discount == 1000
    assert sum(ln.discount for ln in p.lines) == 1000
    assert all(ln.amount >= 0 for ln in p.lines)
    # tax is recomputed on the discounted line amounts
    assert p.tax < before.tax


def test_discount_over_the_role_limit_needs_approval():
    b = add(Basket("B1", "T1"), qty=2)  # 90.00; a cashier may give 10 % = 9.00
    decide_line_discount(b, "L1", "amount", 900, limit_bp=1000)
    for call in (
        lambda: decide_line_discount(b, "L1", "amount", 901, limit_bp=1000),
        lambda: decide_line_discount(b, "L1", "pct", 1001, limit_bp=1000),
        lambda: decide_order_discount(b, "pct", 1500, limit_bp=1000),
        lambda: decide_order_discount(b, "amount", 1000, limit_bp=1000),
    ):
        with pytest.raises(Forbidden) as exc:
            call()
        assert exc.value.code == "discount.over_limit"
    ev = decide_line_discount(b, "L1", "pct", 5000, limit_bp=1000, approved_by="manager-1")
    assert ev.approved_by == "manager-1"
    assert decide_order_discount(b, "pct", 5000, limit_bp=10000).value == 5000


@pytest.mark.parametrize(
    "kind, value, code",
    [
        ("pct", 10001, "discount.bad_value"),
        ("pct", -1, "discount.bad_value"),
        ("amount", 9001, "discount.too_large"),
        ("amount", 1.5, "discount.bad_value"),
        ("free", 1, "discount.bad_kind"),
    ],
)
def test_nonsense_discounts_are_refused(kind, value, code):
    b = add(Basket("B1", "T1"), qty=2)
    with pytest.raises(InvalidInput) as exc:
        decide_line_discount(b, "L1", kind, value, limit_bp=10000, approved_by="m")
    assert exc.value.code == code


def test_order_discount_on_empty_basket_is_refused():
    with pytest.raises(Conflict):
        decide_order_discount(Basket("B1", "T1"), "pct", 100, limit_bp=10000)


def test_discounted_total_never_negative_after_quantity_drops():
    b = add(Basket("B1", "T1"), qty=3)
    b = apply_basket(b, decide_line_discount(b, "L1", "amount", 10000, 10000))
    b = apply_basket(b, decide_quantity(b, "L1", 1))
    assert price_basket(b, True).total == 0


# ------------------------------------------------------------------ park, resume, void


def test_park_freezes_the_basket_until_resumed():
    b = add(Basket("B1", "T1"))
    with pytest.raises(Conflict):
        decide_resume(b)
    b = apply_basket(b, decide_park(b, "customer forgot wallet"))
    assert b.parked
    for call in (
        lambda: decide_add(b, MILK, 700),
        lambda: decide_remove(b, "L1"),
        lambda: decide_quantity(b, "L1", 2),
        lambda: decide_park(b),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "basket.parked"
    b = apply_basket(b, decide_resume(b))
    assert not b.parked
    assert decide_quantity(b, "L1", 2).qty == 2


def test_empty_basket_cannot_be_parked():
    with pytest.raises(Conflict):
        decide_park(Basket("B1", "T1"))


def test_void_records_what_was_thrown_away():
    b = add(add(Basket("B1", "T1"), qty=2), TEA)
    ev = decide_void(b, True, "customer left")
    assert (ev.lines, ev.amount, ev.reason) == (2, 9000 + 1999, "customer left")


# ------------------------------------------------------------------ through the till and ledger


def test_till_scan_park_resume_and_void(shop):
    r = shop.do("scan", {"code": MILK_EAN, "qty": 2})
    first = r["view"]["basket"]
    assert r["view"]["total"] == 9000
    shop.do("park", {"note": "later"})
    assert shop.till.view()["basket"] is None
    assert [p["basket"] for p in shop.till.view()["parked"]] == [first]
    r = shop.do("scan", {"code": "WATER"})
    second = r["view"]["basket"]
    assert second != first and r["view"]["total"] == 1000
    with pytest.raises(Conflict) as exc:  # a second customer is at the till
        shop.till.prepare("cmd-resume-1", "resume", {"basket": first}, shop.who)
    assert exc.value.code == "basket.open"
    r = shop.do("void", {"reason": "changed mind"})
    assert r["view"]["basket"] is None
    r = shop.do("resume", {"basket": first})
    assert r["view"]["basket"] == first and r["view"]["total"] == 9000
    # a voided basket stays closed in the book
    assert second in shop.ledger.book.closed_baskets


def test_till_discount_limits_follow_who_asks(shop):
    shop.do("scan", {"code": MILK_EAN, "qty": 2})
    cashier = Who(staff="c1", limit_bp=1000)
    with pytest.raises(Forbidden) as exc:
        shop.do("discount_order", {"kind": "pct", "value": 2000}, who=cashier)
    assert exc.value.code == "discount.over_limit"
    approved = Who(staff="c1", limit_bp=1000, approved_by="boss")
    r = shop.do("discount_order", {"kind": "pct", "value": 2000}, who=approved)
    assert r["view"]["total"] == 7200
    events = [e.kind for e in shop.ledger.read()]
    assert events.count("basket.order_discounted") == 1  # the refused one left no trace


def test_till_refuses_unknown_products_and_weighed_without_weight(shop):
    with pytest.raises(NotFound):
        shop.do("scan", {"code": "NOSUCH"})
    with pytest.raises(NotFound):
        shop.do("add", {"sku": "NOSUCH"})
    with pytest.raises(InvalidInput) as exc:
        shop.do("add", {"sku": "APPLE"})
    assert exc.value.code == "basket.weight_required"
    assert shop.ledger.seq == 0


def test_till_rebuilds_its_baskets_from_the_journal(shop, catalogue, config):
    from actors.till import Till

    shop.do("scan", {"code": MILK_EAN})
    shop.do("park", {})
    shop.do("add", {"sku": "APPLE", "weight_g": 500})
    shop.do("quantity", {"line_id": "L1", "qty": 750})
    before = shop.till.view()
    t2 = Till("T1", config, catalogue)
    t2.rebuild(shop.ledger.open_basket_events("T1"))
    assert t2.view() == before


def test_retry_after_a_lost_answer_shows_what_the_journal_holds(shop, catalogue, config):
    from actors.till import Till

    shop.do("scan", {"code": "WATER"})
    # the ledger committed the scan but its answer never reached the till
    shop.ledger.submit(shop.till.prepare("scan-lost-0001", "scan", {"code": MILK_EAN}, shop.who))
    r = shop.do("scan", {"code": MILK_EAN}, command_id="scan-lost-0001")  # the kiosk retries
    assert r["duplicate"]
    assert [ln["sku"] for ln in r["view"]["lines"]] == ["WATER", "MILK-1L"]
    shop.do("scan", {"code": "SOAP"})
    # a second retry of an answer the till already has changes nothing
    r = shop.do("scan", {"code": MILK_EAN}, command_id="scan-lost-0001")
    assert r["duplicate"] and len(r["view"]["lines"]) == 3
    rebuilt = Till("T1", config, catalogue)
    rebuilt.rebuild(shop.ledger.open_basket_events("T1"))
    assert rebuilt.view() == shop.till.view()
    ids = [ln["line_id"] for ln in rebuilt.view()["lines"]]
    assert len(ids) == len(set(ids))


def test_retried_pay_after_a_lost_answer_closes_the_basket(shop):
    shop.do("scan", {"code": "WATER"})
    tenders = {"tenders": [{"kind": "cash", "amount": 1000}]}
    shop.ledger.submit(shop.till.prepare("pay-lost-0001", "pay", tenders, shop.who))
    r = shop.do("pay", tenders, command_id="pay-lost-0001")
    assert r["duplicate"] and r["order"]["total"] == 1000
    assert shop.till.view()["basket"] is None


def test_a_command_resent_after_its_basket_was_paid_and_the_till_rebuilt_changes_nothing(
    shop, catalogue, config
):
    """A kiosk resends a scan whose basket was paid since; the till was rebuilt in between (a
    restart). The repeat answers "duplicate" and neither brings the old basket back nor stops the
    next sale."""
    from actors.till import Till

    shop.do("scan", {"code": "WATER"}, command_id="scan-old-0001")
    shop.do("pay", {"tenders": [{"kind": "cash", "amount": 1000}]})
    shop.till = Till("T1", config, catalogue)
    shop.till.rebuild(*reversed(shop.ledger.till_state("T1")))
    r = shop.do("scan", {"code": "WATER"}, command_id="scan-old-0001")
    assert r["duplicate"] and r["view"]["basket"] is None and r["view"]["lines"] == []
    r = shop.do("scan", {"code": MILK_EAN})
    assert not r["duplicate"] and [ln["sku"] for ln in r["view"]["lines"]] == ["MILK-1L"]
    shop.do("remove", {"line_id": r["view"]["lines"][0]["line_id"]})
    shop.do("void", {"reason": "test"})
    assert shop.till.view()["basket"] is None
