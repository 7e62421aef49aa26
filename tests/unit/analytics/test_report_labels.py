"""Every key the store's reports return has a label a person reads (``kiosk.report_labels``),
and a report laid out for the screen shows labels and formatted values, never keys."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from analytics.store import FIGURES, StoreAnalytics
from analytics.store_sales import DIMENSIONS
from kiosk import i18n
from kiosk.report_doc import build_doc
from kiosk.report_labels import COUNTS, LABELS, MONEY, label, value_text

RAW = re.compile(r"[a-z]+_[a-z0-9_]+|\[\d+\]|\b[a-z]+\.[a-z_]+\b")


def keys(data: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            out |= {k} | keys(v)
    elif isinstance(data, list):
        for v in data:
            out |= keys(v)
    return out


@pytest.fixture(scope="module")
def reports(history) -> list[dict]:
    sa = StoreAnalytics(":memory:", history.shop.zone, history.shop.store_id)
    sa.ingest(history.envelopes)
    day = history.start + timedelta(days=3)
    staff = sa.x_report(day)["by_staff"][0]["staff"]
    out = [
        sa.fresh_report(name, kw, sa.last_seq)
        for name, kw in (
            ("x_report", {"day": day}),
            ("x_report", {"day": day, "till": "T1"}),
            ("z_report", {"day": day}),
            ("cashier_report", {"staff": staff, "day": day}),
        )
    ]
    # refunds and voids of any day, so that their lists' columns are seen too
    rv = sa.refunds_and_voids(history.start, history.start + timedelta(days=27))
    out.append(
        {"refund_list": rv["refunds"].to_dicts()[:3], "void_list": rv["voids"].to_dicts()[:3]}
    )
    for dim in ("hour", "category", "till"):
        out.append({"rows": sa.sales_by(dim, day, day).to_dicts()})
    sa.close()
    return out


def test_every_key_the_reports_return_has_a_label(reports):
    seen = set().union(*(keys(r) for r in reports)) - {"rows"}
    assert set(FIGURES) <= seen and "refund_id" in seen and "basket" in seen
    assert sorted(seen - set(LABELS)) == []
    assert set(FIGURES) <= MONEY | COUNTS  # every figure is money or a count
    assert not (MONEY & COUNTS)
    assert {"hour", "category", "till"} <= set(DIMENSIONS)


def test_an_unknown_field_gets_the_generic_label_never_its_key():
    i18n.set_language("th")
    try:
        assert label("brand_new_figure") == i18n._("Other figure") != "Other figure"
        doc = build_doc(
            {"totals": {"orders": 3, "brand_new_figure": 7}, "new_flag": 2}, "x", "till"
        )
        assert "brand_new_figure" not in doc.text() and "new_flag" not in doc.text()
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize("lang", ["en", "zh", "th", "ar"])
def test_a_laid_out_report_holds_no_keys_counts_as_counts_money_as_money(reports, lang):
    i18n.set_language(lang)
    try:
        for rep, kind in zip(reports[:4], ("x", "x", "z", "cashier"), strict=True):
            doc = build_doc(rep, kind, "store", "THB")
            text = doc.text()
            assert not RAW.findall(text), RAW.findall(text)[:5]
            totals = {r[0]: r[1] for r in doc.tables[0].rows}
            n = rep["totals"]["orders"]
            assert totals[i18n._("Orders")] == i18n.number(n)
            assert totals[i18n._("Net sales")] == i18n.money(rep["totals"]["net_sales"], "THB")
    finally:
        i18n.set_language("en")


def test_value_text():
    assert value_text("orders", 3, "THB") == "3"
    assert value_text("discounts", 975, "THB") == "THB9.75"
    assert value_text("counted_cash", 212050, "THB") == "THB2,120.50"
    assert value_text("counted_cash", None, "THB") == "—"
    assert value_text("hour", 9, "THB") == "09:00"
