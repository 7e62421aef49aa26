"""The till's languages: gettext catalogues (Babel), locale formatting, and right-to-left display.

* Every user-visible string goes through ``_()`` (or ``N_()`` for strings defined before a language
  is chosen, translated later with ``_()``). The catalogues live in
  ``kiosk/locale/<lang>/LC_MESSAGES/kassa.po``; ``compile_catalogues()`` builds the ``.mo`` beside
  each one (Babel) and runs by itself when a ``.mo`` is missing or older than its ``.po``.
* ``set_language(lang)`` switches the whole till (each staff member's language at sign-in).
* Money, numbers and dates are formatted for the language's locale with Babel.
* Tk draws text left to right and does not join Arabic letters: ``shown(text)`` shapes Arabic
  (arabic-reshaper) and reorders it for display (python-bidi). Widgets get ``T("...")`` =
  ``shown(_("..."))``; text from the store (product names, member names) goes through ``shown`` too.
"""

from __future__ import annotations

import datetime as _dt
import gettext
import re
import threading
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

from babel.dates import format_datetime
from babel.numbers import format_decimal

from domain.money import format_money, precision

__all__ = [
    "LANGS",
    "LANG_NAMES",
    "set_language",
    "current",
    "_",
    "N_",
    "T",
    "ngettext",
    "counted",
    "shown",
    "has_rtl",
    "is_rtl",
    "money",
    "number",
    "weight",
    "when",
    "locale_of",
    "compile_catalogues",
    "LOCALE_DIR",
    "translator",
]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "kassa"
LANGS = ("en", "zh", "th", "ar")
# each language's own name (shown on the sign-in screen; not translated on purpose)
LANG_NAMES = {"en": "English", "zh": "中文", "th": "ไทย", "ar": "العربية"}
_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN", "th": "th_TH", "ar": "ar_SA"}
_RTL = {"ar"}

_MARKS = (
    "\u200e",
    "\u200f",
    "\u061c",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
)
_STRIP = {ord(m): None for m in _MARKS}
_KEEP_ISOLATES = {ord(m): None for m in _MARKS if m not in "\u2066\u2067\u2068\u2069"}
_lock = threading.Lock()


class _State(TypedDict):
    lang: str
    tr: gettext.NullTranslations


_state: _State = {"lang": "en", "tr": gettext.NullTranslations()}
_cache: dict[str, gettext.NullTranslations] = {}


def base(lang: str | None) -> str:
    lang = (lang or "en").replace("-", "_").split("_")[0].lower()
    return lang if lang in LANGS else "en"


def locale_of(lang: str | None = None) -> str:
    return _LOCALES[base(lang or _state["lang"])]


def compile_catalogues(force: bool = False) -> list[Path]:
    """Compile every ``kassa.po`` under ``LOCALE_DIR`` to ``kassa.mo`` (when stale, or always)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    done = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            cat = read_po(f, locale=po.parent.parent.name)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, cat, use_fuzzy=False)
        tmp.replace(mo)
        done.append(mo)
    return done


def translator(lang: str) -> gettext.NullTranslations:
    lang = base(lang)
    with _lock:
        if lang in _cache:
            return _cache[lang]
        try:
            compile_catalogues()
        except OSError:  # a read-only install: use whatever .mo shipped
            pass
        tr = gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang], fallback=True)
        _cache[lang] = tr
        return tr


def set_language(lang: str) -> str:
    lang = base(lang)
    _state["tr"] = translator(lang)
    _state["lang"] = lang
    return lang


def current() -> str:
    return _state["lang"]


def is_rtl(lang: str | None = None) -> bool:
    return base(lang or _state["lang"]) in _RTL


def _(message: str) -> str:
    return _state["tr"].gettext(message)


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later with ``_()``."""
    return message


def counted(one: str, many: str, n: int, **values: object) -> str:
    """``one`` (its own message, written for exactly 1: "1 line, {amount}") when ``n`` is 1, else
    ``many`` with ``{n}``; both marked with ``N_`` where they are written."""
    return (_(one) if n == 1 else _(many)).format(n=number(n), **values)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _state["tr"].ngettext(singular, plural, n)


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds right-to-left letters (Hebrew, Arabic, their presentation forms)."""
    return any(_rtl_char(ch) for ch in text)


def shown(text: object, lang: str | None = None, base_dir: str | None = None) -> str:
    """Text as Tk must draw it: Arabic (and other RTL) shaped and in visual order, brackets mirrored
    where they sit in right-to-left runs. ``base_dir`` ("L"/"R") overrides the paragraph direction
    (by default the language's)."""
    s = "" if text is None else str(text)
    rtl = has_rtl(s)
    if any(m in s for m in _MARKS):  # Tk draws bidi control marks as boxes; isolates (FSI…PDI
        s = s.translate(_KEEP_ISOLATES if rtl else _STRIP)  # around a range of hours) order first
    if not s or not rtl:
        return s
    import arabic_reshaper
    from bidi import get_display

    direction = base_dir or ("R" if is_rtl(lang) else "L")
    out = []
    for line in s.split("\n"):
        line = _mirror(arabic_reshaper.reshape(line), direction)
        out.append(get_display(line, base_dir=direction).translate(_STRIP))
    return "\n".join(out)


_PAIRS = {
    "(": ")",
    ")": "(",
    "[": "]",
    "]": "[",
    "{": "}",
    "}": "{",
    "<": ">",
    ">": "<",
    "«": "»",
    "»": "«",
}
_LEVELS = re.compile(r"levels: \[(.*?)\]", re.S)


def _rtl_char(ch: str) -> bool:
    return "\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufefc"


def _mirror(logical: str, direction: str) -> str:
    """Mirror the brackets that the bidi algorithm puts in right-to-left runs (rule L4: python-bidi
    reorders but does not mirror, and Tk doesn't either). Works on the logical text, before the
    reordering, from the embedding level of each character (odd = right to left)."""
    if not any(ch in _PAIRS for ch in logical):
        return logical
    from bidi import get_display

    info = str(get_display(logical, base_dir=direction, debug=True))
    found = _LEVELS.search(info)
    if found is None:  # a python-bidi that answers differently: leave the brackets as they are
        return logical
    levels = [int(x) for x in re.findall(r"\d+", found.group(1))]
    out, at = [], 0  # the levels are per UTF-8 byte
    for ch in logical:
        odd = at < len(levels) and levels[at] % 2 == 1
        out.append(_PAIRS[ch] if odd and ch in _PAIRS else ch)
        at += len(ch.encode("utf-8"))
    return "".join(out)


def T(message: str) -> str:
    """Translate and prepare for display (the usual call for widget text)."""
    return shown(_(message))


def money(amount: int, currency: str, lang: str | None = None) -> str:
    return format_money(int(amount), currency, locale_of(lang))


def number(value: int | Decimal, lang: str | None = None) -> str:
    return format_decimal(value, locale=locale_of(lang))


def weight(grams: int, lang: str | None = None) -> str:
    """Grams as kilograms with three decimals (exact: Decimal, never float)."""
    return (
        format_decimal(Decimal(int(grams)).scaleb(-3), format="#,##0.000", locale=locale_of(lang))
        + " kg"
    )


def when(ts_us: int | None = None, zone: str = "UTC", lang: str | None = None) -> str:
    """A journal time (µs since the epoch, UTC) in the store's zone, formatted for the language."""
    from zoneinfo import ZoneInfo

    if ts_us is None:
        dt = _dt.datetime.now(_dt.UTC)
    else:
        dt = _dt.datetime.fromtimestamp(int(ts_us) / 1_000_000, _dt.UTC)
    tz: _dt.tzinfo
    try:
        tz = ZoneInfo(zone)
    except Exception:  # an unknown zone shows UTC
        tz = _dt.UTC
    return format_datetime(dt.astimezone(tz), "medium", locale=locale_of(lang))


def minor_digits(currency: str) -> int:
    return precision(currency)
