"""The sales big screen's (大屏) summary: one business day's revenue, orders, per till, by hour and
per product, and the same weekday a week earlier up to the same time of day.

Revenue is net of refunds everywhere (order totals − refunded amounts), as the screen's live part
adds and subtracts them from the sales feed. Queries only the day asked for (the ``business_day``
column), so it stays cheap however long the copy's history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["bigscreen_summary", "MAX_PRODUCTS"]

MAX_PRODUCTS = 500  # products of the day sent (by revenue); the screen ranks them itself


def _figures(copy: Any, day: date, cut: datetime | None = None) -> dict[str, int]:
    cond, params = "business_day = ?", [day]
    if cut is not None:
        cond += " AND local_ts <= ?"
        params.append(cut)
    o = copy.rows(
        f"SELECT count(*) n, coalesce(sum(total), 0)::BIGINT s FROM orders WHERE {cond}", params
    )[0]
    r = copy.rows(
        f"SELECT count(*) n, coalesce(sum(amount), 0)::BIGINT s FROM refunds WHERE {cond}", params
    )[0]
    return {
        "orders": int(o["n"]),
        "sales": int(o["s"]),
        "refunds": int(r["n"]),
        "refunded": int(r["s"]),
        "revenue": int(o["s"]) - int(r["s"]),
    }


def _grouped(copy: Any, key: str, day: date) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for table, amount, field in (("orders", "total", "sales"), ("refunds", "amount", "refunded")):
        for r in copy.rows(
            f"SELECT {key} k, count(*) n, coalesce(sum({amount}), 0)::BIGINT s FROM {table} "
            "WHERE business_day = ? GROUP BY 1",
            [day],
        ):
            row = out.setdefault(r["k"], {"orders": 0, "sales": 0, "refunded": 0})
            row[field] = int(r["s"])
            if table == "orders":
                row["orders"] = int(r["n"])
    for row in out.values():
        row["revenue"] = row["sales"] - row["refunded"]
    return out


def bigscreen_summary(copy: Any, day: date | str, now_local: datetime | str) -> dict[str, Any]:
    """The big screen's figures for business day ``day`` as of ``now_local`` (the store's local
    time): ``today``, ``last_week`` (the same weekday a week earlier, up to the same time of day),
    ``last_week_day`` (that whole day), ``by_till``, ``by_hour`` (24 rows) and ``products`` (up
    to ``MAX_PRODUCTS``, by revenue: sku, name, unit, qty, amount)."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    now = datetime.fromisoformat(now_local) if isinstance(now_local, str) else now_local
    last = d - timedelta(days=7)
    hours = _grouped(copy, "hour(local_ts)::BIGINT", d)
    products = copy.rows(
        "SELECT sku, any_value(name) name, any_value(unit) unit, sum(qty)::BIGINT qty, "
        "sum(total)::BIGINT amount FROM order_lines WHERE business_day = ? "
        "GROUP BY sku ORDER BY amount DESC, sku LIMIT ?",
        [d, MAX_PRODUCTS],
    )
    return {
        "business_day": d.isoformat(),
        "now_local": now.isoformat(timespec="seconds"),
        "today": _figures(copy, d),
        "last_week": _figures(copy, last, now - timedelta(days=7)),
        "last_week_day": last.isoformat(),
        "by_till": [{"till": k, **v} for k, v in sorted(_grouped(copy, "till", d).items())],
        "by_hour": [
            {"hour": h, **hours.get(h, {"orders": 0, "sales": 0, "refunded": 0, "revenue": 0})}
            for h in range(24)
        ],
        "products": [
            {
                "sku": str(p["sku"]),
                "name": str(p["name"] or ""),
                "unit": str(p["unit"] or ""),
                "qty": int(p["qty"] or 0),
                "amount": int(p["amount"] or 0),
            }
            for p in products
        ],
    }
