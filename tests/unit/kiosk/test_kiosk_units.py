"""Till logic without a window or a store: scanner timing, parsing, catalogues, RTL, import rows,
the worker's retries with the same command id, and the feedback endpoint's rules."""

from __future__ import annotations

import time

import pytest

from kiosk import i18n
from kiosk.catalogues import extract, missing
from kiosk.client import ApiError, Offline, Worker
from kiosk.scanner import ScanDetector


def test_scanner_burst_is_a_scan_typing_is_not():
    d = ScanDetector()
    for i, ch in enumerate("8850000000010"):
        d.key(ch, 1000 + 5 * i)
    assert d.enter(1000 + 5 * 13) == "8850000000010"
    for i, ch in enumerate("8850000000010"):
        d.key(ch, 5000 + 180 * i)  # a person typing the same digits
    assert d.enter(5000 + 180 * 13) is None
    for i, ch in enumerate("123"):
        d.key(ch, 9000 + i)
    assert d.enter(9003) is None  # too short for a barcode


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGS])
def test_every_visible_string_is_in_every_catalogue(lang):
    assert len(extract()) > 150
    assert missing(lang) == []


def test_compiled_catalogues_translate():
    for lang, word in (("zh", "付款"), ("th", "ชำระเงิน"), ("ar", "الدفع"), ("en", "Pay")):
        i18n.set_language(lang)
        assert i18n._("Pay") == word
    i18n.set_language("zh_CN")  # the gateway's language code
    assert i18n.current() == "zh"
    i18n.set_language("en")


def test_arabic_is_shaped_reordered_and_mirrored():
    i18n.set_language("ar")
    try:
        text = i18n.shown(i18n._("Resume ({n} parked)").format(n=0))
        assert any("\ufe70" <= ch <= "\ufeff" for ch in text)  # presentation forms (joined)
        assert text.startswith("(") and text.index("0") < 10  # visual order, brackets mirrored
        assert "\u200f" not in i18n.shown(i18n.money(3050, "THB"))
    finally:
        i18n.set_language("en")


def test_locale_formatting():
    assert i18n.money(3050, "THB", "th") == "฿30.50"
    assert i18n.weight(1234, "en") == "1.234 kg"
    assert "2026" in i18n.when(1_795_000_000_000_000, "Asia/Bangkok", "zh")


def test_parsing_is_exact():
    from domain.errors import KassaError
    from kiosk.screens.sale import parse_percent_bp, parse_weight_g

    assert parse_weight_g("0.512") == 512 and parse_weight_g("1,25") == 1250
    assert parse_percent_bp("12.5") == 1250 and parse_percent_bp("10%") == 1000
    for bad in ("0.0005", "-1", "abc"):
        with pytest.raises(KassaError):
            parse_weight_g(bad)
    with pytest.raises(KassaError):
        parse_percent_bp("101")


def test_quick_tenders():
    from kiosk.screens.dialogs import quick_tenders

    assert quick_tenders(2500, "THB") == [2500, 3000, 4000, 5000, 10000]
    assert quick_tenders(0, "THB") == []


def test_worker_retries_a_change_with_the_same_id():
    seen, states = [], []
    w = Worker(on_net=lambda online, detail: states.append(online), backoff=(0.01, 0.02))
    cid = "3f1c2a55-0000-4000-8000-000000000001"

    def call():
        seen.append(cid)
        if len(seen) < 3:
            raise Offline("connection refused")
        return {"ok": cid}

    got = []
    w.change(call, got.append)
    end = time.time() + 5
    while not got and time.time() < end:
        w.pump()
        time.sleep(0.01)
    w.stop()
    assert got == [{"ok": cid}] and seen == [cid, cid, cid]
    assert states == [False, True]  # the till showed "unreachable", then "online"


def test_worker_reports_refusals_without_retry():
    w = Worker(backoff=(0.01, 0.02))
    calls, errs = [], []

    def call():
        calls.append(1)
        raise ApiError("discount.over_limit", "needs a manager", 403)

    w.change(call, None, errs.append)
    end = time.time() + 5
    while not errs and time.time() < end:
        w.pump()
        time.sleep(0.01)
    assert w.idle()
    w.stop()
    assert len(calls) == 1 and errs[0].code == "discount.over_limit"


def test_import_rows_csv_and_xlsx(tmp_path):
    import xlsxwriter

    from kiosk.importer import load

    rows = [
        ["sku", "name_en", "name_zh", "price", "tax_class", "barcodes", "unit"],
        ["A1", "Tea", "茶", "12.50", "std", "8850000000010", "each"],
        ["A2", "Rice", "米", "12.505", "std", "", "each"],  # too precise
        ["A3", "Soap", "", "9", "std", "8850000000011", "each"],  # bad check digit
        ["A1", "Dup", "", "1", "std", "", "each"],  # duplicate SKU
        ["A5", "Mango", "芒果", "80", "zero", "", "kg"],
        ["A6", "Gum", "", "5", "nope", "", "each"],
    ]  # unknown tax class
    csv = tmp_path / "p.csv"
    csv.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    xlsx = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx))
    ws = wb.add_worksheet()
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            ws.write_string(i, j, v)
    wb.close()
    for path in (csv, xlsx):
        out = load(path, "THB", {"std": 700, "zero": 0})
        assert [r.row for r in out] == [2, 3, 4, 5, 6, 7]
        good = [r.product for r in out if r.product]
        assert [p["sku"] for p in good] == ["A1", "A5"]
        assert good[0]["price"] == 1250 and good[0]["names"] == {"en": "Tea", "zh": "茶"}
        codes = {r.row: r.error_code for r in out if r.product is None}
        assert codes == {
            3: "money.too_precise",
            4: "product.bad_barcode",
            5: "import.duplicate_sku",
            7: "tax.unknown_class",
        }


def test_feedback_rules():
    from domain.errors import InvalidInput
    from domain.events import encode_body, kind_of
    from kiosk.feedback_api import decide_feedback

    fb = decide_feedback(
        "c0ffee00-1",
        {"kind": "price", "message": " shelf says 20 ", "sku": "S000001", "device": "T1"},
    )
    assert kind_of(fb) == "feedback.reported" and fb.message == "shelf says 20"
    assert b"S000001" in encode_body(fb)
    with pytest.raises(InvalidInput):
        decide_feedback("c0ffee00-2", {"kind": "weather", "message": "rain"})
    with pytest.raises(InvalidInput):
        decide_feedback("c0ffee00-3", {"kind": "device", "message": ""})
