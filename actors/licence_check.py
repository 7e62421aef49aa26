"""The licence keeper's checks with the cloud: one signed question (``check_once``, never raises)
and the schedule (``run``: every ``interval_s``, failures retried with jittered backoff). A mixin
of ``actors.licence.LicenceKeeper``, which sets these attributes."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from actors.licence_transport import CheckTransport
from domain.errors import KassaError
from domain.licence import (
    Decision,
    Licence,
    LicenceChecked,
    LicenceCheckFailed,
    Standing,
    answer_text,
    read_result,
)
from domain.ports import Clock

__all__ = ["KeeperChecks"]

log = logging.getLogger("actors.licence")


class KeeperChecks:
    store_id: str
    public_key: Any
    transport: CheckTransport | None
    clock: Clock
    interval_s: float
    backoff_base_s: float
    backoff_max_s: float
    check_timeout_s: float
    rng: Callable[[], float]
    _lock: asyncio.Lock
    licence: Licence | None
    licence_file: dict[str, Any] | None
    local: dict[str, Any]
    standing: Standing
    _read_clock: Callable[[list[Any]], int]
    _decision: Callable[[int], Decision]
    _save: Callable[[], None]
    _journal: Callable[[list[Any]], Awaitable[None]]

    # ------------------------------------------------------------ checks
    async def check_once(self) -> dict[str, Any]:
        """Ask the cloud once. Returns {ok, code, message, ...}; never raises."""
        events: list[Any] = []
        try:
            async with self._lock:
                out = await self._check(events)
        except Exception as exc:  # never let a check disturb the store
            log.exception("licence check crashed")
            out = {"ok": False, "code": "licence.check_crashed", "message": str(exc)}
        await self._journal(events)
        return out

    async def _check(self, events: list[Any]) -> dict[str, Any]:
        st = self.local
        now = self._read_clock(events)
        st["last_attempt_local"] = now
        if self.licence is None or self.licence_file is None:
            self._save()
            return {"ok": False, "code": "licence.missing", "message": "no licence installed"}
        if self.transport is None:
            self._save()
            return {"ok": False, "code": "licence.no_transport", "message": "no cloud configured"}
        nonce = secrets.token_hex(16)
        request = {
            "store_id": self.store_id,
            "licence": self.licence_file,
            "nonce": nonce,
            "store_time": now,
        }
        try:
            answer = await asyncio.wait_for(self.transport.check(request), self.check_timeout_s)
            res = read_result(
                answer,
                self.public_key,
                store_id=self.store_id,
                licence_id=self.licence.licence_id,
                nonce=nonce,
            )
        except Exception as exc:
            if isinstance(exc, KassaError):
                code, msg = exc.code, exc.message
            elif isinstance(exc, asyncio.TimeoutError):
                code, msg = "licence.cloud_timeout", "the cloud did not answer in time"
            else:
                code, msg = "licence.cloud_unreachable", f"{type(exc).__name__}: {exc}"
            st["failures"] += 1
            st["last_error"] = {"code": code, "message": msg, "local_time": now}
            self._save()
            d = self._decision(now)
            events.append(
                LicenceCheckFailed(
                    self.licence.licence_id, code, msg, st["failures"], now, d.grace_days_left
                )
            )
            log.warning("licence check failed (%s): %s", code, msg)
            return {
                "ok": False,
                "code": code,
                "message": msg,
                "attempt": st["failures"],
                "grace_days_left": d.grace_days_left,
            }
        local = self.clock.now_us()
        # the cloud's signed time is the trusted one: it resets the high-water mark; times seen
        # before it that lie ahead of it (a clock that ran fast) are disowned. The answer is
        # journaled as it came, signature and all: a restart rebuilds from it (``Standing``).
        ev = LicenceChecked(
            res.licence_id,
            res.status,
            res.server_time,
            local,
            nonce,
            res.reason,
            0,
            False,
            answer_text(answer),
        )
        cleared = self.standing.apply(local, ev)
        st["failures"] = 0
        st["last_error"] = None
        self._save()
        d = self._decision(local)
        events.append(replace(ev, grace_days_left=d.grace_days_left, cleared_tamper=cleared))
        skew_s = (local - res.server_time) / 1_000_000
        code = "licence.checked" if res.status == "ok" else f"licence.{res.status}"
        return {
            "ok": res.status == "ok",
            "code": code,
            "status": res.status,
            "message": res.reason or res.status,
            "server_time": res.server_time,
            "clock_skew_s": skew_s,
            "cleared_tamper": cleared,
            "grace_days_left": d.grace_days_left,
        }

    def _next_delay_s(self, last: dict[str, Any] | None) -> float:
        if last is not None and last.get("code") in ("licence.missing", "licence.no_transport"):
            return min(self.interval_s, self.backoff_max_s)  # look again for a new licence
        if last is not None and not last.get("ok") and last.get("status") is None:
            n = max(1, int(self.local["failures"]))
            base = min(self.backoff_max_s, self.backoff_base_s * 2 ** (n - 1))
            return base * (0.5 + self.rng() / 2)  # jitter: half to full
        checked = self.standing.last_check
        if (
            last is None
            and self.local["last_attempt_local"]
            and checked
            and not self.local["failures"]
        ):
            since = (self.clock.now_us() - checked["local_time"]) / 1_000_000
            if 0 <= since < self.interval_s:
                return self.interval_s - since  # checked recently (before a restart)
            return 0.0
        if last is None:
            return 0.0
        return self.interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Check every ``interval_s``; on failure retry with jittered backoff. Returns when ``stop``
        is set; never raises."""
        last: dict[str, Any] | None = None
        while not stop.is_set():
            try:
                delay = self._next_delay_s(last)
            except Exception:
                log.exception("licence scheduler")
                delay = self.backoff_max_s
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return
                except TimeoutError:
                    pass
            if stop.is_set():
                return
            last = await self.check_once()
