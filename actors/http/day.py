"""Business days: whether the store is open, opening a till's day (the licence decides, in the
ledger: ``domain.handlers_day.OpenDay``), closing it with its Z reports (``z_sequence``)."""

from __future__ import annotations

from aiohttp import web

from actors.http.common import command_id, derived_id, jresp, need_amount, plain, read_json, till_id
from actors.http.context import Ctx, Gateway, gw
from domain.day import MAX_FLOAT, DayClosed, ZReportRecorded
from domain.errors import Conflict
from domain.handlers_day import LicenceAnswer, OpenDay, ZStep, z_sequence

__all__ = ["ROUTES"]

LICENCE_SHOWN = (
    "ok",
    "code",
    "message",
    "warn",
    "warn_code",
    "grace_days_left",
    "expires_days_left",
)


async def day_view(request: web.Request) -> web.Response:
    """Is the store open, and this till's day; every till's day (floats, counted cash) for
    those who open, close or report on days."""
    g = gw(request)
    ctx = await g.auth(request, None)
    await g.refresh()
    out = {
        "today": g.today(),
        "till": ctx.till,
        "this_till": g.dir.days.get(ctx.till),
        "store_open": bool(g.dir.open_tills()),
        "open_tills": g.dir.open_tills(),
    }
    if any(g.dir.allows(ctx.staff, a) for a in ("day.open", "day.close", "reports.view")):
        out["tills"] = g.dir.days
    return jresp(out)


async def day_open(request: web.Request) -> web.Response:
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "day.open", data)
    cid = command_id(data)
    till = till_id(data.get("till", ctx.till))
    key = "float" if "float" in data else "opening_float"
    amount = need_amount(data, key, 0, min(MAX_FLOAT, g.config.limits.max_tender))
    async with g.till_lock:  # two new tills at once cannot both take the last place
        await g.refresh()
        status = await g.licensed(till, fresh=True)
        lic = await g.h.licence.may_open_day()
        ack = await g.submit(
            ctx,
            cid,
            "day.open",
            {"till": till, "float": amount},
            OpenDay(till, g.today(), amount, LicenceAnswer.of(lic, status)),
        )
        await g.refresh()
    await g.journal_approval(ctx, cid)
    return jresp(g.answer(ack, licence={k: lic.get(k) for k in LICENCE_SHOWN}))


async def day_close(request: web.Request) -> web.Response:
    """Record the counted cash (``day.closed``), then the till's Z report (``day.z_report``)
    from the analytics copy once it holds the close; the store's Z too when the last open till
    of that business day closes. A retry answers the first reports."""
    g = gw(request)
    data = await read_json(request)
    ctx = await g.auth(request, "day.close", data)
    cid = command_id(data)
    till = till_id(data.get("till", ctx.till))
    key = next((k for k in ("counted_cash", "counted") if k in data), "counted_cash")
    counted = need_amount(data, key, 0, min(MAX_FLOAT, g.config.limits.max_tender))
    ack = await g.submit(
        ctx,
        cid,
        "day.close",
        {"till": till, "counted_cash": counted},
        DayClosed(till=till, counted_cash=counted),
    )
    await g.journal_approval(ctx, cid)
    await g.refresh()
    out = g.answer(ack)
    for step in z_sequence(till, ack.body.business_day, g.dir.days):
        name = "z_report" if step.scope == "till" else "store_z_report"
        out[name] = await record_z(g, ctx, cid, step, ack.seq)
        await g.refresh()
    return jresp(out)


async def record_z(g: Gateway, ctx: Ctx, cid: str, step: ZStep, at_seq: int) -> dict:
    zid = derived_id(cid, f"z:{step.scope}:{step.till}")
    args = {"scope": step.scope, "till": step.till, "day": step.business_day}
    # a Z report counts everything journaled up to the close: wait for the analytics copy,
    # refuse (report.lagging, 503; the close's retry records it) rather than undercount
    report = await g.h.analytics.report(
        "z_report", {"day": step.business_day, "till": step.till or None}, at_seq, 60.0, True
    )
    try:
        ack = await g.submit(
            ctx,
            zid,
            "day.z",
            args,
            ZReportRecorded(step.scope, step.till, step.business_day, report),
        )
    except Conflict as exc:
        if exc.code != "day.z_recorded":
            raise
        return report  # recorded by an earlier close of the same day
    return plain(ack.body.report) if hasattr(ack.body, "report") else report


ROUTES = [
    ("GET", "/v1/day", day_view),
    ("POST", "/v1/day/open", day_open),
    ("POST", "/v1/day/close", day_close),
]
