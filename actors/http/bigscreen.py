"""The sales big screen's (大屏) summary: today's figures at a journal position, for the screen to
start from and to catch up with after a reconnect; the live part is the sales feed
(``actors.http.events``, ``?scope=sales``) read after ``as_of_seq``.

Permission ``events.sales`` (display, manager, admin): figures per till, hour and product, no staff,
member, order id, IP or tender. Computed by the analytics copy over one business day
(``analytics.bigscreen``), so it stays cheap.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from actors.http.common import jresp
from actors.http.context import Gateway, gw
from actors.http.licensing import need_feature
from actors.openapi_schemas import _op
from actors.stock_watch import shown_of
from domain.staff import LANGUAGES

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPE", "store_languages"]

TOP = 10  # products named in the catalogue's languages (the rest keep the copy's name)


def store_languages(g: Gateway) -> list[str]:
    """The languages the screen cycles through: the store's locale first, then those of its
    staff accounts (active ones), in ``LANGUAGES`` order."""
    first = (g.config.locale or "en").split("_")[0]
    first = "zh_CN" if first == "zh" else first
    used = {
        str(a.get("language") or "")
        for a in g.dir.accounts.values()
        if a.get("active", True) and a.get("role") != "display"
    }
    out = [first] if first in LANGUAGES else []
    out += [lang for lang in LANGUAGES if lang in used and lang not in out]
    return out or ["en"]


async def _names(g: Gateway, skus: list[str]) -> dict[str, dict[str, str]]:
    async def one(sku: str) -> tuple[str, dict[str, str]]:
        try:
            p = await asyncio.wait_for(g.h.catalogue.lookup(sku), 3.0)
            return sku, {str(k): str(v) for k, v in (p.get("names") or {}).items()}
        except Exception:  # gone from the catalogue since: the copy's name stays
            return sku, {}

    return dict(await asyncio.gather(*(one(s) for s in skus)))


async def summary(request: web.Request) -> web.Response:
    """Today's revenue and orders, per till, by hour, per product and the same weekday last week
    up to this time, as of ``as_of_seq``: read the sales feed after that seq."""
    g = gw(request)
    await g.auth(request, "events.sales")
    await need_feature(g, "bigscreen")  # the licence grants the big screen
    at = (await g.h.ledger.status())["seq"]
    now_us = time.time_ns() // 1000
    zone = g.config.zone
    local = datetime.fromtimestamp(now_us / 1e6, UTC).astimezone(ZoneInfo(zone))
    rep: dict[str, Any] = await g.h.analytics.report(
        "bigscreen",
        {"day": g.today(), "now_local": local.replace(tzinfo=None).isoformat()},
        at,
    )
    prods = rep["products"]
    top = {p["sku"] for p in prods[:TOP]}
    pieces = [p for p in sorted(prods, key=lambda p: -p["qty"]) if p["unit"] != "kg"]
    top |= {p["sku"] for p in pieces[:TOP]}
    names = await _names(g, sorted(top))
    for p in prods:
        p["names"] = names.get(p["sku"]) or {"en": p["name"]}
    rep.update(
        store=g.config.name,
        currency=g.config.currency,
        zone=zone,
        languages=store_languages(g),
        now_us=now_us,
        low_stock=shown_of(g),  # products at or under their minimum (actors.stock_watch)
    )
    return jresp(rep)


ROUTES = [("GET", "/v1/bigscreen/summary", summary)]

OPENAPI = {
    "/v1/bigscreen/summary": {
        "get": _op(
            "the sales big screen's figures for today as of as_of_seq (revenue, orders, per "
            "till, by hour, per product, the same weekday last week up to this time); read "
            "/v1/events?scope=sales after as_of_seq for what follows",
            "events.sales",
        )
    }
}
READ_SCOPE = (
    "events.sales (display, manager, admin): sums per store, till, hour and product; no staff, "
    "member, order id, IP or tender"
)
