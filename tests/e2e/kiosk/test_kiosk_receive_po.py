"""Receiving against a purchase order on a real manager till (Xvfb) against a real store: the
manager writes a new order (supplier, two products scanned, quantities and unit costs), receives
part of one line, and the order stays open with the rest still to come; the level went up by
what came. Screenshots of the Receive section at 1024x768 and 1920x1080."""

from __future__ import annotations

import uuid

import pytest

from kiosk.widgets import text_width
from stockkit import scannable, stock_section
from tilldriver import get, manager_token, post, pump, screenshot, sign_in, type_keys
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}


@pytest.fixture
def till_on(xvfb, store, tmp_path, monkeypatch):
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


def test_a_po_received_in_part_stays_open_with_the_rest_to_come(till_on, store, artifacts):
    a, b = scannable(store.url, 2)[1][:2]
    level_a = get(f"{store.url}/v1/stock/{a['sku']}/moves")["level"]
    app = till_on("PO1", "1024x768")
    sign_in(app, "m1", "9999")
    stock = stock_section(app, "receive_tab")
    stock.stock_buttons["new_po"].invoke()
    pump(app, lambda: stock.po_form.winfo_ismapped(), what="the new order form")
    stock.po_supplier.insert(0, "ACME Foods")
    for p, qty, cost in ((a, "10", "1.50"), (b, "4", "3")):
        type_keys(stock.po_sku, p["barcodes"][0], 4)  # a scanner: Enter moves on to the quantity
        assert stock.focus_get() == stock.po_qty
        stock.po_qty.insert(0, qty)
        stock.po_cost.insert(0, cost)
        stock.stock_buttons["add_po_line"].invoke()
        pump(app, lambda p=p: stock.draft_tree.exists(p["sku"]), what=f"{p['sku']} on the order")
    assert stock.draft_tree.set(a["sku"], "cost") == app.money(150)
    stock.stock_buttons["create_po"].invoke()
    pump(app, lambda: stock.receive_view.winfo_ismapped() and stock.current_po(), what="order")
    po = stock.current_po()
    pump(app, lambda: stock.po_tree.exists(a["sku"]), what="the order's lines")
    # part of the first line comes
    stock.po_tree.selection_set(a["sku"])
    stock.receive_qty.insert(0, "6")
    stock.stock_buttons["receive_line"].invoke()
    pump(app, lambda: stock.po_tree.exists(a["sku"]) and stock.po_tree.set(a["sku"], "received")
         == "6", timeout=30, what="6 received")  # fmt: skip
    assert stock.po_tree.set(a["sku"], "outstanding") == "4"
    assert "8" in stock.po_state.cget("text")  # 4 + 4 still to come
    screenshot(app, artifacts / "stock_receive_po_1024x768.png")
    # the store agrees: the order is open, 4 + 4 to come, the level is 6 higher
    orders = get(f"{store.url}/v1/purchase-orders?state=open")["purchase_orders"]
    mine = next(o for o in orders if o["po"] == po)
    assert mine["supplier"] == "ACME Foods"
    assert {ln["sku"]: ln["outstanding"] for ln in mine["lines"]} == {a["sku"]: 4, b["sku"]: 4}
    assert get(f"{store.url}/v1/stock/{a['sku']}/moves")["level"] == level_a + 6


def test_an_open_order_reads_on_a_big_screen(till_on, store, artifacts):
    a, b = scannable(store.url, 2)[1][:2]
    lines = [{"sku": a["sku"], "qty": 12, "unit_cost": 250}, {"sku": b["sku"], "qty": 3}]
    body = {"id": str(uuid.uuid4()), "supplier": "Dairy Co", "lines": lines}
    po = post(f"{store.url}/v1/purchase-orders", body, manager_token(store.url))["po"]
    big = till_on("PO2", "1920x1080")
    sign_in(big, "m1", "9999")
    stock = stock_section(big, "receive_tab")
    stock.load_pos(select=po)
    pump(big, lambda: stock.current_po() == po and stock.po_tree.exists(a["sku"])
         and stock.po_tree.set(a["sku"], "name"), what="the order on the big screen")  # fmt: skip
    assert stock.po_tree.set(a["sku"], "cost") == big.money(250)
    screenshot(big, artifacts / "stock_receive_po_1920x1080.png")


def test_the_stock_tab_reads_in_arabic(till_on, store, artifacts):
    """A manager who reads Arabic: the sections, headings and the order's state in Arabic, right
    to left (looked at in the screenshot)."""
    token = manager_token(store.url)
    staff = {"id": str(uuid.uuid4()), "staff": "m8", "name": "مدير", "role": "manager"}
    post(f"{store.url}/v1/staff", {**staff, "language": "ar", "pin": "8888"}, token)
    a, b = scannable(store.url, 2)[1][:2]
    body = {"id": str(uuid.uuid4()), "supplier": "ACME", "lines": [{"sku": a["sku"], "qty": 5}]}
    po = post(f"{store.url}/v1/purchase-orders", body, token)["po"]
    app = till_on("PO3", "1024x768")
    sign_in(app, "m8", "8888")
    assert app.rtl
    stock = stock_section(app, "receive_tab")
    stock.load_pos(select=po)
    pump(app, lambda: stock.current_po() == po and stock.po_tree.exists(a["sku"]), what="order")
    assert tuple(stock.po_tree.cget("displaycolumns"))[0] == "cost"  # mirrored
    tree = stock.po_tree
    for c in tree.cget("displaycolumns"):  # no Arabic heading cut off
        assert tree.column(c, "width") >= text_width("TkHeadingFont", tree.heading(c, "text")), c
    text = str(stock.po_state.cget("text"))  # shaped Arabic: presentation forms
    assert any("\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff" for ch in text), text
    screenshot(app, artifacts / "stock_receive_po_ar_1024x768.png")
