"""What the till shows for an error: the registered text of its code (``domain.error_codes``), in
the staff member's language, saying what to do next. Nothing else reaches the screen: an error
code the registry does not know (an older or newer store), or a bug's message, is logged for the
developers and the person reads a plain sentence with a next step instead."""

from __future__ import annotations

import logging

from domain.error_codes import Kiosk, lookup
from kiosk.client import ApiError
from kiosk.i18n import N_, _

__all__ = ["error_text", "code_text", "UNKNOWN_REFUSAL"]

log = logging.getLogger(__name__)

# a refusal whose code this till does not know
UNKNOWN_REFUSAL = N_(
    "The store refused this. Check what you entered and try again; "
    "if it happens again, call the manager."
)


def code_text(code: str, default: str = UNKNOWN_REFUSAL) -> str:
    """The translated text of a registered ``code``; ``default`` (translated) for any other."""
    try:
        return _(lookup(code).text)
    except (KeyError, TypeError):
        if code:
            log.warning("an error code the registry does not know: %r", code)
        return _(default)


def error_text(exc: BaseException) -> str:
    """Words for the person at the till for ``exc``: never a raw code or a developer's text."""
    code = getattr(exc, "code", "")
    if not isinstance(code, str) or not code:
        log.warning("till error without a code: %r", exc)
        return _(Kiosk.ERROR.text)
    return code_text(code, UNKNOWN_REFUSAL if isinstance(exc, ApiError) else Kiosk.ERROR.text)
