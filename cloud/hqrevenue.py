"""HQ's store revenue and upload health, for the admin app's dashboard (read-only routes).

    GET /v1/hq/revenue/summary?store=&period=day|week|month&from=YYYY-MM-DD&to=YYYY-MM-DD&top=10
        finance: per store and period (a day, the ISO week from its Monday, a month from its
        first day; ``period`` is that first day): ``net`` (order totals − refunded amounts),
        ``sales``, ``orders``, ``avg_basket`` (sales / orders, rounded half up), ``refunds``
        (the amount refunded), ``refund_count``; ``top_products`` over the whole range (net per
        SKU: line totals − refunded line amounts); money in minor units; ``currency`` when every
        row has the same one (else "").
    GET /v1/hq/upload-health[?store=&late_h=24]
        support, finance: per registered store ``last_seen_us`` (its last upload that brought
        events), ``seq_held``, ``last_event_us`` (the newest event HQ holds), ``alerts`` (the
        newest 20 of ``GET /v1/alerts``), ``alert_count`` and a ``state``: ``never`` (nothing
        uploaded), ``alert``, ``late`` (nothing new for ``late_h`` hours) or ``ok``.

Figures come from the warehouse (``cloud.warehouse``: Parquet by store and business day, exported
before answering), so they are the store's own business days in its zone.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from cloud.app import CLOCK, EXECUTOR, INGESTOR, REGISTRY, WAREHOUSE, _json
from cloud.hqauth import declare
from cloud.warehouse_query import store_days_filter
from domain.error_codes import Input
from domain.error_codes.adminapp import Revenue

__all__ = ["setup", "revenue_summary", "upload_health", "PERIODS"]

PERIODS = ("day", "week", "month")
SUMMARY = "/v1/hq/revenue/summary"
HEALTH = "/v1/hq/upload-health"
HOUR_US = 3_600_000_000


def _src(wh: Any, table: str) -> str | None:
    glob = wh._glob(table)
    return f"read_parquet('{glob}', hive_partitioning=true)" if glob else None


def revenue_summary(
    wh: Any,
    store: str | None = None,
    period: str = "day",
    day_from: str | None = None,
    day_to: str | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """The summary ``GET /v1/hq/revenue/summary`` answers (see the module's docstring)."""
    if period not in PERIODS:
        raise ValueError(period)
    w, args = store_days_filter(store, day_from, day_to)
    orders, refunds = _src(wh, "orders"), _src(wh, "refunds")
    lines, rlines = _src(wh, "order_lines"), _src(wh, "refund_lines")
    rows: list[tuple] = []
    tops: list[tuple] = []
    con = wh._duck()
    try:
        p = f"CAST(date_trunc('{period}', business_day) AS DATE)"
        parts, params = [], []
        if orders:
            parts.append(
                f"SELECT store_id, {p} AS p, any_value(currency) AS cur, count(*) AS n, "
                f"sum(total) AS sales, 0 AS rn, 0 AS back FROM {orders}{w} GROUP BY ALL"
            )
            params += args
        if refunds:
            parts.append(
                f"SELECT store_id, {p} AS p, any_value(currency) AS cur, 0 AS n, 0 AS sales, "
                f"count(*) AS rn, sum(amount) AS back FROM {refunds}{w} GROUP BY ALL"
            )
            params += args
        if parts:
            rows = con.execute(
                "SELECT store_id, p, max(cur), sum(n), sum(sales), sum(rn), sum(back) FROM ("
                + " UNION ALL ".join(parts)
                + ") GROUP BY store_id, p ORDER BY store_id, p",
                params,
            ).fetchall()
        if lines:
            back_sql = (
                f"SELECT sku, sum(amount) AS back FROM {rlines}{w} GROUP BY sku"
                if rlines
                else "SELECT NULL::VARCHAR AS sku, 0::BIGINT AS back WHERE false"
            )
            tops = con.execute(
                f"WITH s AS (SELECT sku, any_value(name) AS name, any_value(unit) AS unit, "
                f"sum(qty) AS qty, sum(total) AS sales FROM {lines}{w} GROUP BY sku), "
                f"b AS ({back_sql}) "
                "SELECT s.sku, s.name, s.unit, s.qty, s.sales, coalesce(b.back, 0), "
                "s.sales - coalesce(b.back, 0) AS net FROM s LEFT JOIN b USING (sku) "
                "ORDER BY net DESC, s.sku LIMIT ?",
                args + (args if rlines else []) + [int(top)],
            ).fetchall()
    finally:
        con.close()
    out = []
    for s, day, cur, n_, sales_, rn, back_ in rows:
        n, sales, back = int(n_), int(sales_), int(back_)
        out.append(
            {
                "store": s,
                "period": day.isoformat(),
                "currency": cur or "",
                "orders": n,
                "sales": sales,
                "avg_basket": (2 * sales + n) // (2 * n) if n else 0,
                "refunds": back,
                "refund_count": int(rn),
                "net": sales - back,
            }
        )
    currencies = {r["currency"] for r in out if r["currency"]}
    return {
        "period": period,
        "rows": out,
        "top_products": [
            {
                "sku": sku,
                "name": name or "",
                "unit": unit or "each",
                "qty": int(qty),
                "sales": int(sales),
                "refunds": int(back),
                "net": int(net),
            }
            for sku, name, unit, qty, sales, back, net in tops
        ],
        "currency": currencies.pop() if len(currencies) == 1 else "",
    }


def upload_health(
    registry: Any, ingestor: Any, now_us: int, store: str | None = None, late_h: int = 24
) -> list[dict[str, Any]]:
    """Per registered store: when it last brought events, what HQ holds, its alerts."""
    out = []
    for entry in registry.stores():
        if store and entry.id != store:
            continue
        st = ingestor.store_status(entry.id)
        alerts = registry.alerts(entry.id)
        seen = st.get("last_upload_us")
        if seen is None:
            state = "never"
        elif alerts:
            state = "alert"
        elif now_us - seen > late_h * HOUR_US:
            state = "late"
        else:
            state = "ok"
        out.append(
            {
                "store": entry.id,
                "name": entry.name,
                "zone": entry.zone,
                "active": entry.active,
                "last_seen_us": seen,
                "seq_held": int(st.get("held") or 0),
                "last_event_us": st.get("last_event_ts"),
                "alert_count": len(alerts),
                "alerts": sorted(alerts, key=lambda a: a["last_us"], reverse=True)[:20],
                "state": state,
            }
        )
    return out


def _bad(code: str, message: str) -> web.Response:
    return _json({"ok": False, "code": code, "message": message}, 400)


async def _in_pool(request: web.Request, fn: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(request.app[EXECUTOR], fn, *args)


async def summary(request: web.Request) -> web.Response:
    q = request.query
    period = q.get("period") or "day"
    if period not in PERIODS:
        return _bad(Revenue.BAD_PERIOD, "period: day, week or month")
    for key in ("from", "to"):
        if q.get(key):
            try:
                date.fromisoformat(q[key])
            except ValueError:
                return _bad(Input.BAD_DATE, f"{key}: a date as YYYY-MM-DD")
    try:
        top = max(1, min(100, int(q.get("top") or 10)))
    except ValueError:
        return _bad(Input.BAD_FIELD, "top: a number")
    wh = request.app[WAREHOUSE]
    await wh.flush()
    res = await _in_pool(
        request,
        revenue_summary,
        wh,
        q.get("store") or None,
        period,
        q.get("from") or None,
        q.get("to") or None,
        top,
    )
    res["stores"] = [
        {"id": s.id, "name": s.name, "zone": s.zone} for s in request.app[REGISTRY].stores()
    ]
    return _json(res)


async def health(request: web.Request) -> web.Response:
    try:
        late_h = max(1, int(request.query.get("late_h") or 24))
    except ValueError:
        return _bad(Input.BAD_FIELD, "late_h: a number of hours")
    app = request.app
    now = app[CLOCK].now_us()
    rows = await _in_pool(
        request,
        upload_health,
        app[REGISTRY],
        app[INGESTOR],
        now,
        request.query.get("store") or None,
        late_h,
    )
    return _json({"stores": rows, "now_us": now})


def setup(app: web.Application, data_dir: Path, clock: Any = None) -> None:
    declare("GET", SUMMARY, roles=("finance",))
    declare("GET", HEALTH, roles=("support", "finance"))
    app.router.add_get(SUMMARY, summary)
    app.router.add_get(HEALTH, health)
