"""``Worker``: the till's two background lanes (ordered changes retried with the same command
id; reads) and the result queue the Tk thread drains with ``pump()``. Re-exported by
``kiosk.client``."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from domain.error_codes import Kiosk
from kiosk.api_errors import ApiError, Offline

__all__ = ["Callback", "Worker", "retry_wait", "QUICK_FOR_S"]
QUICK_FOR_S = 15.0  # a restart takes seconds: this long quick retries, then the backoff

log = logging.getLogger("kiosk.client")  # the logger's name from before the split


Callback = Callable[[Any], None]


def retry_wait(exc: Offline, backoff: float, outage_s: float) -> float:
    """Seconds to wait before sending a change again after ``exc``, ``outage_s`` into the
    outage: soon while the store restarts (``exc.retry_in``: its port refused, or it is starting;
    the tills sell again the moment it listens), else the worker's growing ``backoff``."""
    if exc.retry_in is not None and outage_s < QUICK_FOR_S:
        return exc.retry_in
    return backoff


class _Job:
    __slots__ = ("fn", "ok", "err", "retry", "label")

    def __init__(
        self,
        fn: Callable[[], Any],
        ok: Callback | None,
        err: Callback | None,
        retry: bool,
        label: str,
    ) -> None:
        self.fn, self.ok, self.err, self.retry, self.label = fn, ok, err, retry, label


class Worker:
    """Two background lanes (ordered changes with retry; reads) and a result queue the Tk thread
    drains with ``pump()`` (call it from ``after()``). ``on_net(online, detail)`` hears when the
    store becomes unreachable or reachable again (on the Tk thread)."""

    def __init__(
        self,
        on_net: Callable[[bool, str], None] | None = None,
        backoff: tuple[float, float] = (0.3, 3.0),
    ) -> None:
        self.results: queue.Queue = queue.Queue()
        self.on_net = on_net
        self.backoff = backoff
        self._changes: queue.Queue = queue.Queue()
        self._reads: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.online = True
        self.pending_changes = 0
        self._threads = [
            threading.Thread(
                target=self._run, args=(self._changes,), daemon=True, name="kassa-till-changes"
            ),
            threading.Thread(
                target=self._run, args=(self._reads,), daemon=True, name="kassa-till-reads"
            ),
        ]
        for t in self._threads:
            t.start()

    def change(
        self,
        fn: Callable[[], Any],
        ok: Callback | None = None,
        err: Callback | None = None,
        label: str = "",
    ) -> None:
        """A change to the store: ordered, retried while the store is unreachable. ``fn`` must
        reuse its command id on every call (capture the id before submitting)."""
        self.pending_changes += 1
        self._changes.put(_Job(fn, ok, err, True, label))

    def read(
        self,
        fn: Callable[[], Any],
        ok: Callback | None = None,
        err: Callback | None = None,
        label: str = "",
    ) -> None:
        self._reads.put(_Job(fn, ok, err, False, label))

    def stop(self, wait: float = 0.0) -> bool:
        """Stop both lanes; with ``wait``, join them for up to that many seconds. Answers True when
        no lane thread is left running. Callbacks still queued are dropped: they hold the screens,
        and Tk objects must never be freed from a lane thread (Tcl aborts the process)."""
        self._stop.set()
        self._changes.put(None)
        self._reads.put(None)
        end = time.monotonic() + wait
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(max(0.0, end - time.monotonic()))
        self._drain()
        return not any(t.is_alive() for t in self._threads)

    def _drain(self) -> None:
        for q in (self.results, self._changes, self._reads):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break

    def idle(self) -> bool:
        return self.pending_changes == 0 and self._changes.empty() and self._reads.empty()

    def _net(self, online: bool, detail: str) -> None:
        if online != self.online:
            self.online = online
            if self.on_net:
                self.results.put((self.on_net, (online, detail)))

    def _run(self, q: queue.Queue) -> None:
        while not self._stop.is_set():
            job = q.get()
            if job is None:
                return
            delay, since = self.backoff[0], 0.0
            while True:
                try:
                    res = job.fn()
                except Offline as exc:
                    self._net(False, exc.message)
                    if job.retry and not self._stop.is_set():
                        since = since or time.monotonic()
                        wait = retry_wait(exc, delay, time.monotonic() - since)
                        self._stop.wait(wait)
                        if wait == delay:  # the backoff's turn: it grows
                            delay = min(delay * 2, self.backoff[1])
                        if self._stop.is_set():
                            return
                        continue
                    self._done(job, job.err, exc)
                except ApiError as exc:
                    self._net(True, "")
                    self._done(job, job.err, exc)
                except Exception as exc:  # a bug must not kill the lane
                    log.exception("till worker: %s failed", job.label)
                    self._done(job, job.err, ApiError(Kiosk.ERROR, str(exc)))
                else:
                    self._net(True, "")
                    self._done(job, job.ok, res)
                break
            job = None  # an idle lane holds no screen (see stop())

    def _done(self, job: _Job, cb: Callback | None, value: Any) -> None:
        if self._stop.is_set():
            return  # the window is gone: nothing to tell it, and no reference to keep
        if job.retry:
            self.results.put((self._finished, ()))
        if cb is not None:
            self.results.put((cb, (value,)))

    def _finished(self) -> None:
        self.pending_changes -= 1

    def pump(self, limit: int = 100) -> int:
        """Run queued callbacks on the calling (Tk) thread."""
        n = 0
        while n < limit:
            try:
                cb, args = self.results.get_nowait()
            except queue.Empty:
                break
            n += 1
            try:
                cb(*args)
            except Exception:  # a screen bug must not stop the pump
                log.exception("till callback failed")
        return n
