"""The receipt model: content, money formatting, column layout with wide characters."""

from __future__ import annotations

import pytest

from domain.errors import KassaError
from hw.receipt import build_receipt, build_refund_receipt, display_width, wrap_text
from hw_samples import STORES, refund, sale


def test_display_width_counts_wide_chars_double_and_marks_zero():
    assert display_width("Milk") == 4
    assert display_width("牛奶") == 4
    assert display_width("ที่") == 1  # one base + two marks
    assert display_width("ﾐﾙｸ") == 3  # half-width katakana


def test_wrap_never_exceeds_width():
    text = "泰国香米泰国香米泰国香米泰国香米泰国香米 extra words here"
    for w in (8, 13, 32):
        assert all(display_width(x) <= w for x in wrap_text(text, w))
    assert "".join(wrap_text("ข้าวหอมมะลิข้าวหอมมะลิ", 5)) == "ข้าวหอมมะลิข้าวหอมมะลิ"


@pytest.mark.parametrize("lang", ["en", "zh", "th", "ar"])
@pytest.mark.parametrize("columns", [32, 48])
def test_layout_fits_paper(lang, columns):
    r = build_receipt(sale(lang), STORES[lang], lang, member_balance=1000)
    for line in r.text_lines(columns):
        assert display_width(line) <= columns, line


def test_english_receipt_content():
    o = sale("en")
    r = build_receipt(
        o,
        STORES["en"],
        "en",
        member_balance=12345,
        till="T1",
        staff="alice",
        when_us=1_767_225_600_000_000,
    )
    lines = r.text_lines(48)
    text = "\n".join(lines)
    assert "kassa demo shop" in text and "12 Market Street" in text
    assert "Fresh milk 1L" in text and "2 × THB45.00" in text
    assert "1.234 kg × THB80.00/kg" in text and "THB98.72" in text
    assert "Discount" in text and "-THB5.00" in text
    assert "incl. tax 7%" in text
    assert any(ln.startswith("TOTAL") and ln.endswith("THB398.72") for ln in lines)
    assert "Rounding" in text and "THB0.03" in text
    assert "Tendered" in text and "THB500.00" in text
    assert any(ln.startswith("Change") and "THB101.25" in ln for ln in lines)
    assert "Wallet balance" in text and "THB123.45" in text
    assert "[CODE128 T1-000042]" in text and "[QR T1-000042]" in text
    assert r.cash is True and r.number == "T1-000042"
    # big rows use half the columns (they print double width)
    total = next(ln for ln in lines if ln.startswith("TOTAL"))
    assert display_width(total) == 24


def test_card_sale_is_not_cash_and_shows_card():
    r = build_receipt(sale("en", cash=False), STORES["en"], "en")
    assert r.cash is False
    assert "Card ****4242 Ref A1B2C3" in r.text()


def test_chinese_receipt_uses_chinese_names_and_yuan():
    r = build_receipt(sale("zh"), STORES["zh"], "zh")
    text = r.text()
    assert "鲜牛奶 1升" in text and "合计" in text and "找零" in text and "¥398.72" in text


def test_arabic_receipt_is_rtl_and_uses_riyal():
    r = build_receipt(sale("ar"), STORES["ar"], "ar")
    assert r.rtl
    assert "الإجمالي" in r.text() and "ر.س." in r.text()


def test_refund_receipt():
    o = sale("en")
    r = build_refund_receipt(refund(o), STORES["en"], "en", original=o)
    text = r.text()
    assert r.kind == "refund" and r.cash
    assert "REFUND" in text and "Refund of order T1-000042" in text
    assert "Fresh milk 1L" in text and "-THB42.50" in text and "damaged" in text
    assert "[CODE128 R-000007]" in "\n".join(r.text_lines(32))


def test_copy_marker():
    r = build_receipt(sale("en"), STORES["en"], "en", copy=True)
    assert "*** COPY ***" in r.text()


def test_money_is_never_float():
    o = sale("en")
    o["total"] = 1.5
    with pytest.raises(KassaError):
        build_receipt(o, STORES["en"], "en")
