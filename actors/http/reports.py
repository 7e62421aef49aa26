"""Reports from the analytics copy: X and Z (a till's or the store's), a cashier's own, and the
day's sales by hour, category or till (the manager counter's charts).

A cashier (``reports.own``) reads only their own report: asking for another's needs
``reports.view`` (403 without it)."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from actors.http.common import jresp, till_id
from actors.http.context import gw
from domain.errors import InvalidInput, NotFound
from domain.staff import check_staff_id

__all__ = ["ROUTES"]


async def report(request: web.Request) -> web.Response:
    g = gw(request)
    kind = request.match_info["kind"]
    if kind not in ("x", "z", "cashier"):
        raise NotFound("report.unknown", "reports are x, z and cashier")
    ctx = await g.auth(request, None)
    day = request.query.get("day") or ""
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(
                "day.bad_date", "a business day is YYYY-MM-DD", field="day"
            ) from None
    at = (await g.h.ledger.status())["seq"]
    if kind == "cashier":
        staff = request.query.get("staff") or ctx.staff
        g.require(ctx, "reports.own" if staff == ctx.staff else "reports.view")
        check_staff_id(staff)
        return jresp(
            await g.h.analytics.report(
                "cashier_report", {"staff": staff, "day": day or g.today()}, at
            )
        )
    g.require(ctx, "reports.view")
    scope = request.query.get("scope", "till")
    if scope not in ("till", "store"):
        raise InvalidInput("input.bad_field", "scope is till or store", field="scope")
    till = till_id(request.query.get("till") or ctx.till) if scope == "till" else None
    if not day:
        d = g.dir.days.get(till or ctx.till) or {}
        day = d.get("business_day") or g.today()
    name = "x_report" if kind == "x" else "z_report"
    return jresp(await g.h.analytics.report(name, {"day": day, "till": till}, at))


CHART_DIMENSIONS = ("hour", "category", "till")


async def sales(request: web.Request) -> web.Response:
    """Net sales of one business day (today by default) by hour, category or till: the rows of
    ``sales_by`` (orders or lines, gross, discounts, net, tax, refunds) for the whole store."""
    g = gw(request)
    ctx = await g.auth(request, None)
    g.require(ctx, "reports.view")
    by = request.query.get("by", "hour")
    if by not in CHART_DIMENSIONS:
        raise InvalidInput("input.bad_field", "by is hour, category or till", field="by")
    day = request.query.get("day") or g.today()
    try:
        date.fromisoformat(day)
    except ValueError:
        raise InvalidInput("day.bad_date", "a business day is YYYY-MM-DD", field="day") from None
    at = (await g.h.ledger.status())["seq"]
    return jresp(await g.h.analytics.report("sales_by", {"dim": by, "start": day, "end": day}, at))


ROUTES = [
    ("GET", "/v1/reports/sales", sales),
    ("GET", "/v1/reports/{kind}", report),
]
