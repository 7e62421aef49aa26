"""Text as pixels: Noto fonts, per-glyph font choice, bidi runs, measuring, drawing and wrapping.

Text is split into runs by bidi level (python-bidi's reference algorithm) and by font (per glyph:
the script's font first, then the others, so Thai text with Latin digits uses Noto Sans Thai for
the letters and Noto Sans for the digits). Each run is shaped by raqm in its own direction — Arabic
joins and reads right to left — and runs are placed in visual order (UBA rule L2).
``hw.render`` lays receipt rows out with these.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont, features

__all__ = [
    "FONT_DIRS",
    "HAVE_RAQM",
    "LAYOUT",
    "FontSet",
    "draw_text",
    "fonts",
    "measure",
    "script_of",
    "wrap_pixels",
]

HAVE_RAQM = bool(features.check("raqm"))
LAYOUT = ImageFont.Layout.RAQM if HAVE_RAQM else ImageFont.Layout.BASIC

FONT_DIRS = [p for p in os.environ.get("KASSA_FONT_DIRS", "").split(os.pathsep) if p] + [
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto",
    "/usr/share/fonts/truetype",
    "/usr/local/share/fonts",
]

# (file, index) candidates per role; the first that exists wins
_FONT_FILES = {
    "latin": [("NotoSans-Regular.ttf", 0), ("DejaVuSans.ttf", 0)],
    "latin_bold": [("NotoSans-Bold.ttf", 0), ("NotoSans-Regular.ttf", 0)],
    "cjk": [("NotoSansCJK-Regular.ttc", 2), ("NotoSansCJKsc-Regular.otf", 0)],  # .ttc 2 = SC
    "cjk_bold": [("NotoSansCJK-Bold.ttc", 2), ("NotoSansCJK-Regular.ttc", 2)],
    "thai": [("NotoSansThai-Regular.ttf", 0), ("NotoSerifThai-Regular.ttf", 0)],
    "thai_bold": [("NotoSansThai-Bold.ttf", 0), ("NotoSansThai-Regular.ttf", 0)],
    "arabic": [("NotoSansArabic-Regular.ttf", 0), ("NotoNaskhArabic-Regular.ttf", 0)],
    "arabic_bold": [("NotoSansArabic-Bold.ttf", 0), ("NotoSansArabic-Regular.ttf", 0)],
}

_BIDI_CONTROLS = {
    "\u200e",
    "\u200f",
    "\u061c",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}


@cache
def _find(role: str) -> tuple[str, int] | None:
    for name, index in _FONT_FILES[role]:
        for d in FONT_DIRS:
            path = Path(d) / name
            if path.exists():
                return str(path), index
    return None


@lru_cache(maxsize=256)
def _load(role: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = _find(role)
    if found is None:
        if role.endswith("_bold"):
            return _load(role[: -len("_bold")], size)
        return ImageFont.load_default(size)
    return ImageFont.truetype(found[0], size, index=found[1], layout_engine=LAYOUT)


@dataclass(frozen=True)
class FontSet:
    size: int
    bold: bool = False

    def font(self, script: str) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return _load(script + ("_bold" if self.bold else ""), self.size)

    def order(self, script: str) -> list[str]:
        rest = [s for s in ("latin", "cjk", "thai", "arabic") if s != script]
        return [script, *rest]


def fonts(size: int, bold: bool = False) -> FontSet:
    return FontSet(size, bold)


# ---------------------------------------------------------------- per-glyph font choice


def script_of(ch: str) -> str | None:
    """The script whose font should draw ``ch`` first; ``None`` for neutral characters that take
    the font of their neighbours (spaces, marks, format characters)."""
    cp = ord(ch)
    cat = unicodedata.category(ch)
    if ch.isspace() or cat in ("Mn", "Me", "Cf", "Zs"):
        return None
    if 0x0E00 <= cp <= 0x0E7F:
        return "thai"
    if (
        0x0600 <= cp <= 0x06FF
        or 0x0750 <= cp <= 0x077F
        or 0x08A0 <= cp <= 0x08FF
        or 0xFB50 <= cp <= 0xFDFF
        or 0xFE70 <= cp <= 0xFEFF
    ):
        return "arabic"
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return "cjk"
    return "latin"


@lru_cache(maxsize=8192)
def _has_glyph(font_key: tuple[str, int], ch: str) -> bool:
    """Whether the font draws ``ch`` with a real glyph rather than .notdef (compared bitmaps)."""
    role, size = font_key
    font = _load(role, size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        return ord(ch) < 128
    try:
        mask = font.getmask(ch, mode="1")
        notdef = font.getmask("\U0010fffd", mode="1")
    except Exception:
        return False
    if mask.size != notdef.size:
        return True
    return bytes(mask) != bytes(notdef)


def _pick(fs: FontSet, ch: str, prev: str | None) -> str:
    script = script_of(ch)
    role = lambda s: s + ("_bold" if fs.bold else "")  # noqa: E731
    if script is None:
        return prev or "latin"
    if (
        prev is not None
        and script == "latin"
        and not ch.isalnum()
        and _has_glyph((role(prev), fs.size), ch)
    ):
        return prev  # punctuation inside a Thai / Arabic run stays in that font
    for s in fs.order(script):
        if _has_glyph((role(s), fs.size), ch):
            return s
    return script


# ---------------------------------------------------------------- bidi


def _levels(text: str, rtl_base: bool) -> list[tuple[str, int]]:
    """(char, resolved embedding level) in logical order, via python-bidi's reference UBA."""
    if not rtl_base and not any(
        unicodedata.bidirectional(c) in ("R", "AL", "RLE", "RLO", "RLI") for c in text
    ):
        return [(c, 0) for c in text]
    from bidi import algorithm as uba

    storage = uba.get_empty_storage()
    base = 1 if rtl_base else uba.get_base_level(text)
    storage["base_level"] = base
    storage["base_dir"] = ("L", "R")[base]
    uba.get_embedding_levels(text, storage, False, False)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    return [(c["ch"], int(c["level"])) for c in storage["chars"]]


@dataclass
class _Run:
    text: str
    level: int
    script: str


def _runs(text: str, fs: FontSet, rtl_base: bool) -> list[_Run]:
    """Runs in *visual* order, each of one font and one direction."""
    runs: list[_Run] = []
    prev: str | None = None
    for ch, level in _levels(text, rtl_base):
        if ch in _BIDI_CONTROLS:
            continue
        if ch == "\u00a0" or ch == "\u202f":
            ch = " "
        script = _pick(fs, ch, prev)
        prev = script
        if runs and runs[-1].level == level and runs[-1].script == script:
            runs[-1].text += ch
        else:
            runs.append(_Run(ch, level, script))
    if not runs:
        return runs
    # rule L2: from the highest level down to the lowest odd one, reverse contiguous sequences
    top = max(r.level for r in runs)
    low_odd = min((r.level for r in runs if r.level % 2), default=top + 1)
    for lvl in range(top, low_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i].level >= lvl:
                j = i
                while j < len(runs) and runs[j].level >= lvl:
                    j += 1
                runs[i:j] = runs[i:j][::-1]
                i = j
            else:
                i += 1
    return runs


def _run_kwargs(run: _Run) -> dict:
    if not HAVE_RAQM:
        return {}
    kw: dict = {"direction": "rtl" if run.level % 2 else "ltr"}
    if run.script == "arabic":
        kw["language"] = "ar"
    elif run.script == "thai":
        kw["language"] = "th"
    elif run.script == "cjk":
        kw["language"] = "zh-Hans"
    return kw


def measure(text: str, fs: FontSet, rtl_base: bool = False) -> int:
    total = 0.0
    for run in _runs(text, fs, rtl_base):
        total += fs.font(run.script).getlength(run.text, **_run_kwargs(run))
    return int(round(total))


def draw_text(
    draw: ImageDraw.ImageDraw, x: int, baseline: int, text: str, fs: FontSet, rtl_base: bool = False
) -> int:
    """Draw ``text`` with its left edge at ``x`` on ``baseline``; returns the width drawn."""
    cx = float(x)
    for run in _runs(text, fs, rtl_base):
        font = fs.font(run.script)
        kw = _run_kwargs(run)
        draw.text((cx, baseline), run.text, font=font, fill=0, anchor="ls", **kw)
        cx += font.getlength(run.text, **kw)
    return int(round(cx - x))


# ---------------------------------------------------------------- layout in pixels


def _clusters(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and (unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf")):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap_pixels(text: str, width: int, fs: FontSet, rtl: bool) -> list[str]:
    if measure(text, fs, rtl) <= width:
        return [text]
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = word if not cur else cur + " " + word
        if measure(cand, fs, rtl) <= width:
            cur = cand
            continue
        if cur:
            lines.append(cur)
            cur = ""
        while measure(word, fs, rtl) > width:
            cl = _clusters(word)
            piece = ""
            while cl and measure(piece + cl[0], fs, rtl) <= width:
                piece += cl.pop(0)
            if not piece:
                piece = cl.pop(0)
            lines.append(piece)
            word = "".join(cl)
        cur = word
    if cur or not lines:
        lines.append(cur)
    return lines
