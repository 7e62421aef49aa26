"""Build the till's gettext catalogues with Babel.

``python -m kiosk.catalogues`` extracts every ``_()``, ``N_()``, ``T()`` and ``ngettext()`` string
from ``kiosk/`` (Babel's Python extractor) and every error code's text (``domain.error_codes``),
writes ``kiosk/locale/kassa.pot``, and writes each language's
``kiosk/locale/<lang>/LC_MESSAGES/kassa.po`` from the translation sheets
``kiosk/locale/translations.tsv`` (plus any ``translations-<part>.tsv`` beside it, one per
part of the till, so parts are translated without touching one shared file) and
``kiosk/locale/errors.tsv`` (the error texts; one row per
English message: English, Chinese, Thai, Arabic, tab-separated), then compiles the ``.mo`` files.
``missing()`` lists the messages a catalogue lacks (the tests use it).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_messages
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from domain.error_codes import entries
from kiosk.i18n import DOMAIN, LANGS, LOCALE_DIR, compile_catalogues

__all__ = ["extract", "sheet", "build", "missing", "KEYWORDS"]

PACKAGE = Path(__file__).resolve().parent
EXTRA_PACKAGES = (PACKAGE.parent / "admin",)  # other programs speaking through these catalogues
KEYWORDS = {"_": None, "N_": None, "T": None, "ngettext": (1, 2)}
SHARED = ("analytics/flag_words.py",)  # files outside kiosk/ whose N_() texts the till shows
SHEET = LOCALE_DIR / "translations.tsv"
ERROR_SHEET = LOCALE_DIR / "errors.tsv"  # the texts of domain.error_codes not in SHEET already
_COLUMNS = {"zh": 1, "th": 2, "ar": 3}
# a fixed header date: regenerating the catalogues changes nothing unless a message changed
_FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def extract() -> dict[str, list[tuple[str, int]]]:
    """Every user-visible message in the kiosk's source → where it appears."""
    out: dict[str, list[tuple[str, int]]] = {}
    for pkg in (PACKAGE, *EXTRA_PACKAGES):  # the till's texts, and HQ's admin app's
        for fn, lineno, msg, _comments, _ctx in extract_from_dir(
            str(pkg), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            key = msg if isinstance(msg, str) else msg[0]
            if key:
                out.setdefault(key, []).append((f"{pkg.name}/{fn}", lineno))
    for rel in SHARED:  # messages of other packages shown on the till (and at HQ)
        with (PACKAGE.parent / rel).open("rb") as f:
            for lineno, msg, _c, _x in extract_messages("python", f, keywords=KEYWORDS):
                key = msg if isinstance(msg, str) else msg[0]
                if key:
                    out.setdefault(key, []).append((rel, lineno))
    for entry in entries():
        place = (type(entry).__module__.replace(".", "/") + ".py", 0)
        where = out.setdefault(entry.text, [])
        if place not in where:
            where.append(place)
    return out


def sheet() -> dict[str, tuple[str, ...]]:
    rows: dict[str, tuple[str, ...]] = {}
    # translations.tsv first, then any further sheet (translations-<part>.tsv), then the errors
    extra = sorted(p for p in LOCALE_DIR.glob("translations*.tsv") if p != SHEET)
    for path in (SHEET, *extra, ERROR_SHEET):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            cols = line.split("\t")
            rows.setdefault(cols[0], tuple(cols))
    return rows


def build() -> list[str]:
    """Write the .pot and every .po from the source and the sheet; compile. Returns problems."""
    msgs = extract()
    tr = sheet()
    problems = []
    pot = Catalog(domain=DOMAIN, project="kassa", charset="utf-8", creation_date=_FIXED_DATE)
    for msg, where in sorted(msgs.items()):
        pot.add(msg, locations=where)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, pot, width=100, omit_header=False, no_location=True)
    for lang in LANGS:
        cat = Catalog(
            locale=lang if lang != "zh" else "zh_Hans_CN",
            domain=DOMAIN,
            project="kassa",
            charset="utf-8",
            creation_date=_FIXED_DATE,
            revision_date=_FIXED_DATE,
        )
        cat.fuzzy = False
        for msg, where in sorted(msgs.items()):
            if lang == "en":
                text = msg
            else:
                row = tr.get(msg)
                text = row[_COLUMNS[lang]] if row and len(row) > _COLUMNS[lang] else ""
                if not text:
                    problems.append(f"{lang}: no translation for {msg!r}")
            cat.add(msg, text, locations=where)
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, cat, width=100, no_location=True)
    compile_catalogues(force=True)
    return problems


def missing(lang: str) -> list[str]:
    """Messages used in the source that ``lang``'s catalogue lacks or leaves untranslated."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        cat = read_po(f)
    have = {m.id: m.string for m in cat if m.id}
    return sorted(msg for msg in extract() if not have.get(msg))


if __name__ == "__main__":
    issues = build()
    for p in issues:
        print(p, file=sys.stderr)
    sys.exit(1 if issues else 0)
