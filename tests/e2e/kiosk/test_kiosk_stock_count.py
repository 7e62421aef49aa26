"""A blind stock count on a real manager till (Xvfb) against a real store: the count of one
category shows no levels while counting; a product is scanned and its quantity typed; the
variance report gives expected, counted and the difference; the manager approves and the level
becomes the counted one. Screenshots at 1024x768 (counting, report) and 1920x1080 (report)."""

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


def count_section(app):
    stock = stock_section(app, "count_tab")
    pump(app, lambda: stock.categories, what="categories")
    return stock


def test_a_blind_count_with_a_variance_is_approved_and_sets_the_level(till_on, store, artifacts):
    cat, rows = scannable(store.url)
    p = rows[0]
    sku = p["sku"]
    level = get(f"{store.url}/v1/stock/{sku}/moves")["level"]
    found = max(level, 0) + 3
    app = till_on("ST1", "1024x768")
    sign_in(app, "m1", "9999")
    stock = count_section(app)
    stock.scope_box.set(next(v for v in stock.scope_box.cget("values") if str(v) == cat))
    assert stock.blind.get()
    stock.stock_buttons["start_count"].invoke()
    pump(app, lambda: stock.current_count(), timeout=30, what="the count started")
    count = stock.current_count()
    type_keys(stock.count_sku, p["barcodes"][0], 4)
    assert stock.focus_get() == stock.count_qty
    type_keys(stock.count_qty, str(found), 120)  # Enter adds the line
    pump(app, lambda: stock.count_tree.exists(sku), timeout=30, what="the counted line")
    # blind: the counter sees what they counted, never the level
    assert tuple(stock.count_tree.cget("displaycolumns")) == ("sku", "name", "counted")
    assert stock.count_tree.set(sku, "counted") == str(found)
    assert stock.count_tree.set(sku, "expected") == ""
    screenshot(app, artifacts / "stock_count_blind_1024x768.png")
    stock.stock_buttons["report"].invoke()
    pump(app, lambda: "expected" in stock.count_tree.cget("displaycolumns"), what="the report")
    assert stock.count_tree.set(sku, "expected") == str(level)
    assert stock.count_tree.set(sku, "difference") == f"+{found - level}"
    assert str(stock.approve_button["state"]) == "normal"
    tree, room = stock.count_tree, stock.count_tree.winfo_width()
    widths = {c: tree.column(c, "width") for c in tree.cget("displaycolumns")}
    for c, w in widths.items():  # every figure of the report in sight, none cut
        assert w >= text_width("TkHeadingFont", tree.heading(c, "text")), (c, widths)
    assert sum(widths.values()) <= room, (widths, room)
    screenshot(app, artifacts / "stock_count_report_1024x768.png")
    stock.stock_buttons["approve"].invoke()
    pump(app, lambda: get(f"{store.url}/v1/stock/{sku}/moves")["level"] == found, timeout=30,
         what="the level set by the approval")  # fmt: skip
    pump(app, lambda: stock.current_count() != count, what="the count closed")
    moves = get(f"{store.url}/v1/stock/{sku}/moves")["moves"]
    assert (moves[0]["kind"], moves[0]["delta"], moves[0]["reference"]) == (
        "count",
        found - level,
        count,
    )


def test_a_variance_report_reads_on_a_big_screen(till_on, store, artifacts):
    cat, rows = scannable(store.url)
    token = manager_token(store.url)
    body = {"id": str(uuid.uuid4()), "scope": "category", "category": cat, "blind": True}
    count = post(f"{store.url}/v1/stock/counts", body, token)["count"]
    lines = [{"sku": p["sku"], "counted": i + 1} for i, p in enumerate(rows[:4])]
    post(f"{store.url}/v1/stock/counts/{count}/lines", {"id": str(uuid.uuid4()), "lines": lines},
         token)  # fmt: skip
    big = till_on("ST2", "1920x1080")
    sign_in(big, "m1", "9999")
    stock = count_section(big)
    stock.load_counts(select=count)
    pump(big, lambda: stock.current_count() == count, what="the open count")
    stock.stock_buttons["report"].invoke()
    pump(big, lambda: "expected" in stock.count_tree.cget("displaycolumns")
         and len(stock.count_tree.get_children()) == len(lines), what="the report")  # fmt: skip
    assert stock.count_total.cget("text")
    screenshot(big, artifacts / "stock_count_report_1920x1080.png")
