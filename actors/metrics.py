"""The store server's health, measured: Prometheus metrics (``prometheus_client``) and the alerts
of ``domain.alerts``, in the gateway's process.

``install(app, gateway)`` (called by ``actors.http.app.make_gateway``) puts a ``Monitor`` on the
gateway, its request-timing middleware first in the app's chain, and a loop that measures every
``KASSA_ALERTS_EVERY_S`` seconds (30), evaluates the alerts and sends HQ a health summary
(``actors.health_report``). ``GET /metrics`` and ``GET /v1/alerts`` (``actors.http.monitoring``)
read it.

What is measured: this process's and the PC's CPU and memory (``psutil``), the memory of the whole
server (this process and its children: Ray and the actors), free space on the data folder's disk
(``DiskProbe``: ``shutil.disk_usage``, or a made-up figure for tests: ``KASSA_FAKE_DISK_FREE_MB``),
the journal's size and last seq, commit latency (``Gateway.committed``: a command's submit to its
ack as the gateway sees it), request latency per route (labelled by the route's canonical path,
never the raw URL: the label values stay bounded), the upload backlog and its age, the catalogue
version, the licence's state and grace days.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import os
import shutil
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psutil
from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from actors.device_states import DeviceStates
from domain.alerts import MB, Alert, Figures, Thresholds, bucket_quantile, evaluate
from domain.alerts_devices import printer_alert
from domain.errors import KassaError

__all__ = [
    "DiskProbe",
    "RealDisk",
    "FakeDisk",
    "disk_probe",
    "CommitWindow",
    "Monitor",
    "install",
    "FAKE_DISK_ENV",
    "BOUNDS",
]

log = logging.getLogger(__name__)
disable_created_metrics()  # no *_created series: one line per figure
FAKE_DISK_ENV = "KASSA_FAKE_DISK_FREE_MB"  # tests only: the disk reports this much free
# seconds: a commit takes ~1 ms on a quiet store PC; a till visibly waits from ~250 ms
BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "(unmatched)"  # every request no route took (404/405), as one label value
NOT_TIMED = ("/v1/events/stream",)  # a live stream lasts as long as the reader stays


class DiskProbe(Protocol):
    def usage(self, path: Path) -> tuple[int, int]:
        """(total, free) bytes of the file system holding ``path``."""


class RealDisk:
    def usage(self, path: Path) -> tuple[int, int]:
        u = shutil.disk_usage(path)
        return u.total, u.free


class FakeDisk:
    """A disk that always has ``free_mb`` MB free (the real disk's size): for tests."""

    def __init__(self, free_mb: float) -> None:
        self.free = int(free_mb * MB)

    def usage(self, path: Path) -> tuple[int, int]:
        total = shutil.disk_usage(path).total
        return total, min(self.free, total)


def disk_probe() -> DiskProbe:
    fake = os.environ.get(FAKE_DISK_ENV)
    if fake:
        log.warning("%s=%s: the disk's free space is made up (tests only)", FAKE_DISK_ENV, fake)
        return FakeDisk(float(fake))
    return RealDisk()


class CommitWindow:
    """Commit times counted per bucket, with snapshots so the p99 over the last ``window_s``
    seconds comes from the difference between now and the oldest snapshot in the window."""

    def __init__(self, bounds: tuple[float, ...] = BOUNDS, window_s: float = 300.0) -> None:
        self.bounds = bounds
        self.window_s = window_s
        self.counts = [0] * (len(bounds) + 1)
        self.marks: deque[tuple[float, list[int]]] = deque()

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1

    def recent(self, now: float, keep: bool = True) -> tuple[float | None, int]:
        """(p99 in ms, commits) over the window; with ``keep`` a snapshot is kept for later
        windows (the periodic measure keeps one; a scrape only looks)."""
        while self.marks and now - self.marks[0][0] > self.window_s:
            self.marks.popleft()
        base = self.marks[0][1] if self.marks else [0] * len(self.counts)
        diff = [c - b for c, b in zip(self.counts, base, strict=True)]
        if keep:
            self.marks.append((now, list(self.counts)))
        p99 = bucket_quantile(0.99, self.bounds, diff)
        return (p99 * 1000 if p99 is not None else None), sum(diff)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Monitor:
    """The gateway's metrics registry and its latest measure of the store's health."""

    def __init__(
        self,
        gateway: Any,
        disk: DiskProbe | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.g = gateway
        self.data_dir = Path(gateway.data_dir)
        self.disk = disk or disk_probe()
        self.clock = clock
        try:
            self.thresholds = Thresholds.from_dict(getattr(gateway.config, "alerts", None))
        except KassaError:  # StoreConfig refuses it first; a hand-made config gets the defaults
            self.thresholds = Thresholds()
        self.window = CommitWindow(window_s=float(self.thresholds.window_s))
        self.proc = psutil.Process()
        self.alerts: list[Alert] = []
        self.figures: dict[str, Any] = {}
        self.evaluated_us = 0
        self.reporter: Any = None  # actors.health_report.Reporter, set by install
        self.hooks: list[Any] = []  # more alert rules: async (monitor, keep) -> [Alert]
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes…
        PlatformCollector(registry=r)
        self.commits = Histogram(
            "kassa_commit_seconds",
            "a command's submit to its ack, as the gateway sees it (till: a till command)",
            ["source"],
            buckets=BOUNDS,
            registry=r,
        )
        self._commit_series: dict[str, Any] = {}
        self.requests = Histogram(
            "kassa_http_request_seconds",
            "LAN gateway requests by route (its canonical path) and method",
            ["method", "route"],
            buckets=BOUNDS,
            registry=r,
        )
        self.answers = Counter(
            "kassa_http_responses",
            "LAN gateway answers by route, method and status class (2xx, 4xx, 5xx)",
            ["method", "route", "status"],
            registry=r,
        )
        g = self.gauges = {
            name: Gauge(f"kassa_{name}", text, registry=r)
            for name, text in (
                ("cpu_percent", "the gateway process's CPU use since the last measure, %"),
                ("system_cpu_percent", "the PC's CPU use since the last measure, %"),
                ("server_resident_bytes", "memory of the server: this process and its children"),
                ("system_memory_total_bytes", "the PC's memory"),
                ("system_memory_available_bytes", "the PC's memory available"),
                ("disk_free_bytes", "free space on the data folder's disk"),
                ("disk_total_bytes", "size of the data folder's disk"),
                ("journal_bytes", "journal.sqlite with its write-ahead log"),
                ("journal_seq", "the journal's last sequence number"),
                ("upload_backlog_events", "events HQ has not acknowledged"),
                ("upload_lag_hours", "hours since the oldest event HQ has not acknowledged"),
                ("upload_failures", "upload attempts failed in a row"),
                ("catalogue_version", "HQ catalogue version the store runs (-1: none)"),
                ("licence_ok", "1 when a business day may open, else 0"),
                ("licence_grace_days_left", "days left before the licence must be checked online"),
                ("licence_expires_days_left", "days until the licence ends"),
                ("commit_p99_seconds", "99th percentile of commit times over the alert window"),
                ("alerts_active", "alerts raised at the last evaluation"),
                ("last_evaluation_timestamp_seconds", "when the alerts were last evaluated"),
            )
        }
        self.alert_gauge = Gauge("kassa_alert", "1 per raised alert", ["code"], registry=r)
        self.licence_state = Gauge("kassa_licence_state", "1 for the licence's code", ["code"],
                                   registry=r)  # fmt: skip
        self.devices = DeviceStates(r, clock)  # the tills' printers, as they report them
        g["cpu_percent"].set(self.proc.cpu_percent(None))  # the first call only starts the count
        psutil.cpu_percent(None)

    # ------------------------------------------------------------------ hooks
    def commit(self, source: str, seconds: float) -> None:
        """One command's commit time (the hot path: a cached series, a bisect)."""
        series = self._commit_series.get(source)
        if series is None:
            series = self._commit_series[source] = self.commits.labels(source)
        series.observe(seconds)
        self.window.add(seconds)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route).observe(seconds)
        self.answers.labels(method, route, f"{status // 100}xx").inc()

    # ------------------------------------------------------------------ measuring
    def _journal_bytes(self) -> int:
        size = 0
        for name in ("journal.sqlite", "journal.sqlite-wal"):
            with contextlib.suppress(OSError):
                size += (self.data_dir / name).stat().st_size
        return size

    def _server_rss(self) -> int:
        rss = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                rss += child.memory_info().rss
        return rss

    async def _status(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ledger's status and the uploader's, catalogue's and licence's (empty if they do
        not answer in a few seconds: the store may still be starting)."""
        h = self.g.h
        try:
            st = await asyncio.wait_for(h.ledger.status(), 3.0)
        except Exception:  # starting, or stopping: measured again next time
            st = {}
        try:
            extra = await asyncio.wait_for(h.extra_status(), 5.0)
        except Exception:
            extra = {}
        return st, extra

    async def measure(self, keep: bool = True) -> dict[str, Any]:
        """Measure everything, set the gauges, evaluate the alerts; answers the figures. The
        periodic measure ``keep``s a snapshot of the commit times; a scrape does not."""
        st, extra = await self._status()
        loop = asyncio.get_running_loop()
        total, free = await loop.run_in_executor(None, self.disk.usage, self.data_dir)
        rss = await loop.run_in_executor(None, self._server_rss)
        vm = psutil.virtual_memory()
        up = extra.get("upload") or {}
        lic = extra.get("licence") or {}
        cat = extra.get("catalogue") or {}
        age_s = _num(up.get("oldest_unsent_age_s"))
        p99_ms, n = self.window.recent(self.clock(), keep)
        f: dict[str, Any] = {
            "cpu_percent": self.proc.cpu_percent(None),
            "system_cpu_percent": psutil.cpu_percent(None),
            "server_resident_bytes": rss,
            "system_memory_total_bytes": vm.total,
            "system_memory_available_bytes": vm.available,
            "disk_free_bytes": free,
            "disk_total_bytes": total,
            "journal_bytes": self._journal_bytes(),
            "journal_seq": st.get("seq"),
            "upload_linked": bool(up) and not up.get("starting") and "acked" in up,
            "upload_backlog_events": up.get("backlog_events"),
            "upload_lag_hours": age_s / 3600 if age_s is not None else None,
            "upload_failures": up.get("failures"),
            "catalogue_version": cat.get("version"),
            "licence_ok": lic.get("ok"),
            "licence_code": lic.get("code") or "",
            "licence_grace_days_left": lic.get("grace_days_left"),
            "licence_expires_days_left": lic.get("expires_days_left"),
            "commit_p99_ms": p99_ms,
            "commits_in_window": n,
            "alert_window_s": self.thresholds.window_s,
        }
        self.alerts = evaluate(
            Figures(
                disk_free_bytes=free,
                disk_total_bytes=total,
                upload_backlog_events=f["upload_backlog_events"],
                upload_lag_h=f["upload_lag_hours"],
                licence_code=f["licence_code"],
                licence_grace_days_left=f["licence_grace_days_left"],
                commit_p99_ms=p99_ms,
                commits_in_window=n,
            ),
            self.thresholds,
        )
        for hook in self.hooks:  # e.g. low stock (actors.stock_watch)
            self.alerts += await hook(self, keep)
        printer = printer_alert(self.devices.figures())  # the tills' reports (device_states)
        if printer is not None:
            self.alerts.append(printer)
        self.figures = f
        self.evaluated_us = int(self.clock() * 1_000_000)
        self._set_gauges(f)
        return f

    def _set_gauges(self, f: dict[str, Any]) -> None:
        values = {
            **f,
            "catalogue_version": f["catalogue_version"] if f["catalogue_version"] is not None
            else -1,
            "licence_ok": {True: 1, False: 0}.get(f["licence_ok"]),
            "commit_p99_seconds": f["commit_p99_ms"] / 1000 if f["commit_p99_ms"] else None,
            "alerts_active": len(self.alerts),
            "last_evaluation_timestamp_seconds": self.evaluated_us / 1e6,
        }  # fmt: skip
        for name, gauge in self.gauges.items():
            v = _num(values.get(name))
            gauge.set(v if v is not None else float("nan"))
        self.alert_gauge.clear()
        for a in self.alerts:
            self.alert_gauge.labels(a.code).set(1)
        self.licence_state.clear()
        if f["licence_code"]:
            self.licence_state.labels(f["licence_code"]).set(1)

    def summary(self) -> dict[str, Any]:
        """What ``GET /v1/alerts`` answers and HQ receives: figures, alerts, thresholds."""
        return {
            "store": self.g.config.store_id,
            "evaluated_us": self.evaluated_us,
            "alerts": [a.to_dict() for a in self.alerts],
            "figures": dict(self.figures),
            "thresholds": self.thresholds.to_dict(),
            "devices": self.devices.figures(),
        }

    # ------------------------------------------------------------------ the loop
    async def run(self, every_s: float) -> None:
        while True:
            try:
                await self.measure()
                if self.reporter is not None:
                    await self.reporter.maybe_send(self.summary())
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must never stop the measuring
                log.exception("measuring the store's health")
            await asyncio.sleep(every_s)


def _middleware(monitor: Monitor) -> Any:
    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        t0 = time.perf_counter()
        status = 500
        try:
            resp = await handler(request)
            status = resp.status
            return resp
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            info = request.match_info
            res = info.route.resource if info.http_exception is None else None
            route = res.canonical if res is not None else UNMATCHED
            if route not in NOT_TIMED:
                monitor.request(request.method, route, status, time.perf_counter() - t0)

    return timed


def install(app: web.Application, gateway: Any) -> Monitor:
    """Put a ``Monitor`` on ``gateway``, time every request, and measure in the background while
    the app runs (the scrape token is made at the first start)."""
    from actors import stock_watch
    from actors.health_report import Reporter
    from actors.http.monitoring import ensure_token

    m = Monitor(gateway)
    gateway.monitor = m
    stock_watch.attach(m, app, gateway)
    app.middlewares.insert(0, _middleware(m))
    every_s = float(os.environ.get("KASSA_ALERTS_EVERY_S", "30"))
    task: list[asyncio.Task] = []

    async def start(_app: web.Application) -> None:
        ensure_token(m.data_dir)
        m.reporter = Reporter.for_store(m.data_dir, gateway.config)
        task.append(asyncio.get_running_loop().create_task(m.run(every_s)))

    async def stop(_app: web.Application) -> None:
        for t in task:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if m.reporter is not None:
            await m.reporter.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return m
