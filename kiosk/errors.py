"""What the till shows for an error: the registered operator text of its code, translated."""

from __future__ import annotations

from domain.error_codes import lookup
from kiosk.client import ApiError
from kiosk.i18n import _

__all__ = ["error_text"]


def error_text(exc: BaseException) -> str:
    """Words for the operator: the registered text of the error's code (``domain.error_codes``),
    translated; an unknown code is named as it came."""
    code = getattr(exc, "code", "")
    try:
        return _(lookup(code).text)
    except KeyError:  # not registered (an older or newer store): name the code
        pass
    if isinstance(exc, ApiError):
        return _("The store refused: {code}").format(code=code)
    return _("Something went wrong: {error}").format(error=str(exc)[:120])
