"""The till client's errors and command ids, below ``kiosk.client``, ``kiosk.store_pin`` and
``kiosk.worker`` (which all raise or pass them on)."""

from __future__ import annotations

import uuid

from domain.error_codes import Net

__all__ = ["ApiError", "Offline", "new_id"]


def new_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """An answer from the store that refuses the request (its ``code`` is stable)."""

    def __init__(
        self, code: str, message: str = "", status: int = 0, details: dict | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.details = details or {}


class Offline(ApiError):
    """The store could not be reached, or said it is briefly unavailable: retry with the same id.
    ``retry_in``: seconds after which to send again when the store is restarting (its port
    refused the connection, or it answered ``store.starting``/``store.stopping``); None: the
    worker's backoff (a timeout, an unreachable host)."""

    def __init__(self, message: str = "", status: int = 0, retry_in: float | None = None) -> None:
        super().__init__(Net.OFFLINE, message, status)
        self.retry_in = retry_in
