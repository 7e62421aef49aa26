"""Reconciling at the store (``actors.reconcile_store``, behind ``POST /v1/payments/reconcile``):
a statement's bytes with planted cases — one matched, one whose amount differs, one payment the
statement lacks, one line never journaled, a fee — against a real ledger's journal read on its own
read-only connection: every planted case is reported, nothing else, with the order's number; the
Payments tab says each in words (``kiosk.screens.payments_words``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actors.reconcile_store import mapping_names, reconcile_statement
from domain.errors import InvalidInput
from kiosk import i18n
from kiosk.screens.payments_words import pair_sentence, reconcile_summary


def card_sale(shop, sku: str, reference: str) -> dict:
    shop.do("add", {"sku": sku, "qty": 1})
    total = shop.till.view()["total"]
    tender = {"kind": "card", "amount": total, "reference": reference, "last4": "4242"}
    return shop.do("pay", {"tenders": [tender]})["order"]


def iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1e6, UTC).isoformat()


@pytest.fixture
def planted(shop, tmp_path):
    a = card_sale(shop, "MILK-1L", "RRN-1")
    b = card_sale(shop, "MILK-1L", "RRN-2")
    c = card_sale(shop, "MILK-1L", "RRN-3")
    at = iso(shop.ledger.last_ts)
    csv = (
        "reference,amount,date,fee\n"
        f"RRN-1,{a['total'] / 100:.2f},{at},1.25\n"
        f"rrn-2 ,{(b['total'] + 100) / 100:.2f},{at},0.50\n"  # case and spaces ignored
        f"RRN-9,12.00,{at},0\n"
    )
    return tmp_path, csv.encode(), (a, b, c)


def test_every_planted_case_is_reported_and_nothing_else(shop, planted):
    data_dir, raw, (a, b, c) = planted
    rep = reconcile_statement(
        data_dir, raw, "acq.csv", "generic", store_id="S001", currency="THB", zone="UTC"
    )
    got = {(p["status"], p["reference"].upper().replace(" ", "")) for p in rep["pairs"]}
    assert got == {
        ("matched", "RRN-1"),
        ("amount_differs", "RRN-2"),
        ("missing", "RRN-3"),
        ("extra", "RRN-9"),
    }
    s = rep["summary"]
    assert (s["matched"], s["amount_differs"], s["missing"], s["extra"], s["fees"]) == (
        1,
        1,
        1,
        1,
        175,
    )
    assert [p["status"] for p in rep["pairs"]][-1] == "matched"  # what needs looking at first
    by = {p["status"]: p for p in rep["pairs"]}
    assert by["missing"]["order_number"] == c["number"]
    assert by["amount_differs"]["difference"] == 100 and rep["rows"] == 3
    assert rep["from"] == rep["to"]  # the statement's own day
    # in words, with money as money and no raw keys
    i18n.set_language("en")
    text = pair_sentence(by["missing"], "THB", "UTC")
    assert "statement does not show it" in text and c["number"] in text and "THB45.00" in text
    assert "2 apart" not in pair_sentence(by["amount_differs"], "THB", "UTC")
    assert "1.00 apart" in pair_sentence(by["amount_differs"], "THB", "UTC")
    assert "RRN-9" in pair_sentence(by["extra"], "THB", "UTC")
    summary = reconcile_summary(rep)
    assert "1 missing from the statement" in summary and "amount_differs" not in summary
    i18n.set_language("ar")
    try:
        assert "غير موجود في الكشف" in reconcile_summary(rep)
    finally:
        i18n.set_language("en")


def test_a_period_without_the_sales_lists_the_statement_as_extra(shop, planted):
    data_dir, raw, _ = planted
    rep = reconcile_statement(
        data_dir,
        raw,
        "acq.csv",
        "generic",
        store_id="S001",
        currency="THB",
        zone="UTC",
        day_from="2020-01-01",
        day_to="2020-01-31",
    )
    assert {p["status"] for p in rep["pairs"]} == {"extra"}


def test_a_bad_file_or_provider_is_refused_in_words(shop, planted):
    data_dir, raw, _ = planted
    with pytest.raises(InvalidInput) as exc:
        reconcile_statement(
            data_dir, raw, "acq.pdf", "generic", store_id="S", currency="THB", zone="UTC"
        )
    assert exc.value.code == "reconcile.bad_statement"
    with pytest.raises(InvalidInput) as exc:
        reconcile_statement(
            data_dir, raw, "acq.csv", "nobank", store_id="S", currency="THB", zone="UTC"
        )
    assert exc.value.code == "reconcile.unknown_provider"
    assert {"generic", "card-acquirer", "promptpay-bank"} <= {
        m["name"] for m in mapping_names(data_dir)
    }
