"""A batch price edit on a real manager till (Xvfb) against a real store: the store's own
products of a category are listed, two are ticked, +10 % ending in 9 is previewed (old → new,
how many change) and applied; a cashier's till then scans one and sells it at the new price.
A product whose price HQ sets (the demo's HQ catalogue) shows so in the preview and is not
applied. Screenshots at 1024x768 (English) and 1920x1080 (Arabic)."""

from __future__ import annotations

import uuid

import pytest

from bundlekit import ean, product
from kiosk import i18n
from storekit import wait_for
from tilldriver import get, manager_token, post, pump, scan, screenshot, sign_in
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}
CATEGORY = "Own shelf"


@pytest.fixture
def till_on(xvfb, store, tmp_path, monkeypatch):
    try:
        with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
            yield make
    finally:
        i18n.set_language("en")


@pytest.fixture(scope="module")
def own(store):
    """Three products of the store's own (HQ does not send them), once HQ's catalogue runs."""
    wait_for(lambda: get(f"{store.url}/v1/catalogue/status")["version"] is not None, 120,
               "the demo HQ's catalogue applied")  # fmt: skip
    rows = [
        product(
            f"SHELF-{i}",
            1000 + 250 * i,
            ean(880_000 + i),
            category=CATEGORY,
            names={"en": f"Shelf jam {i}", "ar": f"مربى الرف {i}"},
        )  # fmt: skip
        for i in range(3)
    ]
    body = {"id": str(uuid.uuid4()), "products": rows}
    post(f"{store.url}/v1/products/import", body, manager_token(store.url))
    return rows


def prices_tab(app):
    screen = app.screen
    assert type(screen).__name__ == "ManagerScreen"
    tab = screen.prices
    screen.tabs.select(tab)
    pump(app, lambda: CATEGORY in tab.category_box.cget("values"), what="categories")
    return tab


def listed(app, tab, category: str = CATEGORY, q: str = "") -> None:
    tab.category_box.set(category)
    tab.search_entry.delete(0, "end")
    tab.search_entry.insert(0, q)
    tab.buttons["search"].invoke()
    pump(app, lambda: tab.rows and all(p["category"] == category for p in tab.rows.values()),
         timeout=30, what=f"the products of {category}")  # fmt: skip


def test_a_batch_price_edit_is_previewed_applied_and_sold(till_on, store, own, artifacts):
    app = till_on("PR1", "1024x768")
    sign_in(app, "m1", "9999")
    tab = prices_tab(app)
    listed(app, tab)
    assert set(tab.rows) == {p["sku"] for p in own}
    first, second = own[0]["sku"], own[1]["sku"]
    for sku in (first, second):  # a tap on a row ticks it
        tab.tree.see(sku)
        app.update()
        x, y, _w, h = tab.tree.bbox(sku, "name")
        tab.tree.event_generate("<ButtonRelease-1>", x=x + 5, y=y + h // 2)
    assert tab.ticked == {first, second}
    tab.kind_box.set(tab.kind_box.cget("values")[1])  # percent up or down
    tab.value_entry.insert(0, "10")
    tab.rounding_box.set(tab.rounding_box.cget("values")[3])  # ending in 9
    assert str(tab.buttons["apply"]["state"]) == "disabled"  # nothing to apply before a preview
    tab.buttons["preview"].invoke()
    pump(app, lambda: tab.planned, timeout=30, what="the preview")
    assert tab.tree.set(first, "old") == app.money(1000)
    assert tab.tree.set(first, "new") == app.money(1099)  # 11.00 → ending in 9: 10.99
    assert tab.tree.set(second, "new") == app.money(1379)  # 13.75 → 13.79
    assert tab.tree.set(own[2]["sku"], "new") == ""  # not ticked: not in the change
    assert tab.summary.cget("text") == "2 prices change"
    assert str(tab.buttons["apply"]["state"]) == "normal"
    screenshot(app, artifacts / "prices_preview_1024x768.png")
    tab.buttons["apply"].invoke()
    pump(app, lambda: get(f"{store.url}/v1/products/{first}")["price"] == 1099, timeout=30,
         what="the new price at the store")  # fmt: skip
    pump(app, lambda: tab.tree.exists(first) and tab.tree.set(first, "old") == app.money(1099),
         timeout=30, what="the list showing the new price")  # fmt: skip
    assert app.message.cget("text") == "Prices changed: 2 products."
    assert get(f"{store.url}/v1/products/{own[2]['sku']}")["price"] == 1500  # unticked: as it was
    screenshot(app, artifacts / "prices_applied_1024x768.png")
    app.close()  # one Tk root at a time: the cashier's till next
    till = till_on("PR2", "1024x768")
    sign_in(till, "c1", "1111")
    scan(till, own[0]["barcodes"][0])
    line = till.screen.view["lines"][-1]
    assert (line["sku"], line["unit_price"]) == (first, 1099)


def test_hq_prices_are_shown_as_hqs_in_arabic_on_a_big_screen(till_on, store, own, artifacts):
    cats = get(f"{store.url}/v1/product-grid")["categories"]
    hq_cat = next(
        n for n in (c["name"] if isinstance(c, dict) else c for c in cats) if n != CATEGORY
    )
    app = till_on("PR3", "1920x1080")
    sign_in(app, "m1", "9999")
    app.session.lang = "ar"  # the manager reads Arabic
    i18n.set_language("ar")
    app.show_counter("manager")
    tab = prices_tab(app)
    listed(app, tab, hq_cat)
    hq_sku = next(iter(tab.rows))
    tab.toggle(hq_sku)
    listed_own = own[0]["sku"]
    tab.value_entry.insert(0, "5")
    tab.kind_box.set(tab.kind_box.cget("values")[1])
    tab.buttons["preview"].invoke()
    pump(app, lambda: tab.last, timeout=30, what="the preview")
    assert tab.last["hq_owned"] == 1 and tab.tree.set(hq_sku, "new") == ""
    assert tab.buttons["preview"].cget("text") == i18n.T("Preview") != "Preview"
    assert tab.tree.set(hq_sku, "note") == i18n.T("Set by HQ")
    assert str(tab.buttons["apply"]["state"]) == "disabled"
    assert app.last_error  # says HQ sets it and how
    screenshot(app, artifacts / "prices_hq_owned_ar_1920x1080.png")
    listed(app, tab)
    tab.toggle(listed_own)
    tab.buttons["preview"].invoke()
    pump(app, lambda: tab.planned, timeout=30, what="the preview of the store's own")
    screenshot(app, artifacts / "prices_preview_ar_1920x1080.png")
