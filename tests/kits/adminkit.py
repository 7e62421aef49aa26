"""Helpers for HQ's revenue tests and the admin app's tests: a shop (real ledger and till) trading
over several business days and uploading to a real cloud through the real uploader, and the
revenue figures worked out independently from the shop's own journal (flattened with Polars)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl

from cloudkit import Cloud, Shop, make_uploader, store_tables

# the shop trades on these days (ManualClock starts 2026-01-01 00:00 UTC = 07:00 in Bangkok)
TRADING = ((0, 14), (1, 9), (4, 11))  # (days after the start, orders that day)


async def trade_and_upload(shop: Shop, cloud: Cloud, secret: str, state: Path) -> None:
    """The shop sells on each day of ``TRADING`` (every 10th order refunded) and uploads."""
    up = make_uploader(shop, cloud.url, secret, state, max_events=200)
    start = shop.clock.now_us()
    try:
        for day, n in TRADING:
            shop.clock.t = start + day * 86_400_000_000
            shop.trade(n, step_s=120, refund_every=5)
            await up.drain()
        await cloud.warehouse.flush()
    finally:
        await up.transport.close()


def expected(journal: Path, period: str) -> dict[tuple[str, str], dict[str, int]]:
    """(store, first day of the period) -> net, sales, orders, refunds from the store's journal."""
    t = store_tables(journal)

    def start(d: dt.date) -> str:
        if period == "week":
            d = d - dt.timedelta(days=d.weekday())
        elif period == "month":
            d = d.replace(day=1)
        return d.isoformat()

    out: dict[tuple[str, str], dict[str, int]] = {}
    zero = {"sales": 0, "orders": 0, "refunds": 0}
    for row in t["orders"].select("store_id", "business_day", "total").iter_rows():
        e = out.setdefault((row[0], start(row[1])), dict(zero))
        e["sales"] += row[2]
        e["orders"] += 1
    for row in t["refunds"].select("store_id", "business_day", "amount").iter_rows():
        e = out.setdefault((row[0], start(row[1])), dict(zero))
        e["refunds"] += row[2]
    for e in out.values():
        e["net"] = e["sales"] - e["refunds"]
    return out


def top_products(journal: Path) -> dict[str, int]:
    """Net per SKU (line totals − refunded line amounts) from the store's journal."""
    t = store_tables(journal)
    sold = t["order_lines"].group_by("sku").agg(pl.col("total").sum())
    back = t["refund_lines"].group_by("sku").agg(pl.col("amount").sum())
    net = {sku: v for sku, v in sold.iter_rows()}
    for sku, v in back.iter_rows():
        net[sku] = net.get(sku, 0) - v
    return net


def hq_get(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, {"text": body.decode(errors="replace")}
