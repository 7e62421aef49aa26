"""Turn a ``Receipt`` into ESC/POS bytes with python-escpos.

Each row is printed the cheapest way the printer can do it faithfully:

* ``ascii``  — plain text;
* ``cjk``    — Chinese as text: ``FS &`` (enter Chinese character mode), the line encoded explicitly
  as GB18030, ``FS .`` (leave it). python-escpos' "magic encode" would send GB18030 bytes without
  switching the printer into Chinese mode, which prints mojibake on most printers;
* ``latin``  — Western European text in the printer's single-byte code page (``ESC t n``,
  PC858 = 19 on Epson-compatible printers by default);
* ``raster`` — everything else (Thai, Arabic, any script the code pages lack): consecutive such rows
  are drawn together by ``hw.render`` and sent as one ``GS v 0`` raster image. A right-to-left
  receipt is drawn entirely as an image so that its columns mirror consistently.

The order number is printed as a CODE128 barcode (``GS k``) and a QR code (``GS ( k``), natively
by default. A cash sale starts with the drawer kick (``ESC p``); the job ends with a cut.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from escpos.printer import Dummy

from hw.labels import base_lang
from hw.receipt import PAPER_DOTS, Receipt, Row, columns_for, layout_row

__all__ = [
    "EncodeOptions",
    "encode_receipt",
    "row_mode",
    "drawer_kick_bytes",
    "FS_CHINESE_ON",
    "FS_CHINESE_OFF",
    "RASTER",
    "DRAWER_KICK",
]

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
FS_CHINESE_ON = FS + b"&"  # select Kanji/Chinese character mode
FS_CHINESE_OFF = FS + b"."  # cancel it
FS_CHINESE_SIZE = FS + b"!"  # Kanji print mode (bit 2: double width, bit 3: double height)
RASTER = GS + b"v0"
DRAWER_KICK = ESC + b"p"
INIT = ESC + b"@"

# characters Babel puts into money strings that a printer cannot print as such
_SUBST = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-"}
_DROP = {"\u200e", "\u200f", "\u061c", "\u2066", "\u2067", "\u2068", "\u2069"}
_CJK_SUBST = {"\u00a5": "\uffe5"}  # YEN SIGN is not in GB2312; FULLWIDTH YEN SIGN is


@dataclass(frozen=True)
class EncodeOptions:
    paper: int = 80  # mm: 58 or 80
    profile: str | None = None  # a python-escpos capabilities profile name
    cjk: bool = True  # the printer has a GB18030 Chinese font (FS &)
    codepage: tuple[str, int] | None = ("cp858", 19)  # python codec, ESC t number
    qr_native: bool = True  # GS ( k; False renders the QR as an image
    barcode: bool = True
    qr: bool = True
    cut: bool = True
    drawer_pin: int = 2  # 2 or 5
    feed_before_cut: int = 3

    @property
    def columns(self) -> int:
        return columns_for(self.paper)

    @property
    def dots(self) -> int:
        return PAPER_DOTS.get(int(self.paper), 576)

    @classmethod
    def from_settings(cls, s: dict) -> EncodeOptions:
        cp = s.get("codepage", ("cp858", 19))
        if isinstance(cp, str):  # "cp858:19"
            name, _, num = cp.partition(":")
            cp = (name, int(num or 0))
        elif cp:
            cp = (str(cp[0]), int(cp[1]))
        else:
            cp = None
        return cls(
            paper=int(s.get("paper", 80)),
            profile=s.get("profile"),
            cjk=bool(s.get("cjk", True)),
            codepage=cp,
            qr_native=bool(s.get("qr_native", True)),
            barcode=bool(s.get("barcode", True)),
            qr=bool(s.get("qr", True)),
            cut=bool(s.get("cut", True)),
            drawer_pin=int(s.get("drawer_pin", 2)),
        )


def _clean(text: str) -> str:
    return "".join(_SUBST.get(c, c) for c in text if c not in _DROP)


def row_mode(text: str, opts: EncodeOptions, prefer_cjk: bool = False) -> str:
    """``ascii`` | ``cjk`` | ``latin`` | ``raster`` for one line of text. ``prefer_cjk`` (a Chinese
    receipt) prints any GB2312 line in Chinese mode rather than in the single-byte code page."""
    text = _clean(text)
    if all(32 <= ord(c) < 127 for c in text):
        return "ascii"
    if opts.cjk and (
        prefer_cjk or any(unicodedata.east_asian_width(c) in ("W", "F") for c in text)
    ):
        try:
            "".join(_CJK_SUBST.get(c, c) for c in text).encode("gb2312")
            return "cjk"
        except UnicodeEncodeError:
            return "raster"
    if opts.codepage:
        try:
            text.encode(opts.codepage[0])
            return "latin"
        except (UnicodeEncodeError, LookupError):
            pass
    return "raster"


def _printer(opts: EncodeOptions) -> Dummy:
    p = Dummy(profile=opts.profile) if opts.profile else Dummy()
    # a private copy of the profile with the paper's width, so image() knows it (and stays quiet)
    p.profile.profile_data = copy.deepcopy(p.profile.profile_data)
    p.profile.profile_data.setdefault("media", {}).setdefault("width", {})["pixels"] = opts.dots
    return p


def drawer_kick_bytes(pin: int = 2) -> bytes:
    p = Dummy()
    p.cashdraw(5 if pin == 5 else 2)
    return p.output


def _style(p: Dummy, *, bold: bool, big: bool, cjk: bool) -> None:
    p._raw(ESC + b"E" + (b"\x01" if bold else b"\x00"))
    p._raw(GS + b"!" + (b"\x11" if big else b"\x00"))
    if cjk:
        p._raw(FS_CHINESE_SIZE + (b"\x0c" if big else b"\x00"))


def _emit_text_row(p: Dummy, row: Row, opts: EncodeOptions, prefer_cjk: bool) -> None:
    lines = layout_row(row, opts.columns)
    for line in lines:
        mode = row_mode(line, opts, prefer_cjk)
        line = _clean(line).rstrip()
        if mode == "cjk":
            p._raw(FS_CHINESE_ON)
            _style(p, bold=row.bold, big=row.big, cjk=True)
            p._raw("".join(_CJK_SUBST.get(c, c) for c in line).encode("gb18030") + b"\n")
            _style(p, bold=False, big=False, cjk=True)
            p._raw(FS_CHINESE_OFF)
        else:
            _style(p, bold=row.bold, big=row.big, cjk=False)
            codec = opts.codepage[0] if (mode == "latin" and opts.codepage) else "ascii"
            p._raw(line.encode(codec, errors="replace") + b"\n")
            _style(p, bold=False, big=False, cjk=False)


def _row_needs_raster(row: Row, receipt: Receipt, opts: EncodeOptions) -> bool:
    if row.kind not in ("text", "pair"):
        return False
    if receipt.rtl:
        return True
    cjk = base_lang(receipt.lang) == "zh"
    return any(row_mode(line, opts, cjk) == "raster" for line in layout_row(row, opts.columns))


def _groups(receipt: Receipt, opts: EncodeOptions) -> Iterable[tuple[str, list[Row]]]:
    """Consecutive rows grouped as ("raster", rows) or ("row", [row])."""
    pending: list[Row] = []
    for row in receipt.rows:
        if _row_needs_raster(row, receipt, opts) or (
            pending and row.kind in ("rule", "blank") and receipt.rtl
        ):
            pending.append(row)
            continue
        if pending:
            yield "raster", pending
            pending = []
        yield "row", [row]
    if pending:
        yield "raster", pending


def encode_receipt(
    receipt: Receipt, opts: EncodeOptions | None = None, *, kick: bool = False
) -> bytes:
    """ESC/POS bytes for ``receipt``. ``kick`` opens the cash drawer first."""
    from hw.render import render_rows  # Pillow only when needed

    opts = opts or EncodeOptions()
    p = _printer(opts)
    p._raw(INIT)
    if kick:
        p.cashdraw(5 if opts.drawer_pin == 5 else 2)
    if opts.codepage:
        p._raw(ESC + b"t" + bytes([opts.codepage[1]]))
    for kind, rows in _groups(receipt, opts):
        if kind == "raster":
            img = render_rows(rows, receipt.rtl, opts.dots)
            p.image(img, impl="bitImageRaster", center=False)
            continue
        row = rows[0]
        if row.kind in ("text", "pair"):
            _emit_text_row(p, row, opts, base_lang(receipt.lang) == "zh")
        elif row.kind == "rule":
            p._raw(b"-" * opts.columns + b"\n")
        elif row.kind == "blank":
            p._raw(b"\n")
        elif row.kind == "barcode" and opts.barcode and row.text:
            data = row.text
            if all(32 <= ord(c) < 127 for c in data):
                # CODE128 code set B (function B: GS k 73 n "{B" data)
                p._hw_barcode(
                    "{B" + data,
                    "CODE128",
                    height=64,
                    width=2,
                    pos="BELOW",
                    font="A",
                    align_ct=True,
                    function_type="B",
                    check=True,
                )
                p._raw(b"\n" + ESC + b"a\x00")
        elif row.kind == "qr" and opts.qr and row.text:
            if opts.qr_native:
                p._raw(ESC + b"a\x01")
                p.qr(row.text, native=True, size=6)
                p._raw(b"\n" + ESC + b"a\x00")
            else:
                from hw.render import Style, _qr_image

                p.image(
                    _qr_image(row.text, Style(width=opts.dots)), impl="bitImageRaster", center=False
                )
    if opts.cut:
        p._raw(b"\n" * opts.feed_before_cut)
        p._raw(GS + b"V\x00")  # full cut
    return p.output
