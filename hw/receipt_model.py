"""The receipt model (``Row``, ``Receipt``) and its layout as text columns.

Rows keep their *structure* (a label at the line's start, a value at its end) rather than padded
strings. ``Receipt.text_lines(columns)`` lays them out in monospaced columns (32 for 58 mm paper,
48 for 80 mm; characters of East Asian width W/F count double, combining marks count zero);
``hw.render`` lays the same rows out as pixels. ``hw.receipt`` builds receipts from orders.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from hw.labels import is_rtl

__all__ = [
    "PAPER_COLUMNS",
    "PAPER_DOTS",
    "Receipt",
    "Row",
    "char_width",
    "columns_for",
    "display_width",
    "layout_row",
    "wrap_text",
]

PAPER_COLUMNS = {58: 32, 80: 48}  # font A (12x24 dots) columns per paper width
PAPER_DOTS = {58: 384, 80: 576}  # printable dots at 203 dpi


def columns_for(paper: int) -> int:
    return PAPER_COLUMNS.get(int(paper), 48)


# ---------------------------------------------------------------- text width


def char_width(ch: str) -> int:
    """Columns a character takes on a receipt printer: 2 for wide (W/F), 0 for marks, else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def _clusters(text: str) -> list[str]:
    """Split into base character + following zero-width marks (so Thai vowels stay attached)."""
    out: list[str] = []
    for ch in text:
        if out and char_width(ch) == 0:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap_text(text: str, width: int) -> list[str]:
    """Wrap to ``width`` display columns, at spaces when possible, else between clusters."""
    if width <= 0:
        return [text]
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        candidate = word if not cur else cur + " " + word
        if display_width(candidate) <= width:
            cur = candidate
            continue
        if cur:
            lines.append(cur)
            cur = ""
        while display_width(word) > width:  # a word longer than the line (CJK, Thai: no spaces)
            piece = ""
            rest = _clusters(word)
            while rest and display_width(piece + rest[0]) <= width:
                piece += rest.pop(0)
            if not piece:  # a single cluster wider than the line
                piece = rest.pop(0)
            lines.append(piece)
            word = "".join(rest)
        cur = word
    if cur or not lines:
        lines.append(cur)
    return lines


def _pad_to(text: str, width: int, align: str) -> str:
    gap = max(0, width - display_width(text))
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    if align == "end":
        return " " * gap + text
    return text + " " * gap


# ---------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Row:
    """One logical row. ``kind``: ``text`` | ``pair`` | ``rule`` | ``barcode`` | ``qr`` | ``blank``.

    ``text`` is the row's text (for a pair: the label at the line's start); ``value`` the pair's
    value at the line's end. "start"/"end" are logical: in a right-to-left receipt the start is
    the right-hand side. ``big`` prints double width and height.
    """

    kind: str
    text: str = ""
    value: str = ""
    align: str = "start"  # start | center | end
    big: bool = False
    bold: bool = False
    indent: int = 0  # columns (text) / ~one character each (pixels)


@dataclass(frozen=True)
class Receipt:
    rows: tuple[Row, ...]
    lang: str
    number: str
    kind: str = "sale"  # sale | refund
    cash: bool = False  # a cash tender: kick the drawer
    currency: str = ""
    total: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def rtl(self) -> bool:
        return is_rtl(self.lang)

    def text(self) -> str:
        """Every piece of text on the receipt, one per line (for search and tests)."""
        parts = []
        for r in self.rows:
            if r.kind in ("text", "pair"):
                parts.append((r.text + " " + r.value).strip())
            elif r.kind in ("barcode", "qr"):
                parts.append(r.text)
        return "\n".join(parts)

    def text_lines(self, columns: int = 48) -> list[str]:
        """Lay the receipt out as monospaced lines (left-to-right; big rows use half the columns).
        Barcode and QR rows appear as ``[CODE128 ...]`` / ``[QR ...]`` placeholders."""
        out: list[str] = []
        for r in self.rows:
            out.extend(layout_row(r, columns))
        return out


def layout_row(r: Row, columns: int) -> list[str]:
    cols = columns // 2 if r.big else columns
    ind = " " * r.indent
    avail = cols - r.indent
    if r.kind == "blank":
        return [""]
    if r.kind == "rule":
        return ["-" * cols]
    if r.kind == "barcode":
        return [_pad_to(f"[CODE128 {r.text}]", cols, "center")]
    if r.kind == "qr":
        return [_pad_to(f"[QR {r.text}]", cols, "center")]
    if r.kind == "text":
        return [
            ind + _pad_to(line, avail, r.align).rstrip() if r.align != "start" else ind + line
            for line in wrap_text(r.text, avail)
        ]
    # pair: label at the start, value at the end
    vw = display_width(r.value)
    if display_width(r.text) + 1 + vw <= avail:
        return [ind + r.text + " " * (avail - display_width(r.text) - vw) + r.value]
    lines = wrap_text(r.text, avail)
    last = lines[-1]
    if display_width(last) + 1 + vw <= avail:
        lines[-1] = last + " " * (avail - display_width(last) - vw) + r.value
        return [ind + x for x in lines]
    return [ind + x for x in lines] + [ind + _pad_to(r.value, avail, "end")]
