"""Paying by PromptPay QR on a real till window under Xvfb against a real store: scan, pay by QR,
the wait dialog shows the QR (and the customer window too), the cashier confirms, the order is
completed with the QR tender; a scan while waiting is held and lands in the next basket; the
cancel path leaves the basket to pay another way. Screenshots at 1024x768 and 1920x1080, in
English and Thai (and Chinese and Arabic)."""

from __future__ import annotations

import pytest

from domain.promptpay import check_payload
from tilldriver import (
    idle,
    pump,
    scan,
    screenshot,
    settle,
    sign_in,
    type_keys,
)
from tillfactory import sized_tills, store_with

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # THB 30.50
TEA2 = "8850000000027"  # THB 19.50
SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}
PAYMENTS = {
    "qr": "promptpay",
    "card": "card-sim",
    "promptpay": {"id": "0812345678", "id_type": "phone"},
    "timeout_s": 600,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with store_with(tmp_path_factory.mktemp("kiosk-qr"), {"payments": PAYMENTS}) as s:
        yield s


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    """``till_on(till_id, size, customer)``: a till filling an Xvfb screen, its day open."""
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield lambda till_id, size, customer=None: make(till_id, size, customer_display=customer)


def qr_wait(app):
    """Scan two teas, open the pay screen, choose QR and show the code: the wait dialog."""
    scan(app, TEA, 1_000_000)
    scan(app, TEA2, 2_000_000)
    assert app.screen.view["total"] == 5000
    app.screen.buttons["pay"].invoke()
    pay = pump(app, lambda: app.dialog, what="pay screen")
    pump(app, lambda: pay.winfo_viewable(), what="pay screen shown")
    pay.tender_buttons["qr"].invoke()
    assert pay.qr_amount.get() == "50.00"
    pay.enter()  # Enter on the QR panel shows the code
    wait = pump(app, lambda: pay.wait, what="wait dialog")
    pump(app, lambda: wait.phase == "pending" and wait.photo, timeout=60, what="QR shown")
    return pay, wait


def assert_qr_scannable(app, wait) -> None:
    """The code is on screen whole, at whole pixels per module, big enough for a phone."""
    app.update_idletasks()
    lab = wait.qr_label
    x, y, w, h = lab.winfo_rootx(), lab.winfo_rooty(), lab.winfo_width(), lab.winfo_height()
    sw, sh = lab.winfo_screenwidth(), lab.winfo_screenheight()
    size = wait.photo.width()
    assert size == wait.photo.height() >= 250, size
    assert w >= size and h >= size, (w, h, size)
    assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh, (x, y, w, h, sw, sh)
    for b in (wait.cancel_button, wait.retry_button):
        bx, by = b.winfo_rootx(), b.winfo_rooty()
        assert bx >= 0 and by + b.winfo_height() <= sh and b.winfo_height() >= 48


def test_scan_pay_by_qr_confirm_and_the_order_is_completed(till_on, artifacts):
    app = till_on("Q1", "1024x768", customer="window:560x620+0+0")
    sign_in(app, "c1", "1111")
    sale = app.screen
    app.customer.window.lower()
    pay, wait = qr_wait(app)
    fields = check_payload(wait.payload)  # the code shown is PromptPay's, for 50.00 baht
    assert fields["54"] == "50.00" and fields["01"] == "12"
    assert_qr_scannable(app, wait)
    elapsed = wait.elapsed_label.cget("text")
    pump(app, lambda: wait.elapsed_label.cget("text") != elapsed, what="the clock moving")
    screenshot(app, artifacts / "qr_wait_en_1024x768.png")
    # the customer's window shows the same code
    overlay = pump(app, lambda: getattr(app.customer, "qr_shown", None), what="customer QR")
    assert overlay.photo.width() >= 250
    app.customer.window.lift()
    screenshot(app, artifacts / "qr_customer_en_1024x768.png")
    app.customer.window.lower()
    # a scan while waiting is held: the basket (and the amount asked) does not change
    type_keys(wait, TEA, gap_ms=4, start_ms=9_000_000)
    settle(app, 0.5)
    assert pay.held == [TEA] and sale.view["total"] == 5000
    assert wait.held_label.cget("text")
    wait.confirm_button.invoke()  # the cashier sees the money in the shop's banking app
    pump(app, lambda: sale.last_order, timeout=60, what="order completed")
    order = sale.last_order
    assert order["total"] == 5000
    (p,) = order["payments"]
    assert (p["kind"], p["key"], p["provider"]) == ("qr", wait.key, "promptpay")
    assert app.dialog is None and not wait.winfo_exists()
    assert getattr(app.customer, "qr_shown", None) is None
    # the held scan went to the next customer's basket
    pump(app, lambda: sale.view.get("total") == 3050, timeout=30, what="held scan added")
    assert app.print_queue is not None


def test_a_cancelled_qr_leaves_the_basket_to_pay_in_cash(till_on, store):
    app = till_on("Q2", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    pay, wait = qr_wait(app)
    key = wait.key
    wait.cancel_button.invoke()
    pump(app, lambda: not wait.winfo_exists(), timeout=30, what="wait dialog closed")
    assert app.dialog is pay and pay.provider_tenders == []
    st = app.api.get(f"/v1/tills/Q2/payments/{key}")["payment"]
    assert st["state"] == "cancelled"
    pay.tender_buttons["cash"].invoke()
    pay.tender_cash(5000)
    pay.enter()
    pump(app, lambda: sale.last_order, timeout=30, what="paid in cash")
    assert [p["kind"] for p in sale.last_order["payments"]] == ["cash"]
    idle(app)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_qr_wait_in_every_language(till_on, artifacts, size):
    from kiosk import i18n

    app = till_on({"1024x768": "Q3", "1920x1080": "Q4"}[size], size)
    sign_in(app, "admin", "0000")
    for lang in i18n.LANGS:
        i18n.set_language(lang)
        app.session.lang = lang
        app.show_counter("sale")
        idle(app)
        pay, wait = qr_wait(app)
        assert_qr_scannable(app, wait)
        screenshot(app, artifacts / f"qr_wait_{lang}_{size}.png")
        wait.cancel_button.invoke()
        pump(app, lambda w=wait: not w.winfo_exists(), timeout=30, what="wait closed")
        screenshot(app, artifacts / f"qr_pay_panel_{lang}_{size}.png")
        pay.cancel()
        app.screen.buttons["void"].invoke()
        form = pump(app, lambda: app.dialog, what="void dialog")
        form.submit()
        pump(app, lambda: not app.screen.view.get("lines"), what="basket voided")
    i18n.set_language("en")
