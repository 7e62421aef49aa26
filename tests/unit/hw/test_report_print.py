"""A report on the receipt printer (through the print queue, the same encoder as receipts) and
as a PDF (Pillow pages with the receipt renderer's fonts)."""

from __future__ import annotations

from hw.queue import PrintQueue
from hw.receipt_model import columns_for
from hw.report_print import ReportDoc, Table, pdf_pages, report_receipt, save_pdf, submit_report
from pdfcheck import pdf_images

STORE = {"store_id": "S1", "name": "Shop", "currency": "THB", "zone": "Asia/Bangkok"}


def doc(lang: str = "en", rows: int = 3) -> ReportDoc:
    return ReportDoc(
        "X report · store",
        lang,
        ["Business day: 2026-11-30"],
        [
            Table(
                "Totals",
                ["Figure", "Value"],
                [["Orders", "3"], ["Net sales", "THB150.75"]] * rows,
                [False, True],
            ),
            Table(
                "Per till",
                ["Till", "Orders", "Net sales", "Expected cash"],
                [["R1", "3", "THB150.75", "THB1,150.75"]],
                [False, True, True, True],
            ),
            Table("Empty", ["A", "B"], [], [False, True]),
        ],
    )


def test_report_as_receipt_lines_fits_the_paper():
    r = report_receipt(doc())
    for paper in (58, 80):
        lines = r.text_lines(columns_for(paper))
        assert all(len(x) <= columns_for(paper) for x in lines)
        text = "\n".join(lines)
        assert "X report" in text and "Net sales" in text and "THB1,150.75" in text
        assert "Empty" not in text  # a table without rows is left out
        assert any(x.startswith("Orders") and x.endswith("3") for x in lines)


def test_a_report_prints_through_the_queue_and_can_be_reprinted(tmp_path):
    with PrintQueue(tmp_path, {"kind": "dummy"}, STORE, backoff=(0.01, 0.05)) as q:
        job = submit_report(q, doc("th"))
        assert q.wait_idle(20)
        assert len(q.printer.jobs) == 1
        data = q.printer.jobs[0]
        assert b"X report" in data and b"THB150.75" in data
        assert q.receipt_of(job).kind == "report"
        q.reprint(job)
        assert q.wait_idle(20) and len(q.printer.jobs) == 2


def test_pdf_pages_open_and_long_reports_take_more_pages(tmp_path):
    for lang in ("en", "zh", "th", "ar"):
        path = save_pdf(doc(lang, rows=60), tmp_path / f"r-{lang}.pdf")
        pages = pdf_images(path)
        assert len(pages) == len(pdf_pages(doc(lang, rows=60))) >= 2
        assert pages[0].size == (1240, 1754)
        assert pages[0].convert("L").getextrema()[0] < 100  # ink on the page
    assert len(pdf_images(save_pdf(doc(), tmp_path / "short.pdf"))) == 1
