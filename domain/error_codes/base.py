"""What every registered error code carries (see ``domain.error_codes``)."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import KassaError

__all__ = [
    "Code",
    "LOCAL",
    "T_NOT_USABLE",
    "T_BUSY",
    "T_BAD_SETUP",
    "T_NO_SESSION",
    "T_WRONG_PIN",
    "T_NOT_ALLOWED",
    "T_DAY_CLOSED",
    "T_NOT_OFFERED",
    "T_BAD_SIGNATURE",
    "T_BAD_UPLOAD",
    "T_BAD_AMOUNT",
    "T_BAD_DATE",
    "T_LOCKED",
]

LOCAL = 0  # the status of a code that is never an HTTP answer (raised and shown in one program)


class Code(StrEnum):
    """One area's codes. A member is the code itself (``Day.BASKETS_OPEN == "day.baskets_open"``),
    so ``raise Conflict(Day.BASKETS_OPEN, ...)`` and comparisons with plain strings both work.

    A member is written ``NAME = "area.reason", how, text`` or ``..., text, also``:

    * ``how``: the ``KassaError`` class it is raised as (its ``http_status`` is the answer's), or an
      HTTP status for an answer built without one, or ``LOCAL``;
    * ``text``: what the operator reads, in English: short, plain, says what to do. The till
      translates it (``kiosk/locale``);
    * ``also``: other statuses the same code is answered with today.
    """

    _value_: str
    error: type[KassaError] | None
    status: int
    text: str
    also: tuple[int, ...]

    def __new__(
        cls, code: str, how: type[KassaError] | int, text: str, also: tuple[int, ...] = ()
    ) -> Code:
        if not isinstance(text, str):
            raise TypeError(f"{code}: the text is {text!r}, not a string")
        member = str.__new__(cls, code)
        member._value_ = code
        if isinstance(how, int):
            member.error, member.status = None, how
        else:
            member.error, member.status = how, how.http_status
        member.text = text
        member.also = also
        return member

    @property
    def code(self) -> str:
        return self._value_

    @property
    def area(self) -> str:
        return self._value_.split(".", 1)[0]

    @property
    def statuses(self) -> tuple[int, ...]:
        """Every HTTP status this code is answered with (none for a ``LOCAL`` code)."""
        return (self.status, *self.also) if self.status else self.also


# texts several codes share (one translation each)
T_NOT_USABLE = (
    "The store cannot use this request. Try again; if it happens again, call the manager."
)
T_BUSY = "The store server is busy. Try again in a moment; nothing is lost."
T_BAD_SETUP = "The store is set up wrongly. Call the administrator."
T_NO_SESSION = "Your session has ended. Please sign in again."
T_WRONG_PIN = "Wrong staff number or PIN. Check both and try again."
T_NOT_ALLOWED = "Your role may not do this. Ask a manager."
T_DAY_CLOSED = "The business day is closed. A manager must open it."
T_NOT_OFFERED = "This store server does not offer this yet. Update the store server."
T_BAD_SIGNATURE = "HQ did not accept this store's signature. Link the store to HQ again."
T_BAD_UPLOAD = "HQ could not read an upload from this store. Call HQ."
T_BAD_AMOUNT = "That amount is not valid."
T_BAD_DATE = "Write the date as YYYY-MM-DD."
T_LOCKED = "This account is locked. Ask a manager."
