"""The print queue's printing thread: it takes the oldest pending job, builds and encodes its
receipt, sends it, and on failure keeps the job, backs off (with jitter) and probes the printer so a
printer that comes back is used at once. ``PrintQueue`` (``hw.queue``) inherits it; the state it
works on (the jobs database, locks, events, settings) is set up by ``PrintQueue.__init__``."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from hw.encode import encode_receipt
from hw.printer import OFFLINE, OK, PAPER_LOW, UNKNOWN, Printer, PrinterError, Status
from hw.queue_state import QueueState
from hw.receipt import Receipt, build_receipt, build_refund_receipt

__all__ = ["QueueWorker"]

log = logging.getLogger("hw.queue")


class QueueWorker:
    """The printing thread's half of ``PrintQueue``."""

    printer: Printer
    store: Any
    backoff: tuple[float, float]
    probe_every: float
    idle_probe_every: float
    kick_window: float
    keep_done: int
    on_change: Callable[[QueueState], None] | None
    _clock: Callable[[], float]
    _db: sqlite3.Connection
    _dblock: threading.Lock
    _wake: threading.Event
    _stop: threading.Event
    _state_lock: threading.Lock
    _state: QueueState

    def _receipt(self, kind: str, p: dict[str, Any]) -> Receipt:
        if kind == "report" or "doc" in p:  # a report on paper (hw.report_print)
            from hw.report_print import receipt_from_payload

            return receipt_from_payload(p)
        if kind == "coupon" or "coupon" in p:  # a coupon slip (hw.coupon_slip)
            from hw.coupon_slip import receipt_from_payload as coupon_receipt

            return coupon_receipt(p)
        common: dict[str, Any] = {
            "member_balance": p.get("member_balance"),
            "when_us": p.get("when_us"),
            "till": p.get("till") or "",
            "staff": p.get("staff") or "",
            "copy": bool(p.get("copy")),
        }
        if kind == "refund" or (kind == "reprint" and p.get("refund")):
            return build_refund_receipt(
                p["refund"], self.store, p.get("lang", "en"), original=p.get("original"), **common
            )
        return build_receipt(p["order"], self.store, p.get("lang", "en"), **common)

    def _encode(self, job: tuple) -> bytes:
        kind, payload_s, created = job[1], job[2], job[3]
        p = json.loads(payload_s)
        kick = bool(p.get("kick")) and (self._clock() - created) <= self.kick_window
        if kind == "drawer":
            from hw.encode import drawer_kick_bytes

            return drawer_kick_bytes(self.printer.options.drawer_pin) if kick else b""
        return encode_receipt(self._receipt(kind, p), self.printer.options, kick=kick)

    def _set_state(self, **changes: Any) -> None:
        with self._state_lock:
            old = self._state
            new = QueueState(**{**asdict(old), **changes, "changed_at": self._clock()})
            same = {k: v for k, v in asdict(new).items() if k != "changed_at"} == {
                k: v for k, v in asdict(old).items() if k != "changed_at"
            }
            if same:
                return
            self._state = new
        if self.on_change is not None:
            try:
                self.on_change(new)
            except Exception:  # the till's callback must not kill the printer thread
                log.exception("print queue on_change callback failed")

    def _refresh_counts(self) -> None:
        with self._dblock:
            pending, failed = self._db.execute(
                "SELECT COALESCE(SUM(state='pending'),0), COALESCE(SUM(state='failed'),0) FROM jobs"
            ).fetchone()
        self._set_state(pending=int(pending), failed=int(failed))

    def _next_job(self) -> tuple | None:
        with self._dblock:
            return self._db.execute(
                "SELECT id, kind, payload, created, attempts, next_at, number FROM jobs "
                "WHERE state='pending' ORDER BY id LIMIT 1"
            ).fetchone()

    def _delay(self, attempts: int) -> float:
        base, cap = self.backoff
        d = min(cap, base * (2 ** max(0, attempts - 1)))
        return d * random.uniform(0.8, 1.0)

    def _apply_status(self, st: Status) -> None:
        self._set_state(printer=st.state, detail=st.detail)

    def _run(self) -> None:
        last_probe = 0.0
        while not self._stop.is_set():
            try:
                job = self._next_job()
                now = self._clock()
                if job is None:
                    self._set_state(next_retry_at=None)
                    if now - last_probe >= self.idle_probe_every:
                        self._apply_status(self.printer.probe())
                        last_probe = self._clock()
                    self._wake.wait(self.idle_probe_every)
                    self._wake.clear()
                    continue
                job_id, kind, payload, created, attempts, next_at, number = job
                if next_at > now:
                    # waiting out a backoff: keep an eye on the printer and go as soon as it is back
                    self._set_state(next_retry_at=next_at)
                    woke = self._wake.wait(min(self.probe_every, next_at - now))
                    self._wake.clear()
                    if woke or self._stop.is_set():
                        continue
                    st = self.printer.probe()
                    self._apply_status(st)
                    last_probe = self._clock()
                    if st.state in (OK, PAPER_LOW):  # it answered: it is back
                        with self._dblock:
                            self._db.execute(
                                "UPDATE jobs SET next_at=? WHERE id=?", (self._clock(), job_id)
                            )
                    continue
                self._print_one(job_id, kind, payload, created, attempts, number)
            except Exception:  # never let the printing thread die
                log.exception("print queue loop error")
                self._stop.wait(1.0)

    def _print_one(
        self, job_id: int, kind: str, payload: str, created: float, attempts: int, number: str
    ) -> None:
        try:
            data = self._encode((job_id, kind, payload, created))
        except Exception as exc:  # a receipt we cannot build: keep it, show it, do not spin
            log.exception("receipt %s could not be rendered", job_id)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET state='failed', attempts=attempts+1, last_error=? WHERE id=?",
                    (f"render: {exc}", job_id),
                )
            self._refresh_counts()
            self._set_state(last_error=f"render: {exc}")
            return
        self._set_state(printing=True)
        try:
            st = self.printer.print_bytes(data) if data else self.printer.probe()
        except PrinterError as exc:
            delay = self._delay(attempts + 1)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET attempts=attempts+1, next_at=?, last_error=? WHERE id=?",
                    (self._clock() + delay, exc.message, job_id),
                )
            state = exc.code.split(".", 1)[1] if exc.code.startswith("printer.") else OFFLINE
            self._set_state(
                printing=False,
                printer=state,
                detail=exc.message,
                last_error=exc.message,
                next_retry_at=self._clock() + delay,
            )
            return
        except Exception as exc:  # an unexpected transport error: treat as offline, keep the job
            delay = self._delay(attempts + 1)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET attempts=attempts+1, next_at=?, last_error=? WHERE id=?",
                    (self._clock() + delay, repr(exc), job_id),
                )
            self._set_state(printing=False, printer=OFFLINE, detail=repr(exc), last_error=repr(exc))
            return
        with self._dblock:
            self._db.execute(
                "UPDATE jobs SET state='done', attempts=attempts+1, printed=?, "
                "last_error='' WHERE id=?",
                (self._clock(), job_id),
            )
            self._db.execute(
                "DELETE FROM jobs WHERE state IN ('done','cancelled') AND id <= "
                "(SELECT id FROM jobs WHERE state IN ('done','cancelled') ORDER BY id DESC "
                "LIMIT 1 OFFSET ?)",
                (self.keep_done,),
            )
        self._refresh_counts()
        self._set_state(
            printing=False,
            printer=OK if st.state == UNKNOWN else st.state,
            detail=st.detail,
            last_error="",
            last_printed=number,
            next_retry_at=None,
        )
