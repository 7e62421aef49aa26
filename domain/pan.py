"""Card numbers (PANs) never enter the store: one check for every piece of free text.

A payment card number is 13–19 digits passing the Luhn check. People (and attackers) write one in
many ways, so the check reads text the way a person would:

* a digit is any Unicode decimal digit (ASCII, full-width ``４１１１``, Arabic-Indic, …);
* digits may be split by separators: spaces of any kind (no-break, thin, ideographic…), dashes,
  dots, slashes, underscores, commas, other punctuation and symbols, and invisible characters
  (zero-width space, soft hyphen, combining marks), as many as you like;
* a letter ends a number.

Within such a group of digit chunks, every run of whole consecutive chunks holding 13–19 digits is a
candidate; a candidate that passes Luhn is a card number. A single unbroken run of more than 19
digits (a long terminal or transaction reference) is not searched inside (nor is a chunk of digits
glued to a card number without a separator): it is not a card number as written, and searching it
would refuse almost every long reference. A number of 13–19 digits that fails Luhn (most terminal
references) is accepted.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from domain.error_codes import Payment
from domain.errors import InvalidInput

__all__ = [
    "looks_like_card_number",
    "refuse_card_number",
    "refuse_card_numbers_in",
    "luhn_ok",
    "CARD_NUMBER_CODE",
    "CODE_FIELDS",
]

CARD_NUMBER_CODE = Payment.CARD_NUMBER_REFUSED
MIN_PAN, MAX_PAN = 13, 19
# codes, not free text: a scanned or printed code (EAN-13, an in-store SKU) may pass Luhn by chance
CODE_FIELDS = frozenset({"sku", "barcodes", "plu", "code"})


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _kind(ch: str) -> tuple[str, int]:
    """('d', value) for a digit, ('i', 0) for an invisible character, ('s', 0) for a visible
    separator, ('x', 0) for a letter (it ends a number)."""
    if "0" <= ch <= "9":
        return "d", ord(ch) - 48
    if ch.isascii():
        return ("x", 0) if ch.isalpha() else ("s", 0)
    value = unicodedata.digit(ch, None)
    if value is not None:
        return "d", value
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Mn", "Me"):
        return "i", 0
    if cat[0] in ("L", "N"):
        return "x", 0
    return "s", 0


def _groups(text: str) -> list[list[str]]:
    """Groups of digit chunks: chunks split by separators, groups split by letters. Invisible
    characters are skipped."""
    groups: list[list[str]] = []
    chunks: list[str] = []
    cur: list[str] = []
    for ch in text + "x":
        kind, value = _kind(ch)
        if kind == "d":
            cur.append(chr(48 + value))
        elif kind != "i" and cur:
            chunks.append("".join(cur))
            cur = []
        if kind == "x" and chunks:
            groups.append(chunks)
            chunks = []
    return groups


def looks_like_card_number(text: str) -> bool:
    """True if ``text`` holds something written like a payment card number (see the module)."""
    if sum(1 for ch in text if ch.isdigit()) < MIN_PAN:  # the common case: no long number
        return False
    for chunks in _groups(text):
        for i in range(len(chunks)):
            n = 0
            for j in range(i, len(chunks)):
                n += len(chunks[j])
                if n > MAX_PAN:
                    break
                if n >= MIN_PAN and luhn_ok("".join(chunks[i : j + 1])):
                    return True
    return False


def refuse_card_number(value: str, field: str) -> str:
    """``value`` unchanged, or ``InvalidInput(payment.card_number_refused)`` naming ``field``."""
    if looks_like_card_number(value):
        raise InvalidInput(
            CARD_NUMBER_CODE,
            f"{field!r} looks like a card number: never enter "
            "one (keep the terminal's reference and the last 4 digits)",
            field=field,
        )
    return value


def refuse_card_numbers_in(
    value: Any, field: str, skip: frozenset[str] = frozenset(), depth: int = 0
) -> None:
    """Check every string inside ``value`` (dicts, lists), except dict keys named in ``skip``
    (codes such as barcodes and SKUs, which are not free text)."""
    if isinstance(value, str):
        refuse_card_number(value, field)
    elif depth > 8:
        return
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                refuse_card_number(k, field)
            if k not in skip:
                refuse_card_numbers_in(v, f"{field}.{k}", skip, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            refuse_card_numbers_in(v, field, skip, depth + 1)
