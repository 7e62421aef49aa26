"""Low stock, watched by the store server: the ``stock.low`` alert beside the health alerts, and
every alert change handed to the mail outbox.

``attach(monitor, app, gateway)`` (from ``actors.metrics.install``) adds ``StockWatch.hook`` to
the monitor's measure: every ``KASSA_STOCK_ALERTS_EVERY_S`` seconds (300) of the periodic measure
it reads the levels (the stock read model) and the thresholds (products' ``low_stock``,
store.json's ``replenish.per_sku.<sku>.min``) and decides ``domain.alerts_stock``; a scrape reuses
the last answer (the levels' report crosses the whole catalogue from its actor: not every 30 s on
a 2-core PC with 300,000 products; but at each measure during the first 300 s, while a new
store's stock is still coming in). So the alert is in ``GET /v1/alerts`` (the Health tab), in the
health report HQ receives (``actors.health_report``) and, from ``low``, on the big screen. With
store.json ``smtp`` set it also runs the ``actors.outbox`` and tells it the alerts after each
periodic measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

from aiohttp import web

from actors.outbox import Outbox
from domain.alerts import Alert
from domain.alerts_stock import SHOWN, LowItem, low_items, stock_alert
from domain.errors import KassaError
from domain.replenish import ReplenishRules, low_threshold

__all__ = ["StockWatch", "attach", "shown_of", "EVERY_ENV", "NAMED"]

log = logging.getLogger(__name__)
EVERY_ENV = "KASSA_STOCK_ALERTS_EVERY_S"
NAMED = 200  # low products whose names are looked up (for the mail and the screens)


def rules_of(config: Any) -> ReplenishRules:
    try:
        return ReplenishRules.from_dict(getattr(config, "replenish", None))
    except KassaError:  # StoreConfig refuses it first; a hand-made config gets the defaults
        return ReplenishRules()


async def product_names(g: Any, skus: list[str]) -> dict[str, str]:
    """The catalogue's name of each SKU (in the store's first language, else any), "" if gone."""
    lang = (g.config.locale or "en").split("_")[0]

    async def one(sku: str) -> tuple[str, str]:
        try:
            p = await asyncio.wait_for(g.h.catalogue.lookup(sku), 3.0)
        except Exception:
            return sku, ""
        names = p.get("names") or {}
        return sku, str(names.get(lang) or names.get("en") or p.get("name") or "")

    return dict(await asyncio.gather(*(one(s) for s in skus)))


class StockWatch:
    def __init__(self, gateway: Any, every_s: float | None = None) -> None:
        self.g = gateway
        self.every_s = every_s if every_s is not None else float(os.environ.get(EVERY_ENV, "300"))
        self.rules = rules_of(gateway.config)
        self.low: list[LowItem] = []
        self.alert: Alert | None = None
        self.at = float("-inf")  # monotonic time of the last look at the levels
        self.started = time.monotonic()
        self.outbox: Outbox | None = None

    async def refresh(self) -> None:
        rep = await asyncio.wait_for(self.g.h.stock.report(), 30.0)
        thresholds = {str(sku): int(t) for sku, _level, t in rep.get("low") or []}
        for sku, rule in self.rules.per_sku.items():
            thresholds[sku] = low_threshold(rule, thresholds.get(sku, 0))
        items = low_items(rep.get("levels") or {}, thresholds)
        known = {i.sku: i.name for i in self.low}
        missing = [i.sku for i in items[:NAMED] if not known.get(i.sku)]
        known.update(await product_names(self.g, missing))
        self.low = [LowItem(i.sku, i.level, i.threshold, known.get(i.sku, "")) for i in items]
        self.alert = stock_alert(self.low)

    async def hook(self, monitor: Any, keep: bool) -> list[Alert]:
        """The stock alerts of this measure (``keep``: the periodic one, which looks again when
        due and tells the outbox)."""
        now = time.monotonic()
        # at every measure while the store starts (a new store's stock is still coming in),
        # then every ``every_s``
        if keep and (now - self.at >= self.every_s or now - self.started < self.every_s):
            try:
                await self.refresh()
                self.at = time.monotonic()
            except Exception:  # still starting (no read model yet): the last answer stays
                log.info("low stock not measured this time", exc_info=True)
        alerts = [self.alert] if self.alert is not None else []
        # not before the levels were read once: a restart must not mail "cleared" then "raised"
        if keep and self.outbox is not None and self.at > float("-inf"):
            self.outbox.observe(self.states(list(monitor.alerts) + alerts))
        return alerts

    def states(self, alerts: list[Alert]) -> dict[str, str]:
        """Each alert raised as a key and a line for the mail: a low product is its own key."""
        out: dict[str, str] = {}
        for a in alerts:
            if a.code != "stock.low":
                out[a.code] = a.message
        for i in self.low:
            out[f"stock.low:{i.sku}"] = (
                f"low stock: {i.name or i.sku} ({i.sku}) {i.level}, minimum {i.threshold}"
            )
        return out

    def shown(self) -> list[dict[str, object]]:
        """The most urgent low products (the big screen's strip)."""
        return [i.to_dict() for i in self.low[:SHOWN]]


def attach(monitor: Any, app: web.Application, gateway: Any) -> StockWatch:
    watch = StockWatch(gateway)
    monitor.hooks.append(watch.hook)
    gateway.stock_watch = watch
    task: list[asyncio.Task] = []

    async def start(_app: web.Application) -> None:
        watch.outbox = Outbox.for_store(gateway.data_dir, gateway.config)
        if watch.outbox is not None:
            task.append(asyncio.get_running_loop().create_task(watch.outbox.run()))

    async def stop(_app: web.Application) -> None:
        for t in task:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if watch.outbox is not None:
            watch.outbox.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return watch


def shown_of(gateway: Any) -> list[dict[str, object]]:
    """The big screen's low products (none before the gateway watches stock)."""
    watch = getattr(gateway, "stock_watch", None)
    return watch.shown() if watch is not None else []
