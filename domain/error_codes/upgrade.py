"""Codes of upgrades: event versions this code cannot read, data formats, the hand-over."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Conflict, Unavailable

__all__ = ["Upgrade"]

T_NEWER = "This data was written by a newer kassa. Run that version, or restore a backup."


class Upgrade(Code):
    EVENT_TOO_NEW = "event.too_new", Conflict, T_NEWER
    NO_UPCASTER = (
        "event.no_upcaster",
        Conflict,
        "This kassa cannot read an old event. Report it to support.",
    )
    FORMAT_TOO_NEW = "store.format_too_new", Conflict, T_NEWER
    BAD_FORMAT = (
        "store.bad_format",
        Conflict,
        "The data folder's format file is damaged. Restore it from a backup.",
    )
    MIGRATION_FAILED = (
        "store.migration_failed",
        Unavailable,
        "Updating the data folder failed; the backup taken before it is kept. Call support.",
    )
    ALREADY_RUNNING = (
        "store.already_running",
        Conflict,
        "A store server already runs on this data folder. Use kassa store upgrade to switch.",
    )
    HANDOVER_FAILED = (
        "store.handover_failed",
        Unavailable,
        "The new version could not take over; the running server keeps serving.",
    )
