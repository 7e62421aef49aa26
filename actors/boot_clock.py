"""Where a store server's start spends its time: monotonic timestamps of its steps, written into
``<data>/server.json`` ("boot") once the gateway listens, so ``bench/recovery_crash.py`` can split
a crash-to-selling wait into process start, imports, ledger, catalogue, tills and gateway.

``time.monotonic()`` is one clock for every process of the machine (Linux: CLOCK_MONOTONIC), so a
bench can subtract its own kill and launch times from these. Standard library only: it is
imported first, before the imports it measures.
"""

from __future__ import annotations

import os
import time

__all__ = ["STEPS", "mark", "exec_time"]

STEPS: dict[str, float] = {}  # step -> time.monotonic() when it was done, in start order


def mark(step: str) -> None:
    """Step ``step`` of this start is done now."""
    STEPS[step] = round(time.monotonic(), 4)


def exec_time() -> float | None:
    """When this process was created (monotonic seconds, 10 ms resolution; None off Linux): its
    start time in /proc (clock ticks since boot) moved onto the monotonic clock."""
    try:
        with open(f"/proc/{os.getpid()}/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        return round(time.monotonic() - (since_boot - ticks / os.sysconf("SC_CLK_TCK")), 4)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
