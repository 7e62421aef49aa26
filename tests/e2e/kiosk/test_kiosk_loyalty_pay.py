"""Points and a coupon on the pay screen of a real till under Xvfb against a real store: the
member found by their card (a scanner) names a cash sale and earns its points; the next sale is
paid partly with points, partly with a coupon scanned at the till, the rest in cash; the store's
figures follow. Screenshots at 1024x768 (English) and 1920x1080 (Arabic), looked at."""

from __future__ import annotations

import uuid

import pytest

from tilldriver import get, manager_token, post, pump, screenshot, sign_in, type_keys
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # 30.50
TEA2 = "8850000000027"  # 19.50
CARD = "9000000002"  # the demo member M0002's card
RULES = {
    "points_per_unit": 1,
    "unit": 100,
    "point_value": 10,
    "tiers": [{"name": "Gold", "by": "visits", "threshold": 1, "window_days": 30,
               "multiplier_bp": 20000}],
}  # fmt: skip
SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


@pytest.fixture(scope="module")
def coupon(store) -> str:
    tok = manager_token(store.url)
    post(f"{store.url}/v1/loyalty/rules", {"id": str(uuid.uuid4()), "rules": RULES}, tok)
    body = {"id": str(uuid.uuid4()), "code": "E2E-TEA-300", "kind": "amount", "value": 300}
    return post(f"{store.url}/v1/coupons", body, tok)["code"]


def open_pay(app):
    from tilldriver import scan

    scan(app, TEA, 1_000_000)
    scan(app, TEA2, 2_000_000)
    assert app.screen.view["total"] == 5000
    app.screen.buttons["pay"].invoke()
    dlg = pump(app, lambda: app.dialog, what="pay screen")
    pump(app, lambda: dlg.winfo_viewable(), what="pay screen shown")
    return dlg


def on_screen(dlg) -> None:
    """Every tender button, Complete sale and Cancel inside the screen, a finger's height, its
    words whole."""
    import ttkbootstrap as ttk

    from kiosk.widgets import text_width

    dlg.update_idletasks()
    sw, sh = dlg.winfo_screenwidth(), dlg.winfo_screenheight()
    for b in [*dlg.tender_buttons.values(), dlg.ok_button]:
        x, y, w, h = b.winfo_rootx(), b.winfo_rooty(), b.winfo_width(), b.winfo_height()
        where = f"{b.cget('text')!r} at {x},{y} {w}x{h} on {sw}x{sh}"
        assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh and h >= 48, where
        font = ttk.Style().lookup("TButton", "font") or "TkDefaultFont"
        assert w >= text_width(font, b.cget("text")), f"words cut: {where}"  # "混合支" once


def find_member(app, dlg) -> None:
    dlg.choose("points")
    dlg.loyalty = {}
    type_keys(dlg.points_member, CARD, gap_ms=4, start_ms=3_000_000)  # a card reader + Enter
    pump(app, lambda: dlg.loyalty, what="member's points")


def points_of(store) -> int:
    return get(f"{store.url}/v1/members/M0002/loyalty")["points"]


def test_points_and_a_coupon_pay_part_of_a_sale(store, till_on, coupon, artifacts):
    app = till_on("LP1", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    start = points_of(store)
    dlg = open_pay(app)
    on_screen(dlg)
    find_member(app, dlg)
    worth = start * 10
    assert dlg.points_amount.get().strip() == (dlg._text(min(worth, 5000)) if worth else "")
    dlg.points_amount.delete(0, "end")  # this time the member keeps their points
    dlg.choose("cash")
    dlg.tender_cash(10_000)
    dlg.submit()
    pump(app, lambda: sale.last_order, what="cash sale naming the member")
    assert sale.last_order["member"] == "M0002"
    earned = points_of(store) - start
    assert earned >= 50  # 50.00 in money: 50 points (100 at Gold)

    sale.last_order = None
    have = start + earned
    dlg = open_pay(app)
    find_member(app, dlg)
    use = min(have * 10, 5000 - 300)
    dlg._set(dlg.points_amount, use)
    dlg.refresh()
    assert "Gold" in dlg.tier_label.cget("text")
    screenshot(app, artifacts / "pay_points_1024x768.png")
    dlg.choose("coupon")
    type_keys(dlg.coupon_code, coupon, gap_ms=4, start_ms=6_000_000)  # the coupon's QR scanned
    pump(app, lambda: dlg.coupon_info, what="coupon looked up")
    assert dlg._amount(dlg.coupon_amount) == 300
    screenshot(app, artifacts / "pay_coupon_1024x768.png")
    dlg.choose("cash")
    dlg.tender_cash(dlg.cash_due())
    assert dlg.covered()
    dlg.submit()
    pump(app, lambda: sale.last_order, what="sale paid with points, coupon and cash")
    kinds = {p["kind"]: p for p in sale.last_order["payments"]}
    assert kinds["points"]["points"] == -(-use // 10) and kinds["coupon"]["amount"] == 300
    paid_money = 5000 - use - 300
    assert points_of(store) == have - -(-use // 10) + paid_money * 2 // 100  # Gold: double
    assert get(f"{store.url}/v1/coupons/{coupon}")["left"] == 0
    from kiosk import i18n

    try:
        for lang in ("zh", "th", "ar"):  # the tender column at 1024x768 in each language
            i18n.set_language(lang)
            app.session.lang = lang
            app.show_counter("sale")
            dlg = open_pay(app)
            on_screen(dlg)
            dlg.choose("points")
            screenshot(app, artifacts / f"pay_points_{lang}_1024x768.png")
            dlg.cancel()
            app.screen.buttons["void"].invoke()
            pump(app, lambda: app.dialog, what="void dialog").submit()
            pump(app, lambda: not app.screen.view.get("lines"), what="basket voided")
    finally:
        i18n.set_language("en")


def test_the_points_panel_in_arabic_at_1920x1080(store, till_on, coupon, artifacts):
    from kiosk import i18n

    app = till_on("LP2", "1920x1080")
    sign_in(app, "admin", "0000")
    try:
        i18n.set_language("ar")
        app.session.lang = "ar"
        app.show_counter("sale")
        dlg = open_pay(app)
        find_member(app, dlg)
        assert dlg.points_label.cget("text")
        screenshot(app, artifacts / "pay_points_ar_1920x1080.png")
        dlg.choose("coupon")
        type_keys(dlg.coupon_code, coupon, gap_ms=4, start_ms=3_000_000)
        pump(app, lambda: dlg.coupon_label.cget("text"), what="coupon shown")
        screenshot(app, artifacts / "pay_coupon_ar_1920x1080.png")
        dlg.cancel()
    finally:
        i18n.set_language("en")


GOLD_OFF = {**RULES, "tiers": [{**RULES["tiers"][0], "threshold": 0, "discount_bp": 500}]}


def gold_for_all(store) -> None:
    """Every member is Gold (0 visits needed), and Gold gives 5 % off."""
    tok = manager_token(store.url)
    post(f"{store.url}/v1/loyalty/rules", {"id": str(uuid.uuid4()), "rules": GOLD_OFF}, tok)


def test_a_member_card_scanned_on_the_sale_screen_gives_the_tier_discount(
    store, till_on, coupon, artifacts
):
    """The card scanned between items names the sale: 5 % off 50.00 on the sale screen, the
    customer window, the pay screen, the order the store keeps and the receipt."""
    from hw.receipt import build_receipt
    from tilldriver import scan

    gold_for_all(store)
    app = till_on("LP3", "1024x768", customer_display="window:480x400+540+360")
    sign_in(app, "c1", "1111")
    sale = app.screen
    scan(app, TEA, 1_000_000)
    type_keys(sale.entry, CARD, gap_ms=4, start_ms=2_000_000)  # the member's card
    pump(app, lambda: (sale.view.get("member") or {}).get("member") == "M0002", what="named")
    scan(app, TEA2, 3_000_000)  # an item after the card is discounted too
    assert not sale.scan_error.cget("text")
    v = sale.view
    assert (v["total"], v["member_discount"], v["member"]["tier"]) == (4750, 250, "Gold")
    text = sale.member_label.cget("text")
    assert "Gold" in text and "5% off" in text and "2.50" in text, text
    win = app.customer.window
    pump(app, lambda: len(win.shown_lines()) == 3, what="the discount on the customer window")
    assert "2.50" in win.shown_lines()[-1][2] and "47.50" in win.total_value.cget("text")
    screenshot(app, artifacts / "sale_member_customer_1024x768.png")
    win.withdraw()
    screenshot(app, artifacts / "sale_member_1024x768.png")
    app.screen.buttons["pay"].invoke()
    dlg = pump(app, lambda: app.dialog, what="pay screen")
    assert dlg.total == 4750
    dlg.tender_cash(5000)
    dlg.submit()
    pump(app, lambda: sale.last_order, what="the discounted sale")
    o = sale.last_order
    assert (o["member"], o["member_discount"], o["tier"], o["total"]) == (
        "M0002",
        250,
        "Gold",
        4750,
    )
    rows = [(r.text, r.value) for r in build_receipt(o, app.store).rows]
    assert any(t.startswith("Member discount Gold 5") and "2.50" in v for t, v in rows), rows
    assert not sale.member_label.cget("text")  # the next sale is nobody's until named


def test_the_pay_screens_look_up_gives_the_discount_in_arabic_at_1920x1080(
    store, till_on, coupon, artifacts
):
    from kiosk import i18n

    gold_for_all(store)
    app = till_on("LP4", "1920x1080")
    sign_in(app, "admin", "0000")
    try:
        i18n.set_language("ar")
        app.session.lang = "ar"
        app.show_counter("sale")
        dlg = open_pay(app)
        find_member(app, dlg)  # the pay screen's look-up names the sale
        pump(app, lambda: dlg.total == 4750, what="the pay screen follows the discount")
        assert app.screen.view["member_discount"] == 250
        screenshot(app, artifacts / "pay_member_discount_ar_1920x1080.png")
        dlg.cancel()
        assert "Gold" in app.screen.member_label.cget("text")
        screenshot(app, artifacts / "sale_member_ar_1920x1080.png")
    finally:
        i18n.set_language("en")
