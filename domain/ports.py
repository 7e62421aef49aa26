"""Small interfaces to the outside world that the domain and the actors depend on."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "ManualClock"]


class Clock(Protocol):
    def now_us(self) -> int:
        """UTC time in microseconds since the epoch."""


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


class ManualClock:
    """A clock for tests and simulations that only moves when told to."""

    def __init__(self, start_us: int = 1_767_225_600_000_000) -> None:  # 2026-01-01T00:00Z
        self.t = start_us

    def now_us(self) -> int:
        return self.t

    def advance(self, seconds: float = 0, us: int = 0) -> None:
        self.t += int(seconds * 1_000_000) + us
