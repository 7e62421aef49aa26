"""Every till command's handler (domain.till_handlers), without Ray or sockets: what it accepts, and
each refusal with its code and HTTP status, from the wire's plain data (parse_till_command) to the
event. The codes are the ones the store answered before the commands were typed."""

from __future__ import annotations

from typing import Any

import pytest

from actors.till import Till, Who
from domain.basket import Basket, apply_basket, decide_add, decide_park
from domain.catalogue import CatalogueIndex, decode_scan
from domain.errors import KassaError
from domain.events import (
    BasketParked,
    BasketResumed,
    BasketVoided,
    LineAdded,
    LineDiscounted,
    LineRemoved,
    OrderCompleted,
    OrderDiscounted,
    QuantityChanged,
)
from domain.money import DEFAULT_LIMITS, Limits
from domain.till_commands import TILL_COMMANDS, AddSku, Pay, Scan, parse_till_command
from domain.till_handlers import TILL_HANDLERS, Counter, decide_till_command
from tests.unit.conftest import MILK_EAN, ean, make_config, sample_products

CAT = CatalogueIndex(sample_products(), version="test-1")
CONFIG = make_config()
MILK = CAT.by_sku["MILK-1L"]  # 45.00, std tax
APPLE = CAT.by_sku["APPLE"]  # 80.00 per kg


def basket(*skus: str, parked: bool = False, bid: str = "B1") -> Basket:
    b = Basket(bid, "T1")
    for sku in skus:
        p = CAT.by_sku[sku]
        b = apply_basket(b, decide_add(b, p, 700, weight_g=500 if p.unit == "kg" else None))
    return apply_basket(b, decide_park(b)) if parked else b


def at(
    current: Basket | None = None,
    *others: Basket,
    limit_bp: int = 1000,
    approved_by: str = "",
    config: Any = CONFIG,
) -> Counter:
    baskets = {b.basket_id: b for b in (current, *others) if b is not None}
    return Counter("T1", current, baskets, config, CAT, limit_bp, approved_by)


def decide(op: str, args: Any, where: Counter) -> Any:
    return decide_till_command(parse_till_command(op, args), where)


def refused(op: str, args: Any, where: Counter) -> tuple[int, str]:
    with pytest.raises(KassaError) as exc:
        decide(op, args, where)
    return exc.value.http_status, exc.value.code


def test_every_op_has_its_command_and_one_handler():
    assert sorted(TILL_COMMANDS) == [
        "add",
        "discount_line",
        "discount_order",
        "member",
        "park",
        "pay",
        "quantity",
        "remove",
        "resume",
        "scan",
        "void",
    ]
    assert set(TILL_HANDLERS) == set(TILL_COMMANDS.values())
    cmd = parse_till_command("scan", {"code": MILK_EAN, "qty": 2, "extra": "ignored"})
    assert cmd == Scan(code=MILK_EAN, qty=2)
    with pytest.raises(AttributeError):  # commands are values
        cmd.qty = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "op, args, status, code",
    [
        ("teleport", {}, 400, "till.unknown_operation"),
        ("scan", ["not", "an", "object"], 400, "input.invalid"),
        ("park", {"note": 5}, 400, "input.invalid"),  # a field without a code of its own
        ("void", {"reason": ["x"]}, 400, "input.invalid"),
    ],
)
def test_the_wire_is_parsed_once_with_coded_refusals(op, args, status, code):
    assert refused(op, args, at(basket("MILK-1L"))) == (status, code)


# ------------------------------------------------------------------ scan and add


def test_scan_adds_a_line_to_a_new_basket_or_the_open_one():
    ev = decide("scan", {"code": MILK_EAN, "qty": 2}, at())
    assert isinstance(ev, LineAdded) and (ev.sku, ev.qty, ev.line_id) == ("MILK-1L", 2, "L1")
    assert ev.basket  # a new basket's id
    ev = decide("scan", {"code": "BREAD"}, at(basket("MILK-1L")))
    assert (ev.basket, ev.line_id, ev.qty) == ("B1", "L2", 1)
    weighed = decide("scan", {"code": ean("230004201500")}, at())  # 1.500 kg from the label
    assert (weighed.sku, weighed.qty, weighed.embedded) == ("APPLE", 1500, True)


@pytest.mark.parametrize(
    "args, status, code",
    [
        ({}, 400, "scan.bad_code"),
        ({"code": 885}, 400, "scan.bad_code"),
        ({"code": "  "}, 400, "scan.bad_code"),
        ({"code": "8" * 65}, 400, "scan.bad_code"),
        ({"code": "NOSUCH"}, 404, "product.not_found"),
        ({"code": "OLD"}, 409, "product.not_sellable"),
        ({"code": "APPLE"}, 400, "basket.weight_required"),
        ({"code": "APPLE", "weight_g": 0}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "qty": 0}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "qty": "2"}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "qty": True}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "qty": 2.0}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "weight_g": "heavy"}, 400, "basket.bad_quantity"),
        ({"code": "MILK-1L", "qty": 2**63}, 400, "quantity.too_large"),
        ({"code": "CHEESE", "qty": 3}, 400, "amount.too_large"),  # over the store's largest order
    ],
)
def test_scan_refusals(args, status, code):
    small_shop = make_config(limits=Limits(max_order_total=100_000))
    assert refused("scan", args, at(config=small_shop)) == (status, code)


def test_scan_into_a_parked_basket_is_refused():
    # the till never has a parked basket open; the handler refuses one all the same
    assert refused("scan", {"code": MILK_EAN}, at(basket("BREAD", parked=True))) == (
        409,
        "basket.parked",
    )


def test_add_by_sku():
    ev = decide("add", {"sku": "APPLE", "weight_g": 750}, at())
    assert (ev.sku, ev.unit, ev.qty) == ("APPLE", "kg", 750)
    assert parse_till_command("add", {"sku": "SOAP"}) == AddSku(sku="SOAP")


@pytest.mark.parametrize(
    "args, status, code",
    [
        ({}, 404, "product.not_found"),
        ({"sku": "NOSUCH"}, 404, "product.not_found"),
        ({"sku": 12}, 404, "product.not_found"),
        ({"sku": "OLD"}, 409, "product.not_sellable"),
        ({"sku": "APPLE"}, 400, "basket.weight_required"),
        ({"sku": "SOAP", "qty": -1}, 400, "basket.bad_quantity"),
        ({"sku": "SOAP", "qty": DEFAULT_LIMITS.max_line_qty + 1}, 400, "quantity.too_large"),
    ],
)
def test_add_refusals(args, status, code):
    assert refused("add", args, at()) == (status, code)


# ------------------------------------------------------------------ lines


def test_remove_and_quantity():
    b = basket("MILK-1L", "SOAP")
    ev = decide("remove", {"line_id": "L2"}, at(b))
    assert ev == LineRemoved(basket="B1", line_id="L2")
    ev = decide("quantity", {"line_id": "L1", "qty": 3}, at(b))
    assert ev == QuantityChanged(basket="B1", line_id="L1", qty=3)


@pytest.mark.parametrize(
    "op, args, where, status, code",
    [
        ("remove", {"line_id": "L1"}, at(), 409, "basket.none"),
        ("remove", {"line_id": "L9"}, at(basket("MILK-1L")), 404, "basket.line_not_found"),
        ("remove", {}, at(basket("MILK-1L")), 404, "basket.line_not_found"),
        ("remove", {"line_id": 1}, at(basket("MILK-1L")), 404, "basket.line_not_found"),
        ("remove", {"line_id": "L1"}, at(basket("MILK-1L", parked=True)), 409, "basket.parked"),
        ("quantity", {"line_id": "L1", "qty": 2}, at(), 409, "basket.none"),
        (
            "quantity",
            {"line_id": "L9", "qty": 2},
            at(basket("MILK-1L")),
            404,
            "basket.line_not_found",
        ),
        ("quantity", {"line_id": "L1"}, at(basket("MILK-1L")), 400, "basket.bad_quantity"),
        (
            "quantity",
            {"line_id": "L1", "qty": "lots"},
            at(basket("MILK-1L")),
            400,
            "basket.bad_quantity",
        ),
        (
            "quantity",
            {"line_id": "L1", "qty": 2**63},
            at(basket("MILK-1L")),
            400,
            "quantity.too_large",
        ),
    ],
)
def test_line_refusals(op, args, where, status, code):
    assert refused(op, args, where) == (status, code)


def test_a_labelled_items_quantity_is_fixed():
    b = Basket("B1", "T1")
    scan = decode_scan(ean("230004201500"))
    b = apply_basket(b, decide_add(b, APPLE, 0, scan=scan))
    assert refused("quantity", {"line_id": "L1", "qty": 2000}, at(b)) == (
        409,
        "basket.embedded_fixed",
    )


# ------------------------------------------------------------------ discounts


def test_discounts_within_the_limit_or_approved():
    b = basket("MILK-1L")
    ev = decide("discount_line", {"line_id": "L1", "kind": "pct", "value": 1000}, at(b))
    assert ev == LineDiscounted(basket="B1", line_id="L1", kind="pct", value=1000)
    ev = decide("discount_order", {"kind": "amount", "value": 4500}, at(b, approved_by="m1"))
    assert ev == OrderDiscounted(basket="B1", kind="amount", value=4500, approved_by="m1")


@pytest.mark.parametrize(
    "op, args, where, status, code",
    [
        ("discount_line", {"line_id": "L1", "kind": "pct", "value": 1}, at(), 409, "basket.none"),
        (
            "discount_line",
            {"line_id": "L9", "kind": "pct", "value": 1},
            at(basket("MILK-1L")),
            404,
            "basket.line_not_found",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "gift", "value": 1},
            at(basket("MILK-1L")),
            400,
            "discount.bad_kind",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": 7, "value": 1},
            at(basket("MILK-1L")),
            400,
            "discount.bad_kind",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "pct"},
            at(basket("MILK-1L")),
            400,
            "discount.bad_value",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "pct", "value": "5"},
            at(basket("MILK-1L")),
            400,
            "discount.bad_value",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "pct", "value": 10001},
            at(basket("MILK-1L")),
            400,
            "discount.bad_value",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "amount", "value": 4501},
            at(basket("MILK-1L"), limit_bp=10000),
            400,
            "discount.too_large",
        ),
        (
            "discount_line",
            {"line_id": "L1", "kind": "pct", "value": 2000},
            at(basket("MILK-1L")),
            403,
            "discount.over_limit",
        ),
        ("discount_order", {"kind": "pct", "value": 1}, at(), 409, "basket.none"),
        (
            "discount_order",
            {"kind": "pct", "value": 1},
            at(Basket("B1", "T1")),
            409,
            "basket.empty",
        ),
        (
            "discount_order",
            {"kind": "pct", "value": 1},
            at(basket("MILK-1L", parked=True)),
            409,
            "basket.parked",
        ),
        ("discount_order", {"value": 1}, at(basket("MILK-1L")), 400, "discount.bad_kind"),
        (
            "discount_order",
            {"kind": "pct", "value": -1},
            at(basket("MILK-1L")),
            400,
            "discount.bad_value",
        ),
        (
            "discount_order",
            {"kind": "pct", "value": 2000},
            at(basket("MILK-1L")),
            403,
            "discount.over_limit",
        ),
    ],
)
def test_discount_refusals(op, args, where, status, code):
    assert refused(op, args, where) == (status, code)


# ------------------------------------------------------------------ park, resume, void


def test_park_resume_void():
    assert decide("park", {"note": "back soon"}, at(basket("MILK-1L"))) == BasketParked(
        basket="B1", note="back soon"
    )
    parked = basket("MILK-1L", parked=True, bid="P1")
    assert decide("resume", {"basket": "P1"}, at(None, parked)) == BasketResumed(basket="P1")
    # an empty open basket does not stop a resume
    assert decide("resume", {"basket": "P1"}, at(Basket("B2", "T1"), parked)).basket == "P1"
    ev = decide("void", {"reason": "changed mind"}, at(basket("MILK-1L")))
    assert ev == BasketVoided(basket="B1", reason="changed mind", lines=1, amount=4500)
    assert decide("void", {}, at(basket("MILK-1L", parked=True))).basket == "B1"


@pytest.mark.parametrize(
    "op, args, where, status, code",
    [
        ("park", {}, at(), 409, "basket.none"),
        ("park", {}, at(Basket("B1", "T1")), 409, "basket.empty"),
        ("park", {}, at(basket("MILK-1L", parked=True)), 409, "basket.parked"),
        (
            "resume",
            {"basket": "P1"},
            at(basket("MILK-1L"), basket("SOAP", parked=True, bid="P1")),
            409,
            "basket.open",
        ),
        (
            "resume",
            {"basket": "P9"},
            at(None, basket("SOAP", parked=True, bid="P1")),
            404,
            "basket.not_found",
        ),
        ("resume", {}, at(None, basket("SOAP", parked=True, bid="P1")), 404, "basket.not_found"),
        (
            "resume",
            {"basket": 1},
            at(None, basket("SOAP", parked=True, bid="P1")),
            404,
            "basket.not_found",
        ),
        ("resume", {"basket": "B1"}, at(Basket("B1", "T1")), 409, "basket.not_parked"),
        ("void", {}, at(), 409, "basket.none"),
    ],
)
def test_park_resume_void_refusals(op, args, where, status, code):
    assert refused(op, args, where) == (status, code)


# ------------------------------------------------------------------ pay


def card(amount: int, **kw: Any) -> dict:
    return {"kind": "card", "amount": amount, "reference": "AUTH-1", "last4": "4242", **kw}


def test_pay_settles_the_basket():
    b = basket("MILK-1L", "BREAD")  # 45.00 + 35.00
    ev = decide("pay", {"tenders": [card(3000), {"kind": "cash", "amount": 10000}]}, at(b))
    assert isinstance(ev, OrderCompleted) and ev.order_id == "B1" and ev.total == 8000
    assert [(p.kind, p.amount) for p in ev.payments] == [("card", 3000), ("cash", 5000)]
    assert ev.change == 5000 and ev.member == "" and ev.number == ""  # the ledger numbers it
    ev = decide("pay", {"tenders": [{"kind": "wallet", "amount": 8000, "member": "M7"}]}, at(b))
    assert ev.member == "M7"  # the one member whose wallet pays
    ev = decide("pay", {"tenders": [card(8000)], "member": "M8"}, at(b))
    assert ev.member == "M8"
    free = decide(
        "discount_order", {"kind": "pct", "value": 10000}, at(basket("SOAP"), approved_by="m1")
    )
    assert free.value == 10000
    paid = decide("pay", {"tenders": []}, at(apply_basket(basket("SOAP"), free)))
    assert (paid.total, paid.payments) == (0, ())
    assert parse_till_command("pay", {"tenders": [card(1)]}).tenders[0].last4 == "4242"
    assert isinstance(parse_till_command("pay", {"tenders": []}), Pay)


@pytest.mark.parametrize(
    "args, where, status, code",
    [
        ({"tenders": [card(4500)]}, at(), 409, "basket.none"),
        ({"tenders": [card(4500)]}, at(basket("MILK-1L", parked=True)), 409, "basket.parked"),
        ({"tenders": []}, at(Basket("B1", "T1")), 409, "basket.empty"),
        ({}, None, 400, "payment.bad_tenders"),
        ({"tenders": {"kind": "cash"}}, None, 400, "payment.bad_tenders"),
        ({"tenders": [card(1)] * 11}, None, 400, "payment.bad_tenders"),
        ({"tenders": [5]}, None, 400, "payment.bad_tender"),
        ({"tenders": [{"kind": "bitcoin", "amount": 4500}]}, None, 400, "payment.bad_kind"),
        ({"tenders": [{"kind": 3, "amount": 4500}]}, None, 400, "payment.bad_kind"),
        ({"tenders": [{"kind": "cash"}]}, None, 400, "payment.bad_amount"),
        ({"tenders": [{"kind": "cash", "amount": 0}]}, None, 400, "payment.bad_amount"),
        ({"tenders": [{"kind": "cash", "amount": "4500"}]}, None, 400, "payment.bad_amount"),
        ({"tenders": [card(4500, last4="42")]}, None, 400, "payment.bad_last4"),
        ({"tenders": [card(4500, last4=4242)]}, None, 400, "payment.bad_last4"),
        ({"tenders": [card(4500, reference=" ")]}, None, 400, "payment.no_reference"),
        (
            {"tenders": [card(4500, reference="4111111111111111")]},
            None,
            400,
            "payment.card_number_refused",
        ),
        ({"tenders": [{"kind": "wallet", "amount": 4500}]}, None, 400, "payment.no_member"),
        ({"tenders": [{"kind": "cash", "amount": 4000}]}, None, 400, "payment.insufficient"),
        ({"tenders": [card(5000)]}, None, 400, "payment.overpaid"),
        ({"tenders": [card(4000)]}, None, 400, "payment.unbalanced"),
        ({"tenders": []}, None, 400, "payment.none"),
        ({"tenders": [{"kind": "cash", "amount": 10**12}]}, None, 400, "amount.too_large"),
    ],
)
def test_pay_refusals(args, where, status, code):
    assert refused("pay", args, where or at(basket("MILK-1L"))) == (status, code)


# ------------------------------------------------------------------ through the till


def test_the_till_dispatches_to_the_handler_and_fingerprints_the_wire_args():
    till = Till("T1", CONFIG, CAT)
    who = Who("c1", "10.0.0.5", 1000, "")
    args = {"code": MILK_EAN, "qty": 2}
    req = till.prepare("c" * 36, "scan", args, who)
    assert isinstance(req.body, LineAdded) and req.body.qty == 2
    assert (req.staff, req.till, req.ip) == ("c1", "T1", "10.0.0.5")
    assert req.cmd == till.fingerprint("scan", args)  # a retry across versions still matches
    with pytest.raises(KassaError) as exc:
        till.prepare("c" * 36, "remove", {"line_id": "L1"}, who)
    assert exc.value.code == "basket.none"
