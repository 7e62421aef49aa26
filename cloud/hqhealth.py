"""Stores' health at HQ: each store sends a summary of its figures and alerts (``actors.metrics``,
``actors.health_report``) every few minutes and whenever its alerts change; HQ keeps the latest
per store (``<hq>/hqhealth.sqlite``, 0600) and shows it. HQ never calls a store.

    POST /v1/health-report           store: signed like an upload; body {store, evaluated_us,
                                     alerts: [{code, message, values}], figures, thresholds}
    GET  /v1/hq/store-health[?store=&stale_min=15]
                                     support, finance: per registered store its latest report:
                                     ``received_us``, ``alerts``, ``alert_count``, ``figures`` and a
                                     ``state``: never (no report), alert, stale (no report for
                                     ``stale_min`` minutes) or ok
    GET  /metrics                    admin: the cloud's Prometheus metrics (ingest counters, per
                                     store: events held, seconds since its last upload and report,
                                     alerts)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cloud.app import CLOCK, INGESTOR, REGISTRY, _json, _run
from cloud.hqauth import HQ, STORE, declare, private_file
from domain.error_codes.monitoring import Monitoring
from domain.upload import H_ENC, H_NONCE, H_SIG, H_STORE, H_TS

__all__ = ["setup", "HealthBook", "HEALTH_BOOK", "check_report", "REPORT", "STORE_HEALTH"]

REPORT = "/v1/health-report"
STORE_HEALTH = "/v1/hq/store-health"
METRICS = "/metrics"
MAX_REPORT = 64 * 1024
MAX_ALERTS = 32
SCHEMA = """
CREATE TABLE IF NOT EXISTS store_health (
    store TEXT PRIMARY KEY,
    received_us INTEGER NOT NULL,
    report TEXT NOT NULL
);
"""


class BadReport(ValueError):
    pass


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 200)


def check_report(store: str, body: bytes) -> dict[str, Any]:
    """The report as HQ keeps it: a JSON object for ``store`` with alerts (code, message, values)
    and flat figures; anything else is refused (``BadReport``)."""
    if len(body) > MAX_REPORT:
        raise BadReport(f"a report is at most {MAX_REPORT} bytes")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadReport("the report is not JSON") from None
    if not isinstance(doc, dict) or doc.get("store", store) != store:
        raise BadReport("the report is an object about the store that signed it")
    alerts = doc.get("alerts") or []
    if not isinstance(alerts, list) or len(alerts) > MAX_ALERTS:
        raise BadReport(f"alerts: a list of at most {MAX_ALERTS}")
    out_alerts = []
    for a in alerts:
        code = a.get("code") if isinstance(a, dict) else None
        values = a.get("values") or {} if isinstance(a, dict) else None
        if not isinstance(code, str) or not 1 <= len(code) <= 64 or not isinstance(values, dict):
            raise BadReport("an alert is {code, message, values}")
        if not all(isinstance(k, str) and _scalar(v) for k, v in values.items()):
            raise BadReport("an alert's values are plain numbers or short texts")
        out_alerts.append(
            {"code": code, "message": str(a.get("message") or "")[:500], "values": values}
        )
    out: dict[str, Any] = {"store": store, "alerts": out_alerts}
    for key in ("figures", "thresholds"):
        part = doc.get(key) or {}
        if not isinstance(part, dict) or len(part) > 64:
            raise BadReport(f"{key}: an object of at most 64 figures")
        if not all(isinstance(k, str) and len(k) <= 64 and _scalar(v) for k, v in part.items()):
            raise BadReport(f"{key}: plain numbers or short texts")
        out[key] = part
    ev = doc.get("evaluated_us")
    out["evaluated_us"] = ev if isinstance(ev, int) and not isinstance(ev, bool) else 0
    return out


class HealthBook:
    """The latest health report of each store (SQLite, one row per store)."""

    def __init__(self, hq_dir: Path | str) -> None:
        path = Path(hq_dir) / "hqhealth.sqlite"
        self.con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        private_file(path)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.con.close()

    def keep(self, store: str, report: dict[str, Any], now_us: int) -> None:
        with self.lock:
            self.con.execute(
                "INSERT INTO store_health(store, received_us, report) VALUES (?,?,?) "
                "ON CONFLICT(store) DO UPDATE SET received_us=excluded.received_us, "
                "report=excluded.report",
                (store, now_us, orjson.dumps(report).decode()),
            )

    def latest(self) -> dict[str, tuple[int, dict[str, Any]]]:
        with self.lock:
            rows = self.con.execute(
                "SELECT store, received_us, report FROM store_health"
            ).fetchall()
        return {s: (int(t), orjson.loads(r)) for s, t, r in rows}


HEALTH_BOOK = web.AppKey("health_book", HealthBook)


def store_health(app: web.Application, store: str | None, stale_min: float) -> list[dict]:
    """Every registered store (or ``store``) with its latest report and state."""
    now = app[CLOCK].now_us()
    latest = app[HEALTH_BOOK].latest()
    out = []
    for s in app[REGISTRY].stores():
        if store and s.id != store:
            continue
        received, rep = latest.get(s.id, (0, {}))
        alerts = rep.get("alerts") or []
        if not received:
            state = "never"
        elif alerts:
            state = "alert"
        elif now - received > stale_min * 60_000_000:
            state = "stale"
        else:
            state = "ok"
        out.append(
            {
                "store": s.id,
                "name": s.name,
                "state": state,
                "received_us": received or None,
                "evaluated_us": rep.get("evaluated_us") or None,
                "alerts": alerts,
                "alert_count": len(alerts),
                "figures": rep.get("figures") or {},
            }
        )
    return out


async def report(request: web.Request) -> web.Response:
    body = await request.read()
    headers = {k: request.headers.get(k, "") for k in (H_STORE, H_TS, H_SIG, H_ENC, H_NONCE)}
    refused = await _run(request, request.app[INGESTOR].authenticate, headers, body)
    if refused is not None:
        return _json(refused.body, refused.status)
    store = headers[H_STORE]
    try:
        rep = check_report(store, body)
    except BadReport as exc:
        code = Monitoring.BAD_REPORT
        return _json({"ok": False, "code": code, "message": str(exc)}, code.status)
    now = request.app[CLOCK].now_us()
    await _run(request, request.app[HEALTH_BOOK].keep, store, rep, now)
    return _json({"ok": True, "store": store, "received_us": now})


async def health(request: web.Request) -> web.Response:
    q = request.query
    try:
        stale = max(1.0, float(q.get("stale_min") or 15))
    except ValueError:
        stale = 15.0
    rows = await _run(request, store_health, request.app, q.get("store") or None, stale)
    return _json({"stores": rows})


class _Collector:
    """The cloud's figures, read at each scrape."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        app = self.app
        stats = app[INGESTOR].stats.to_dict()
        for key in ("requests", "events_accepted", "events_duplicate", "batches_accepted"):
            yield CounterMetricFamily(f"kassa_hq_ingest_{key}", f"ingest: {key}", stats[key])
        now = app[CLOCK].now_us()
        held = GaugeMetricFamily("kassa_hq_store_seq_held", "events HQ holds", labels=["store"])
        upload = GaugeMetricFamily(
            "kassa_hq_store_upload_age_seconds", "since the last upload", labels=["store"]
        )
        seen = GaugeMetricFamily(
            "kassa_hq_store_report_age_seconds", "since the last health report", labels=["store"]
        )
        alerts = GaugeMetricFamily(
            "kassa_hq_store_alerts", "alerts in the last health report", labels=["store"]
        )
        latest = app[HEALTH_BOOK].latest()
        for s in app[REGISTRY].stores():
            st = app[INGESTOR].store_status(s.id)
            held.add_metric([s.id], st["held"])
            if st["last_upload_us"]:
                upload.add_metric([s.id], (now - st["last_upload_us"]) / 1e6)
            if s.id in latest:
                received, rep = latest[s.id]
                seen.add_metric([s.id], (now - received) / 1e6)
                alerts.add_metric([s.id], len(rep.get("alerts") or []))
        yield from (held, upload, seen, alerts)


async def metrics(request: web.Request) -> web.Response:
    text = await _run(request, generate_latest, request.app[_REGISTRY])
    return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


_REGISTRY = web.AppKey("hq_metrics", CollectorRegistry)


def setup(app: web.Application, data_dir: Path, clock: Any = None) -> None:
    declare("POST", REPORT, STORE)
    declare("GET", STORE_HEALTH, HQ, ("support", "finance"))
    declare("GET", METRICS, HQ)  # admin (and HQ's token) only
    book = HealthBook(data_dir)
    app[HEALTH_BOOK] = book
    reg = CollectorRegistry()
    reg.register(_Collector(app))
    app[_REGISTRY] = reg
    app.router.add_post(REPORT, report)
    app.router.add_get(STORE_HEALTH, health)
    app.router.add_get(METRICS, metrics)

    async def _close(_app: web.Application) -> None:
        book.close()

    app.on_cleanup.append(_close)
