"""Codes of the member desk (issue 15): registering, editing and importing members."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, InvalidInput

__all__ = ["Desk"]


class Desk(Code):
    NO_CONSENT = (
        "member.no_consent",
        InvalidInput,
        "Ask the customer whether they agree to marketing, and choose yes or no.",
    )
    BAD_ID = (
        "member.bad_id",
        InvalidInput,
        "A member number is 1–64 letters, digits, '-', '_' or '.'.",
    )
    NO_NAME = "member.no_name", InvalidInput, "Enter the member's name."
    BAD_PHONE = (
        "member.bad_phone",
        InvalidInput,
        "Enter the phone number with digits only (a leading + and spaces are fine).",
    )
    PHONE_TAKEN = (
        "member.phone_taken",
        Conflict,
        "This phone number belongs to another member. Check it.",
    )
    DUPLICATE_ROW = (
        "member.duplicate_row",
        InvalidInput,
        "The file names this member, card or phone twice. Keep one row.",
    )
    NO_ROWS = "member.no_rows", InvalidInput, "The file has no member rows."
    BAD_COLUMNS = (
        "member.bad_columns",
        InvalidInput,
        "The file needs the columns member, name, phone, card and consent.",
    )
