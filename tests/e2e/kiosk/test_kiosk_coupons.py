"""Coupons on paper at a real till under Xvfb against a real store: a manager issues a bearer
coupon on the manager counter's Coupons tab; it prints on the (loopback) receipt printer as a
slip with its code as a QR and in words; at the sale screen the slip's QR scanned while a basket
is open goes to the pay screen's coupon tender, and the sale uses the coupon up. Screenshots of
the tab and PNGs of the slip at 1024x768 (English) and 1920x1080 (Arabic, Thai), looked at."""

from __future__ import annotations

import pytest

from tilldriver import get, idle, pump, scan, screenshot, sign_in, type_keys
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # 30.50
SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}
QR_STORE = b"\x1d(k"  # GS ( k: the printer's own QR, storing then printing its data


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


def coupons_tab(app):
    mgr = app.screen
    tab = next(w for w in mgr.tabs.winfo_children() if type(w).__name__ == "CouponsTab")
    mgr.tabs.select(tab)
    idle(app)
    return tab


def fill(tab, **values: str) -> None:
    for key, text in values.items():
        tab.fields[key].delete(0, "end")
        tab.fields[key].insert(0, text)


def test_issue_print_and_redeem_a_coupon_by_a_scan(store, till_on, printer, artifacts):
    app = till_on(
        "CP1",
        "1024x768",
        printer={"kind": "network", "host": "127.0.0.1", "port": printer.port, "status": False},
    )
    sign_in(app, "m1", "9999")
    tab = coupons_tab(app)
    tab.kind.set("amount")
    fill(tab, value="3.00", min_spend="20", days="30", uses="1", member="")
    tab.issue_button.invoke()
    issued = pump(app, lambda: tab.last, timeout=60, what="coupon issued")
    code = issued["code"]
    assert len(code) == 10 and issued["value"] == 300 and issued["min_spend"] == 2000
    view = get(f"{store.url}/v1/coupons/{code}")
    assert view["left"] == 1 and view["valid_now"] and not view["member"]
    job = next(j for j in printer.wait_jobs(1, timeout=60) if code.encode() in j)
    assert QR_STORE + bytes([len(code) + 3, 0]) + b"1P0" + code.encode() in job  # the QR
    assert f"{code[:5]} {code[5:]}".encode() in job  # the code in words, to type by hand
    assert b"Coupon" in job and b"Anyone holding this slip" in job
    assert code in tab.status.cget("text").replace(" ", "")
    screenshot(app, artifacts / "coupons_tab_en_1024x768.png")
    app.print_queue.preview(code, artifacts / "coupon_slip_en.png")
    tab.reprint_button.invoke()  # a copy, marked so
    copy = pump(app, lambda: [j for j in printer.jobs[1:] if code.encode() in j], timeout=60)
    assert b"COPY" in copy[0]

    app.show_counter("sale")
    sale = app.screen
    type_keys(sale.entry, code, gap_ms=4, start_ms=2_000_000)  # the slip's QR, basket empty
    pump(app, lambda: "scan the items first" in sale.scan_error.cget("text"), what="empty")
    assert app.dialog is None
    scan(app, TEA, 3_000_000)
    type_keys(sale.entry, code, gap_ms=4, start_ms=4_000_000)  # now it pays
    dlg = pump(app, lambda: app.dialog, what="pay screen")
    pump(app, lambda: dlg.coupon_info, what="coupon looked up")
    assert dlg.kind == "coupon" and dlg.coupon_code.get() == code
    assert dlg._amount(dlg.coupon_amount) == 300
    screenshot(app, artifacts / "coupon_scanned_pay_1024x768.png")
    dlg.choose("cash")
    dlg.tender_cash(dlg.cash_due())
    dlg.submit()
    pump(app, lambda: sale.last_order, timeout=60, what="sale paid with the coupon")
    pays = {p["kind"]: p for p in sale.last_order["payments"]}
    assert pays["coupon"] == {**pays["coupon"], "amount": 300, "reference": code}
    assert get(f"{store.url}/v1/coupons/{code}")["left"] == 0
    sale.scan_error.configure(text="")
    type_keys(sale.entry, "NOSUCHCOUPON", gap_ms=4, start_ms=6_000_000)  # neither: said so
    pump(app, lambda: "NOSUCHCOUPON" in sale.scan_error.cget("text"), what="refused scan")
    assert app.dialog is None


def test_the_coupons_tab_and_slip_in_arabic_and_thai_at_1920x1080(store, till_on, artifacts):
    from kiosk import i18n
    from kiosk.screens.manager_coupons import coupon_slip

    app = till_on("CP2", "1920x1080")
    sign_in(app, "m1", "9999")
    try:
        for lang in ("ar", "th"):
            i18n.set_language(lang)
            app.session.lang = lang
            app.show_counter("manager")
            tab = coupons_tab(app)
            tab.kind.set("percent")
            fill(tab, value="12.5", min_spend="100", days="7", uses="3", member="M0002")
            tab.issue_button.invoke()
            issued = pump(app, lambda t=tab: t.last, timeout=60, what="coupon issued")
            assert issued["value"] == 1250 and issued["member"] == "M0002"
            assert issued["uses"] == 3
            screenshot(app, artifacts / f"coupons_tab_{lang}_1920x1080.png")
            slip = coupon_slip({**issued, "left": 3}, app)
            assert slip.lang == lang and slip.worth and "%" in slip.worth
            mine = i18n._("For member {member} only").format(member="M0002")
            assert mine in slip.lines and mine != "For member M0002 only"  # logical order:
            # the printer's renderer shapes and orders Arabic itself
            app.print_queue.preview(issued["code"], artifacts / f"coupon_slip_{lang}.png")
    finally:
        i18n.set_language("en")
