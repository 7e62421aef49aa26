"""The store's health: Prometheus metrics (``GET /metrics``) and the alerts with the figures they
were decided on (``GET /v1/alerts``), both measured by ``actors.metrics``.

``POST /v1/tills/{till}/devices`` is a till's report of its receipt printer (``devices.report``:
any staff member's session on that till; ``actors.device_states``): kept in memory, exported as
``kassa_printer_up{till}`` and shown on the Health tab.

``/metrics`` answers a manager's session (``health.view``) or the scrape token: ``Authorization:
Bearer <token>`` with the token of ``<data>/metrics_token`` (0600, made at the first start,
printed by ``kassa store metrics-token``), so Prometheus needs no staff PIN. ``/v1/alerts`` is the
manager counter's: a session with ``health.view``.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from actors.http.common import jresp, read_json
from actors.http.context import gw
from actors.openapi_schemas import _op
from actors.staff import _owner_secret

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPES", "ensure_token", "TOKEN_FILE"]

TOKEN_FILE = "metrics_token"


def ensure_token(data_dir: Path) -> str:
    """The scrape token (64 hex digits), made by the first caller."""
    return _owner_secret(Path(data_dir) / TOKEN_FILE).hex()


def _scrape_token_ok(request: web.Request, data_dir: Path) -> bool:
    header = request.headers.get("Authorization", "")
    got = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if len(got) != 64:
        return False
    try:
        want = (Path(data_dir) / TOKEN_FILE).read_text().strip()
    except OSError:
        return False
    return hmac.compare_digest(got.encode(), want.encode())


async def _fresh(g: Any) -> Any:
    """The monitor, its figures measured now (the commit window only looked at)."""
    await g.monitor.measure(keep=False)
    return g.monitor


async def metrics(request: web.Request) -> web.Response:
    g = gw(request)
    if not _scrape_token_ok(request, g.data_dir):
        await g.auth(request, "health.view")
    m = await _fresh(g)
    return web.Response(
        body=generate_latest(m.registry), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
    )


async def alerts(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "health.view")
    return jresp((await _fresh(g)).summary())


async def devices(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    till = request.match_info["till"]
    await g.auth(request, "devices.report", data, till=till)  # the till's own session
    return jresp({"till": till, **g.monitor.devices.report(till, data)})


ROUTES = [
    ("GET", "/metrics", metrics),
    ("GET", "/v1/alerts", alerts),
    ("POST", "/v1/tills/{till}/devices", devices),
]

OPENAPI: dict[str, dict[str, Any]] = {
    "/metrics": {
        "get": _op(
            "Prometheus metrics (text): CPU, memory, disk, journal, commit and request latency, "
            "uploads, catalogue, licence, alerts; a manager's session or the scrape token",
            "health.view",
        )
    },
    "/v1/alerts": {
        "get": _op(
            "the store's health alerts with the figures and thresholds they were decided on, and "
            "each till's latest printer report (devices)",
            "health.view",
        )
    },
    "/v1/tills/{till}/devices": {
        "post": _op(
            "a till reports its receipt printer: {printer: ok|offline|paper_out|paper_low|"
            "cover_open|error|unknown|none, pending, failed}; kept in memory, not journaled",
            "devices.report",
        )
    },
}
READ_SCOPES = {
    "/metrics": "health.view or the scrape token: figures of the server, no personal data",
    "/v1/alerts": "health.view: figures and alerts of the server, no personal data",
}
