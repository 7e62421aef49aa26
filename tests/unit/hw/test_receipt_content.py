"""What a customer reads on a receipt: the sale's date and time in the store's zone, the shop's tax
id, the short order or refund number (in text and as the barcode), and reprints marked COPY that
keep the number and the date."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from hw.queue import PrintQueue
from hw.receipt import build_receipt, build_refund_receipt
from hw_samples import STORES, refund, sale

UUID = "7c9e6679-7425-40de-944b-e07cc4f8f7a1"


def us(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1_000_000)


def lines_of(receipt) -> list[str]:
    return receipt.text_lines(48)


def row_with(lines: list[str], label: str) -> str:
    return next(ln for ln in lines if ln.startswith(label))


@pytest.mark.parametrize(
    ("zone", "utc", "shown"),
    [
        ("Asia/Bangkok", (2026, 11, 30, 23, 30), "Dec 1, 2026 06:30"),  # UTC+7: the next day
        ("America/New_York", (2026, 12, 1, 2, 15), "Nov 30, 2026 21:15"),  # UTC-5: the day before
        ("UTC", (2026, 12, 31, 23, 59), "Dec 31, 2026 23:59 UTC"),
    ],
)
def test_date_and_time_are_the_stores_local_ones(zone, utc, shown):
    store = dataclasses.replace(STORES["en"], zone=zone)
    r = build_receipt(sale("en"), store, "en", when_us=us(*utc))
    assert row_with(lines_of(r), "Date").endswith(shown)


def test_the_commit_time_in_the_order_dates_the_receipt():
    order = {**sale("en"), "ts": us(2026, 11, 30, 17, 5)}  # what the store answers after a sale
    r = build_receipt(order, STORES["en"], "en")  # Asia/Bangkok
    assert row_with(lines_of(r), "Date").endswith("Dec 1, 2026 00:05")


def test_other_languages_show_the_local_date():
    when = us(2026, 11, 30, 23, 30)
    zh = build_receipt(sale("zh"), STORES["zh"], "zh", when_us=when).text()
    assert "2026年12月1日 07:30" in zh  # Asia/Shanghai
    ar = build_receipt(sale("ar"), STORES["ar"], "ar", when_us=when).text()
    assert "01\u200f/12\u200f/2026 02:30" in ar  # Asia/Riyadh


def test_tax_id_is_printed_under_the_address_when_set():
    store = dataclasses.replace(STORES["en"], tax_id="0105559000123")
    lines = lines_of(build_receipt(sale("en"), store, "en"))
    tax = next(i for i, ln in enumerate(lines) if "Tax ID 0105559000123" in ln)
    assert tax > next(i for i, ln in enumerate(lines) if "Springfield" in ln)
    assert tax < next(i for i, ln in enumerate(lines) if ln.startswith("Order"))
    assert "Tax ID" not in build_receipt(sale("en"), STORES["en"], "en").text()
    th = dataclasses.replace(STORES["th"], tax_id="0105559000123")
    assert "เลขประจำตัวผู้เสียภาษี 0105559000123" in build_receipt(sale("th"), th, "th").text()


def test_refund_receipt_carries_the_short_refund_number_not_a_uuid():
    o = sale("en")
    rf = {**refund(o), "refund_id": UUID, "number": "R-T1-000007"}
    lines = lines_of(build_refund_receipt(rf, STORES["en"], "en", original=o))
    text = "\n".join(lines)
    assert row_with(lines, "Refund no.").endswith("R-T1-000007")
    assert "[CODE128 R-T1-000007]" in text
    assert row_with(lines, "Refund of order").endswith("T1-000042")
    assert UUID not in text


def test_old_records_without_a_number_print_a_short_id():
    o = {**sale("en"), "number": "", "order_id": UUID}
    text = "\n".join(lines_of(build_receipt(o, STORES["en"], "en")))
    assert "[CODE128 7C9E6679]" in text and UUID not in text
    rf = {**refund(o), "refund_id": UUID}
    text = "\n".join(lines_of(build_refund_receipt(rf, STORES["en"], "en", original=o)))
    assert "[CODE128 7C9E6679]" in text and UUID not in text


def test_reprint_says_copy_at_head_and_foot_and_keeps_number_and_date(tmp_path):
    store = dataclasses.replace(STORES["en"], tax_id="0105559000123")
    order = {**sale("en"), "ts": us(2026, 11, 30, 23, 30)}
    q = PrintQueue(tmp_path, {"kind": "dummy"}, store, autostart=False)
    try:
        first = q.submit(order, "en", till="T1", staff="alice")
        copy = q.reprint("T1-000042")
        original, reprint = q.receipt_of(first), q.receipt_of(copy)
    finally:
        q.close()
    assert original is not None and reprint is not None
    a, b = lines_of(original), lines_of(reprint)
    assert not any("COPY" in ln for ln in a)
    marks = [i for i, ln in enumerate(b) if "*** COPY ***" in ln]
    assert len(marks) == 2
    assert marks[0] < b.index(row_with(b, "Order"))  # heading
    assert marks[1] > b.index(next(ln for ln in b if "Thank you" in ln))  # footer
    assert reprint.number == original.number == "T1-000042"
    assert row_with(b, "Date") == row_with(a, "Date") and "Dec 1, 2026 06:30" in row_with(b, "Date")
    assert "[CODE128 T1-000042]" in "\n".join(b)
    assert [ln for ln in b if "COPY" not in ln] == a
