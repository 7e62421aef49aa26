"""Codes of no-sale drawer openings (the till's "Open drawer") and of HQ's flags inbox."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import InvalidInput, NotFound

__all__ = ["Drawer", "HqFlag"]


class Drawer(Code):
    BAD_REASON = "drawer.bad_reason", InvalidInput, "Choose why the drawer is opened."
    NOTE_REQUIRED = (
        "drawer.note_required",
        InvalidInput,
        "Write a few words saying why the drawer is opened.",
    )


class HqFlag(Code):
    NOT_FOUND = "hqflag.not_found", NotFound, "No such flag at HQ."
    BAD_FILTER = "hqflag.bad_filter", InvalidInput, "That filter is not valid."
