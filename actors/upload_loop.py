"""The uploader's loop and report: ``run`` (at once while there is a backlog, then on
``notify()`` or a timer, backing off after failures), ``drain`` for tests, the delivery rate and
``status()``. A mixin of ``actors.uploader.Uploader``, which sets these attributes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["LoopMixin"]

log = logging.getLogger("actors.uploader")


class LoopMixin:
    source: Any
    transport: Any
    clock: Any
    store: str
    acked: int
    interval_s: float
    linger_s: float
    caught_up: bool
    last_success_us: int | None
    failures: int
    last_error: str | None
    last_error_kind: str | None
    last_attempt_us: int | None
    next_delay_s: float
    sent_batches: int
    sent_events: int
    wire_bytes: int
    holdings_asked: int
    in_flight: dict | None
    line_Bps: float | None
    batch_bytes: float
    clock_offset_s: int
    halted: int | None
    _marks: deque[tuple[float, int]]
    _wake: asyncio.Event | None
    step: Callable[[], Awaitable[str]]
    _fail: Callable[..., str]

    def _mark(self) -> None:
        now = time.monotonic()
        self._marks.append((now, self.sent_events))
        while len(self._marks) > 2 and now - self._marks[1][0] > 120:
            self._marks.popleft()

    def rate_events_s(self) -> float | None:
        """Events delivered per second over the last two minutes or so (failures included)."""
        if len(self._marks) < 2:
            return None
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else None

    # ------------------------------------------------------------ loop
    def notify(self) -> None:
        """New events were committed: wake the loop if it is idle (not while backing off)."""
        if self._wake is not None:
            self._wake.set()

    async def _wait(self, stop: asyncio.Event, timeout: float, wake: bool) -> None:
        waits = [asyncio.ensure_future(stop.wait())]
        if wake and self._wake is not None:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Upload until ``stop`` is set: at once while there is a backlog, then what came in
        during ``linger_s``, then on ``notify()`` or every ``interval_s``; after a failure, after a
        jittered, capped, growing delay."""
        self._wake = asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            try:
                res = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("uploader step failed")
                res = self._fail(f"{type(exc).__name__}: {exc}")
            if res == "sent" and self.caught_up and self.linger_s:
                await self._wait(stop, self.linger_s, wake=False)
                continue
            if res in ("sent", "retry"):
                await asyncio.sleep(0)
                continue
            if res == "idle":
                await self._wait(stop, self.interval_s, wake=True)
            else:
                await self._wait(stop, self.next_delay_s, wake=False)

    async def drain(self, max_steps: int = 1_000_000) -> int:
        """Step until nothing is left or an attempt fails; returns the steps taken (for tests)."""
        for n in range(max_steps):
            res = await self.step()
            if res in ("idle", "failed"):
                return n + 1
        return max_steps

    # ------------------------------------------------------------ status
    async def status(self) -> dict[str, Any]:
        last_seq = await self.source.last_seq()
        backlog = max(0, last_seq - self.acked)
        oldest_age_s = None
        oldest_ts = None
        if backlog:
            envs = await self.source.read(self.acked, 1)
            if envs:
                oldest_ts = envs[0].ts
                oldest_age_s = max(0.0, (self.clock.now_us() - oldest_ts) / 1e6)
        rate = self.rate_events_s()
        flight = dict(self.in_flight) if self.in_flight else None
        sending = getattr(self.transport, "sending", None)
        if flight and sending:
            flight["sent_bytes"] = sending["sent"]
        line = getattr(getattr(self.transport, "http", None), "line", None)
        return {
            "store": self.store,
            "acked": self.acked,
            "journal_seq": last_seq,
            "backlog_events": backlog,
            "oldest_unsent_ts": oldest_ts,
            "oldest_unsent_age_s": oldest_age_s,
            "last_success_us": self.last_success_us,
            "clock_offset_s": self.clock_offset_s,
            "last_attempt_us": self.last_attempt_us,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_error_kind": self.last_error_kind,
            "next_retry_s": self.next_delay_s if self.failures else None,
            "sent_batches": self.sent_batches,
            "sent_events": self.sent_events,
            "wire_bytes": self.wire_bytes,
            "wire_bytes_up": getattr(self.transport, "bytes_up", self.wire_bytes),
            "wire_bytes_down": getattr(self.transport, "bytes_down", 0),
            "rate_events_s": round(rate, 2) if rate is not None else None,
            "eta_s": round(backlog / rate) if rate and backlog else (0 if not backlog else None),
            "line_kbit_s": round(self.line_Bps * 8 / 1000, 1) if self.line_Bps else None,
            "batch_target_bytes": int(self.batch_bytes),
            "in_flight": flight,
            "holdings_asked": self.holdings_asked,
            "halted_at": self.halted,
            "yielding": bool(line is not None and line.busy()),
        }
