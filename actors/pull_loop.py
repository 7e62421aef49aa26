"""The store's pull loops from HQ (members, coupons): one step every ``interval_s``, forever; a
failure doubles the wait (up to five minutes) and leaves its code in ``last_error`` for the status,
and the next success clears it. Offline is the normal case here, so the loop never dies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from domain.errors import KassaError

__all__ = ["keep_pulling"]

log = logging.getLogger(__name__)
MAX_DELAY_S = 300.0


class Puller(Protocol):
    interval_s: float
    last_error: str


async def keep_pulling(owner: Puller, step: Callable[[], Awaitable[object]], what: str) -> None:
    delay = owner.interval_s
    while True:
        try:
            await step()
            owner.last_error, delay = "", owner.interval_s
        except KassaError as exc:
            owner.last_error = exc.code
            delay = min(delay * 2, MAX_DELAY_S)
        except Exception:  # the status says why; the loop goes on
            log.exception("%s failed", what)
            delay = min(delay * 2, MAX_DELAY_S)
        await asyncio.sleep(delay)
