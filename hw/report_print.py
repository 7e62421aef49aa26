"""Reports on paper: a report as receipt rows through the print queue, and as a PDF.

A report reaches this module already laid out and translated by the till (``kiosk.report_doc``):
a ``ReportDoc`` is a title, a few lines about it (day, till, who) and tables whose cells are text.
Here it becomes

* a ``Receipt`` (``report_receipt``): two-column tables as label/value pairs; wider tables as one
  block per row (its name, then each column as a pair) so they fit 32 or 48 columns; printed by
  the same queue, encoder and renderer as a sale receipt (``submit_report``: a job of kind
  ``report``, kept for reprints like any receipt);
* PDF pages (``save_pdf``): A4 at 150 dpi drawn with Pillow and the receipt renderer's fonts and
  shaping (``hw.shaping``: Thai, Chinese and Arabic drawn right, Arabic right-to-left), numbers
  aligned at the end of their column.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from hw.labels import is_rtl
from hw.receipt_model import Receipt, Row
from hw.shaping import draw_text, fonts, measure, wrap_pixels

__all__ = [
    "ReportDoc",
    "Table",
    "doc_from_dict",
    "pdf_pages",
    "report_receipt",
    "save_pdf",
    "submit_report",
]

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90
DPI = 150


@dataclass
class Table:
    """One table of a report: a title, column headings, rows of cell texts; ``numeric`` says
    which columns hold figures (aligned at the end)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)

    def is_numeric(self, i: int) -> bool:
        return i < len(self.numeric) and self.numeric[i]


@dataclass
class ReportDoc:
    title: str
    lang: str = "en"
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def rtl(self) -> bool:
        return is_rtl(self.lang)

    def text(self) -> str:
        """Every text of the report, one per line (for search and tests)."""
        out = [self.title, *self.lines]
        for t in self.tables:
            out += [t.title, " ".join(t.columns)] + [" ".join(r) for r in t.rows]
        return "\n".join(out)


def doc_from_dict(d: dict[str, Any]) -> ReportDoc:
    return ReportDoc(
        title=str(d.get("title", "")),
        lang=str(d.get("lang", "en")),
        lines=[str(x) for x in d.get("lines") or ()],
        tables=[
            Table(
                str(t.get("title", "")),
                [str(c) for c in t.get("columns") or ()],
                [[str(c) for c in r] for r in t.get("rows") or ()],
                [bool(x) for x in t.get("numeric") or ()],
            )
            for t in d.get("tables") or ()
        ],
    )


# ---------------------------------------------------------------- receipt


def report_receipt(doc: ReportDoc) -> Receipt:
    rows: list[Row] = [Row("text", doc.title, align="center", bold=True), Row("blank")]
    rows += [Row("text", line) for line in doc.lines]
    for t in doc.tables:
        if not t.rows:
            continue
        rows += [Row("rule"), Row("text", t.title, bold=True)]
        if len(t.columns) <= 2:
            rows += [Row("pair", r[0], r[1] if len(r) > 1 else "") for r in t.rows]
            continue
        for r in t.rows:
            rows.append(Row("text", r[0], bold=True))
            rows += [
                Row("pair", t.columns[i], cell, indent=2) for i, cell in enumerate(r) if i and cell
            ]
    rows += [Row("rule"), Row("blank")]
    return Receipt(tuple(rows), doc.lang, "", kind="report")


def receipt_from_payload(payload: dict[str, Any]) -> Receipt:
    """The print queue's hook: a queued report job back into its receipt."""
    return report_receipt(doc_from_dict(payload["doc"]))


def submit_report(queue: Any, doc: ReportDoc) -> int:
    """Queue ``doc`` on the till's ``hw.queue.PrintQueue``; returns the job id at once."""
    payload = {"doc": asdict(doc), "lang": doc.lang, "kick": False}
    return int(queue._insert(f"report:{uuid.uuid4()}", "report", "", payload))


# ---------------------------------------------------------------- PDF


class _Pages:
    """Lays text out top to bottom on A4 pages, starting a new page when one is full."""

    def __init__(self, rtl: bool) -> None:
        self.rtl = rtl
        self.pages: list[Image.Image] = []
        self.y = 0
        self._new()

    def _new(self) -> None:
        self.img = Image.new("L", PAGE, 255)
        self.draw = ImageDraw.Draw(self.img)
        self.pages.append(self.img)
        self.y = MARGIN

    def need(self, h: int) -> None:
        if self.y + h > PAGE[1] - MARGIN:
            self._new()

    def cell(self, text: str, x0: int, x1: int, size: int, bold: bool, end: bool) -> None:
        """Draw ``text`` in the column between x0 and x1 (logical, left-to-right page coords);
        at its start or (``end``) its end, mirrored for a right-to-left report."""
        if self.rtl:
            x0, x1 = PAGE[0] - x1, PAGE[0] - x0
            end = not end
        fs = fonts(size, bold)
        w = measure(text, fs, self.rtl)
        x = x1 - w if end else x0
        draw_text(self.draw, x, self.y + int(size * 1.1), text, fs, self.rtl)

    def text(self, text: str, size: int = 24, bold: bool = False) -> None:
        fs = fonts(size, bold)
        for line in wrap_pixels(text, PAGE[0] - 2 * MARGIN, fs, self.rtl):
            self.need(int(size * 1.6))
            self.cell(line, MARGIN, PAGE[0] - MARGIN, size, bold, False)
            self.y += int(size * 1.6)

    def rule(self) -> None:
        self.need(16)
        self.draw.line([(MARGIN, self.y + 6), (PAGE[0] - MARGIN, self.y + 6)], fill=120, width=2)
        self.y += 16

    def table(self, t: Table, size: int = 22) -> None:
        width = PAGE[0] - 2 * MARGIN
        n = max(1, len(t.columns))
        first = width // 2 if n <= 2 else max(width // 4, width - (n - 1) * 150)
        rest = (width - first) // max(1, n - 1)
        edges = [MARGIN] + [MARGIN + first + i * rest for i in range(n)]
        edges[-1] = MARGIN + width
        lh = int(size * 1.6)
        self.text(t.title, 26, True)

        def line(cells: list[str], bold: bool) -> None:
            self.need(lh)
            for i, c in enumerate(cells[:n]):
                fs = fonts(size, bold)
                span = edges[i + 1] - edges[i] - 12
                while c and measure(c, fs, self.rtl) > span:  # never run into the next column
                    c = c[:-2] + "…"
                self.cell(c, edges[i] + 6, edges[i + 1] - 6, size, bold, t.is_numeric(i))
            self.y += lh

        line(t.columns, True)
        self.rule()
        for r in t.rows:
            line(r, False)
        self.y += lh // 2


def pdf_pages(doc: ReportDoc) -> list[Image.Image]:
    p = _Pages(doc.rtl)
    p.text(doc.title, 36, True)
    for line in doc.lines:
        p.text(line, 22)
    p.y += 12
    for t in doc.tables:
        if t.rows:
            p.table(t)
    return p.pages


def save_pdf(doc: ReportDoc, path: str | Path) -> Path:
    """Write ``doc`` as a PDF (one or more A4 pages); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = [pg.convert("RGB") for pg in pdf_pages(doc)]
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=float(DPI))
    return path
