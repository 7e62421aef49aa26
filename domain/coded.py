"""Typed input from the wire: msgspec converts plain data into a command's Struct, and a field that
does not fit is refused with that field's stable code (the codes the store answered before the
commands were typed), or ``input.invalid`` for a field without one.

A command class lists its codes in ``CODES``: a path (``qty``, ``tenders[]``, ``tenders[].kind``; a
list item is ``[]``, the object itself is ``""``) -> (error class, code, message).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from domain.errors import InvalidInput, KassaError

__all__ = ["Code", "Codes", "convert", "where"]

Code = tuple[type[KassaError], str, str]
Codes = dict[str, Code]
T = TypeVar("T")

_AT = re.compile(r" - at `\$([^`]*)`$")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_INDEX = re.compile(r"\[\d+\]")


def where(exc: msgspec.ValidationError) -> str:
    """The path of the value msgspec refused, list indexes as ``[]`` (``tenders[].amount``)."""
    msg = str(exc)
    at = _AT.search(msg)
    path = _INDEX.sub("[]", at.group(1)).lstrip(".") if at else ""
    missing = _MISSING.search(msg)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path


def convert(data: Any, cls: type[T], codes: Codes) -> T:
    """``data`` as a ``cls``, or the coded error of the first field that does not fit."""
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        path = where(exc)
        known = codes.get(path)
        if known is None:
            raise InvalidInput("input.invalid", str(exc), field=path) from None
        err, code, message = known
        raise err(code, message) from None
