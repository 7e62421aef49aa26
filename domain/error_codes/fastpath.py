"""Codes of the store server's start and stop (the selling path comes up before the rest)."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import Unavailable

__all__ = ["Lifecycle"]


class Lifecycle(Code):
    STARTING = (
        "store.starting",
        Unavailable,
        "The store server is starting. Try again in a moment; nothing is lost.",
    )
    STOPPING = (
        "store.stopping",
        Unavailable,
        "The store server is restarting. Try again in a moment; nothing is lost.",
    )
