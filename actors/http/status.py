"""Public status: health (with the analytics copy's freshness and alerts), the store's
configuration for kiosks, and the OpenAPI description."""

from __future__ import annotations

import asyncio
import shutil
import time

from aiohttp import web

from actors.http.common import jresp
from actors.http.context import Gateway, gw
from domain.errors import Unavailable

__all__ = ["ROUTES"]


async def health(request: web.Request) -> web.Response:
    g = gw(request)
    state = getattr(g.h, "state", "running")  # starting (actors not all up), running, stopping
    if state == "stopping":  # the journal is closing: the tills send again to the next server
        return jresp({"store": g.config.store_id, "state": state}, 503)
    await g.refresh()
    st = await g.h.ledger.status()
    disk = shutil.disk_usage(g.h.data_dir)
    open_tills = g.dir.open_tills()
    out = {
        "store": g.config.store_id,
        "name": g.config.name,
        "seq": st["seq"],
        "orders": st["orders"],
        "open_baskets": st["open_baskets"],
        "members": st.get("members", 0),
        "staff_accounts": len(g.dir.accounts),
        "sessions": len(g.dir.sessions),
        "store_open": bool(open_tills),
        "open_tills": open_tills,
        "business_day": g.today(),
        "disk_free_bytes": disk.free,
        "uptime_s": int(time.time() - g.started),
        "currency": g.config.currency,
        "journal": st.get("journal"),
        "ledger_start": st.get("start"),  # snapshot_seq, replayed, seconds (actors.snapshots)
        "state": state,
    }
    out.update(g.status_extra())
    out.update(await g.h.extra_status())
    out["analytics"], out["alerts"] = await analytics_health(g, st["seq"])
    return jresp(out)


async def analytics_health(g: Gateway, journal_seq: int) -> tuple[dict, list[str]]:
    """The analytics copy's freshness and quarantined events, with the alerts they raise."""
    try:
        a = await asyncio.wait_for(g.h.analytics.status(), 3.0)
    except (TimeoutError, Unavailable):  # still starting
        return {"starting": True}, []
    # health is public: the error's text stays in the server's log
    a = {
        "seq": a["seq"],
        "journal_seq": journal_seq,
        "behind": max(0, journal_seq - a["seq"]),
        "quarantined": a["quarantined"],
        "failing": bool(a["error"]),
    }
    alerts = [
        code
        for code, on in (
            ("analytics.quarantined", a["quarantined"]),
            ("analytics.failing", a["failing"]),
        )
        if on
    ]
    return a, alerts


async def config_view(request: web.Request) -> web.Response:
    return jresp(gw(request).config.to_dict())


async def openapi(request: web.Request) -> web.Response:
    from actors.openapi import SPEC

    return jresp(SPEC)


ROUTES = [
    ("GET", "/v1/health", health),
    ("GET", "/v1/config", config_view),
    ("GET", "/v1/openapi.json", openapi),
]
