"""Draw receipt rows as pixels with Pillow (raqm layout) and Noto fonts.

Used for two things, with the same code:

* the lines a printer cannot print as text (Thai, Arabic, any script its code pages lack) are sent
  as a raster image (``render_rows`` -> ``GS v 0``);
* a whole-receipt preview (``render_receipt`` / ``save_preview``), barcode and QR included.

Fonts, bidi runs and text measuring/drawing/wrapping live in ``hw.shaping``; this module lays the
receipt's rows (text, pairs, rules, barcode, QR) out on the paper's width.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from hw.receipt import PAPER_DOTS, Receipt, Row
from hw.shaping import HAVE_RAQM as HAVE_RAQM
from hw.shaping import FontSet as FontSet
from hw.shaping import _runs as _runs
from hw.shaping import draw_text as draw_text
from hw.shaping import fonts as fonts
from hw.shaping import measure as measure
from hw.shaping import wrap_pixels as wrap_pixels

__all__ = [
    "FontSet",
    "fonts",
    "render_rows",
    "render_receipt",
    "save_preview",
    "text_image",
    "HAVE_RAQM",
]


@dataclass(frozen=True)
class Style:
    width: int = 576
    size: int = 22  # body font size in pixels (font A is 12x24 dots)
    big_size: int = 40
    margin: int = 4

    @property
    def char_px(self) -> int:
        return max(6, self.size // 2)

    def line_height(self, size: int) -> int:
        return int(size * 1.55)


def _row_lines(row: Row, st: Style, rtl: bool) -> list[tuple[str, str, int]]:
    """(start text, end text, size) per physical line of a text/pair row."""
    size = st.big_size if row.big else st.size
    fs = fonts(size, row.bold)
    avail = st.width - 2 * st.margin - row.indent * st.char_px
    if row.kind == "text":
        return [(t, "", size) for t in wrap_pixels(row.text, avail, fs, rtl)]
    gap = st.char_px
    vw = measure(row.value, fs, rtl)
    if measure(row.text, fs, rtl) + gap + vw <= avail:
        return [(row.text, row.value, size)]
    lines = wrap_pixels(row.text, avail, fs, rtl)
    if measure(lines[-1], fs, rtl) + gap + vw <= avail:
        return [(t, "", size) for t in lines[:-1]] + [(lines[-1], row.value, size)]
    return [(t, "", size) for t in lines] + [("", row.value, size)]


def _barcode_modules(data: str) -> str:
    import barcode  # python-barcode, a python-escpos dependency

    return barcode.get("code128", data).build()[0]


def _barcode_image(data: str, st: Style) -> Image.Image:
    modules = _barcode_modules(data)
    unit = max(1, min(3, (st.width - 2 * st.margin) // (len(modules) + 20)))
    h = 64
    fs = fonts(st.size)
    text_h = st.line_height(st.size)
    img = Image.new("1", (st.width, h + text_h + 8), 1)
    d = ImageDraw.Draw(img)
    x0 = (st.width - unit * len(modules)) // 2
    for i, m in enumerate(modules):
        if m == "1":
            d.rectangle([x0 + i * unit, 4, x0 + (i + 1) * unit - 1, 4 + h], fill=0)
    tw = measure(data, fs)
    draw_text(d, (st.width - tw) // 2, 4 + h + int(st.size * 1.2), data, fs)
    return img


def _qr_image(data: str, st: Style, box: int = 6) -> Image.Image:
    import qrcode

    q = qrcode.QRCode(border=1, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(data)
    q.make(fit=True)
    matrix = q.get_matrix()
    n = len(matrix)
    box = max(1, min(box, (st.width - 2 * st.margin) // n))
    img = Image.new("1", (st.width, n * box + 8), 1)
    d = ImageDraw.Draw(img)
    x0 = (st.width - n * box) // 2
    for y, row in enumerate(matrix):
        for x, on in enumerate(row):
            if on:
                d.rectangle(
                    [x0 + x * box, 4 + y * box, x0 + (x + 1) * box - 1, 4 + (y + 1) * box - 1],
                    fill=0,
                )
    return img


def render_rows(
    rows: Sequence[Row], rtl: bool = False, width: int = 576, *, style: Style | None = None
) -> Image.Image:
    """Render rows into one 1-bit image ``width`` dots wide (black = 0 in mode "1")."""
    st = style or Style(width=width, big_size=40 if width >= 500 else 32)
    if st.width != width:
        st = Style(width=width, size=st.size, big_size=st.big_size, margin=st.margin)
    pieces: list[Image.Image] = []
    for row in rows:
        pieces.append(_render_row(row, st, rtl))
    h = sum(p.height for p in pieces) or 1
    img = Image.new("1", (st.width, h), 1)
    y = 0
    for p in pieces:
        img.paste(p, (0, y))
        y += p.height
    return img


def _render_row(row: Row, st: Style, rtl: bool) -> Image.Image:
    if row.kind == "blank":
        return Image.new("1", (st.width, st.line_height(st.size) // 2), 1)
    if row.kind == "rule":
        img = Image.new("1", (st.width, st.line_height(st.size) // 2), 1)
        d = ImageDraw.Draw(img)
        y = img.height // 2
        for x in range(st.margin, st.width - st.margin, 8):
            d.line([(x, y), (x + 4, y)], fill=0, width=2)
        return img
    if row.kind == "barcode":
        return _barcode_image(row.text, st)
    if row.kind == "qr":
        return _qr_image(row.text, st)
    lines = _row_lines(row, st, rtl)
    h = sum(st.line_height(size) for _, _, size in lines)
    img = Image.new("1", (st.width, h), 1)
    d = ImageDraw.Draw(img)
    y = 0
    indent = row.indent * st.char_px
    for start, end, size in lines:
        fs = fonts(size, row.bold)
        lh = st.line_height(size)
        baseline = y + int(size * 1.1)
        left_edge = st.margin + (0 if rtl else indent)
        right_edge = st.width - st.margin - (indent if rtl else 0)
        if start:
            w = measure(start, fs, rtl)
            if row.kind == "text" and row.align == "center":
                x = (st.width - w) // 2
            elif (row.align == "end") != rtl:  # logical start is the right edge in RTL
                x = right_edge - w
            else:
                x = left_edge
            draw_text(d, x, baseline, start, fs, rtl)
        if end:
            w = measure(end, fs, rtl)
            x = left_edge if rtl else right_edge - w
            draw_text(d, x, baseline, end, fs, rtl)
        y += lh
    return img


def text_image(text: str, width: int = 576, size: int = 22, rtl: bool = False) -> Image.Image:
    """One line of text as an image (handy for a display or a test)."""
    return render_rows([Row("text", text)], rtl, width, style=Style(width=width, size=size))


def render_receipt(receipt: Receipt, paper: int = 80) -> Image.Image:
    """The whole receipt as one image, as it would come out of the printer."""
    width = PAPER_DOTS.get(int(paper), 576)
    img = render_rows(receipt.rows, receipt.rtl, width)
    framed = Image.new("1", (width, img.height + 24), 1)
    framed.paste(img, (0, 12))
    return framed


def save_preview(receipt: Receipt, path: str | os.PathLike[str], paper: int = 80) -> Path:
    """Save a PNG preview of ``receipt``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_receipt(receipt, paper).convert("L").save(path, format="PNG")
    return path
