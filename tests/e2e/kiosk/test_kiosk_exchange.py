"""The after-sales counter's exchange at a real till window (Xvfb) against a real store server
with a refund limit: find the order, return a line, scan the new item (a scanner burst typed
while another widget has the focus lands in the exchange's new items), see the difference in big
figures, settle — the customer pays more (English), or gets money back above the limit after a
manager's PIN (Arabic). Screenshots at 1024x768 and 1920x1080."""

from __future__ import annotations

import json
import uuid

import pytest

from tilldriver import get, idle, open_day, post, pump, screenshot, sign_in, type_keys
from tillfactory import tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

LIMIT = 10_000
SIZES = ("1024x768", "1920x1080")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from actors.process import StoreProcess

    data = tmp_path_factory.mktemp("kiosk-exchange") / "data"
    data.mkdir(parents=True)
    (data / "store.json").write_text(json.dumps({"refund_limits": {"needs_manager_over": LIMIT}}))
    s = StoreProcess(data, products=600).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def goods(store):
    """A cheap and a dear product (price gap over the limit), each with a barcode."""
    rows = get(f"{store.url}/v1/products?q=885&limit=200")
    good = [p for p in rows if p["unit"] == "each" and p["barcodes"] and p["sellable"]]
    good.sort(key=lambda p: p["price"])
    cheap, dear = good[0], good[-1]
    assert dear["price"] - cheap["price"] > LIMIT
    return cheap, dear


def sold(store, code: str) -> dict:
    """An order of one item, paid in cash at till S1 over HTTP."""
    open_day(store.url, "S1")
    tok = post(
        f"{store.url}/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": "c1", "pin": "1111", "till": "S1"},
    )["token"]
    url = f"{store.url}/v1/tills/S1/commands"
    view = post(url, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": code}}, tok)
    pay = {"tenders": [{"kind": "cash", "amount": view["view"]["total"]}]}
    return post(url, {"id": str(uuid.uuid4()), "op": "pay", "args": pay}, tok)["order"]


def open_panel(app, order: dict):
    screen = app.screen
    screen.entry.delete(0, "end")
    screen.entry.insert(0, order["number"])
    screen.find()
    pump(app, lambda: screen.record and screen.record["order"]["order_id"] == order["order_id"])
    screen.buttons["exchange"].invoke()
    panel = pump(app, lambda: screen.exchange_panel, what="exchange panel")
    panel.old_lines.selection_set(order["lines"][0]["line_id"])
    panel.return_line()
    return screen, panel


def scan_elsewhere(app, panel, code: str) -> None:
    """A scanner burst (5 ms gaps + Enter) typed while the order's line list has the focus."""
    type_keys(panel.old_lines, code, gap_ms=5)
    pump(app, lambda: panel.items and panel.quoted.get("sold"), what="new item quoted")
    idle(app)


def check_fits(panel, width: int) -> None:
    assert panel.winfo_reqwidth() <= width, panel.winfo_reqwidth()
    for b in (panel.cash_button, panel.card_button, panel.back_button, panel.cancel_button):
        assert b.winfo_height() >= 48 and str(b.cget("takefocus")) == "0", b.cget("text")
    for fig in panel.figures.values():
        assert fig.required_width() <= fig.winfo_width() + 2, fig.cget("text")


@pytest.mark.parametrize("size", SIZES)
def test_exchange_at_the_till_both_ways(store, goods, tmp_path, artifacts, size):
    from kiosk import i18n
    from tilldriver import xvfb_display

    cheap, dear = goods
    width = int(size.split("x")[0])
    with xvfb_display(size), tills(store.url, tmp_path) as make:
        # English: a manager at the after-sales counter; the customer pays the difference
        app = make(f"XE{width}")
        app.geometry(f"{size}+0+0")
        sign_in(app, "m1", "9999")
        app.show_counter("aftersales")
        order = sold(store, cheap["barcodes"][0])
        screen, panel = open_panel(app, order)
        scan_elsewhere(app, panel, dear["barcodes"][0])
        diff = dear["price"] - cheap["price"]
        assert [it["sku"] for it in panel.items] == [dear["sku"]]
        assert panel.quoted["difference"] == diff
        assert panel.figures["difference"].cget("text") == i18n.shown(app.money(diff))
        assert str(panel.cash_button.cget("state")) == "normal"
        assert str(panel.back_button.cget("state")) == "disabled"
        screenshot(app, artifacts / f"exchange_pay_en_{size}.png")
        check_fits(panel, width)
        panel.pay_cash()
        dlg = pump(app, lambda: app.dialog, what="cash dialog")
        dlg.submit()
        pump(app, lambda: screen.exchange_panel is None, what="exchange done")
        rec = get(f"{store.url}/v1/orders/{order['order_id']}")
        assert rec["refunded_total"] == cheap["price"]
        app.close()

        # Arabic: the after-sales clerk gives money back above the limit: a manager's PIN
        app = make(f"XA{width}", lang="ar")
        app.geometry(f"{size}+0+0")
        sign_in(app, "a1", "4444")
        assert i18n.current() == "ar"
        order = sold(store, dear["barcodes"][0])
        screen, panel = open_panel(app, order)
        scan_elsewhere(app, panel, cheap["barcodes"][0])
        assert panel.quoted["difference"] == -(dear["price"] - cheap["price"])
        assert str(panel.back_button.cget("state")) == "normal"
        screenshot(app, artifacts / f"exchange_giveback_ar_{size}.png")
        check_fits(panel, width)
        panel.give_back()
        pin = pump(app, lambda: type(app.dialog).__name__ == "ManagerPinDialog" and app.dialog)
        idle(app)
        screenshot(app, artifacts / f"exchange_manager_ar_{size}.png")
        pin.manager.insert(0, "m1")
        pin.pin.insert(0, "9999")
        pin.submit()
        pump(app, lambda: screen.exchange_panel is None, timeout=45, what="exchange approved")
        rec = get(f"{store.url}/v1/orders/{order['order_id']}")
        assert rec["refunded_total"] == dear["price"]
        audit = get(f"{store.url}/v1/audit?kind=auth.approved&staff=a1&limit=1000")["events"]
        assert audit[-1]["approved_by"] == "m1" and audit[-1]["till"] == f"XA{width}"
        app.close()
