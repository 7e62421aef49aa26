"""The pay screen on a real till window under Xvfb against a real store: Enter completes the sale
at 1024x768 with every button on screen, a cash sale by keypad taps, money that is never clipped
in any shipped currency and language, dialogs that say what they act on and keep the focus, and
screenshots of the pay screen in each language at 1024x768 and 1920x1080."""

from __future__ import annotations

from tkinter import font as tkfont

import pytest

from tilldriver import (
    idle,
    pump,
    scan,
    screenshot,
    sign_in,
    type_keys,
)
from tillfactory import sized_tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small, THB 30.50
TEA2 = "8850000000027"  # Golden Green tea small, THB 19.50
# the store's currencies (kiosk/screens/manager_day.py) and the precisions domain/money.py names
CURRENCIES = ("THB", "CNY", "SAR", "USD", "JPY", "KWD")
SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}


@pytest.fixture
def till_on(store, tmp_path, monkeypatch):
    """``till_on(till_id, size)``: a till filling an Xvfb screen of ``size``, its day open."""
    with sized_tills(store.url, tmp_path, monkeypatch, SIZES) as make:
        yield make


def open_pay(app):
    sale = app.screen
    scan(app, TEA, 1_000_000)
    scan(app, TEA2, 2_000_000)
    assert sale.view["total"] == 5000
    sale.buttons["pay"].invoke()
    return pump(app, lambda: app.dialog, what="pay screen")


def buttons_of(widget) -> list:
    out = []
    for child in widget.winfo_children():
        if child.winfo_class() == "TButton":
            out.append(child)
        out += buttons_of(child)
    return out


def assert_inside_screen(app, dlg) -> None:
    app.update_idletasks()
    sw, sh = dlg.winfo_screenwidth(), dlg.winfo_screenheight()
    buttons = buttons_of(dlg)
    assert buttons
    for b in buttons:
        x, y, w, h = b.winfo_rootx(), b.winfo_rooty(), b.winfo_width(), b.winfo_height()
        where = f"{b.cget('text')!r} at {x},{y} {w}x{h} on {sw}x{sh}"
        assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh, where
        assert h >= 48, where  # a finger's target


def assert_not_clipped(label) -> None:
    """The label's whole text, in the font it is drawn in, fits the width it was given."""
    text = str(label.cget("text"))
    assert text
    need = tkfont.Font(font=label.cget("font")).measure(text)
    have = label.winfo_width()
    assert need <= have, f"{text!r} needs {need} px, has {have}"
    sw = label.winfo_screenwidth()
    assert label.winfo_rootx() >= 0 and label.winfo_rootx() + have <= sw, text


def test_enter_completes_the_payment_at_1024x768(till_on, artifacts):
    app = till_on("P1", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    dlg = open_pay(app)
    pump(app, lambda: dlg.winfo_viewable(), what="pay screen shown")
    assert_inside_screen(app, dlg)
    screenshot(app, artifacts / "pay_enter_1024x768.png")
    # the cashier types the cash handed over where the focus is, and presses Enter
    field = pump(app, lambda: app.focus_get(), what="a focused field")
    type_keys(field, "100", gap_ms=120, start_ms=5_000_000)
    pump(app, lambda: sale.last_order, what="order paid by Enter")
    order = sale.last_order
    assert order["total"] == 5000 and order["change"] == 5000
    assert [p["kind"] for p in order["payments"]] == ["cash"]
    assert app.dialog is None
    # the scan field has the keyboard again
    pump(app, lambda: app.focus_get() is sale.entry, what="focus back on the scan field")


def test_a_cash_sale_by_keypad_taps(till_on):
    app = till_on("P2", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    dlg = open_pay(app)
    pump(app, lambda: dlg.winfo_viewable(), what="pay screen shown")
    keys = dlg.keypad.buttons
    keys["5"].invoke()
    keys["enter"].invoke()  # 5.00 does not cover 50.00: refused, nothing sent
    idle(app)
    assert sale.last_order is None and dlg.error.cget("text")
    keys["clear"].invoke()
    for k in ("1", "0", "0"):
        keys[k].invoke()
    assert dlg.cash_amount.get() == "100"
    assert "50.00" in dlg.change_value.cget("text")
    keys["enter"].invoke()
    pump(app, lambda: sale.last_order, what="order paid by keypad")
    assert sale.last_order["change"] == 5000
    assert "50.00" in sale.change_label.cget("text")


def test_seven_digit_money_is_never_clipped(till_on, artifacts):
    """Due, paid, change and cash due of 1,234,567.89-sized amounts, in every shipped currency
    and language, measured in the label's own font against the label's width."""
    from domain.money import precision
    from kiosk import i18n
    from kiosk.screens.pay import PayScreen

    app = till_on("P3", "1024x768")
    sign_in(app, "admin", "0000")
    for lang in i18n.LANGS:
        i18n.set_language(lang)
        app.session.lang = lang
        for cur in CURRENCIES:
            app.store["currency"] = cur
            unit = 10 ** precision(cur)
            total = 1_234_567 * unit + (89 * unit) // 100  # 1,234,567.89 (JPY: 1,234,567)
            dlg = app.open_dialog(PayScreen(app, total, lambda t, m: None))
            dlg.tender_cash(9_999_999 * unit)  # change 8,765,43x.xx (after cash rounding)
            pump(app, lambda d=dlg: d.winfo_viewable(), what="pay screen shown")
            app.update()
            assert dlg.covered()
            for label in (dlg.due_value, dlg.paid_value, dlg.change_value, dlg.cash_due_label):
                assert_not_clipped(label)
            assert "8,765,4" in dlg.change_value.cget("text")  # all of it, in full
            if cur == "SAR":
                screenshot(app, artifacts / f"pay_7digits_{cur}_{lang}_1024x768.png")
            app.close_dialog()
    i18n.set_language("en")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_pay_screen_in_every_language(till_on, artifacts, size):
    """Screenshots of the pay screen (cash with a quick tender, and mixed) in each language."""
    from kiosk import i18n

    app = till_on({"1024x768": "P4", "1920x1080": "P6"}[size], size)
    sign_in(app, "admin", "0000")
    for lang in i18n.LANGS:
        i18n.set_language(lang)
        app.session.lang = lang
        app.show_counter("sale")
        idle(app)
        dlg = open_pay(app)
        pump(app, lambda d=dlg: d.winfo_viewable(), what="pay screen shown")
        assert_inside_screen(app, dlg)
        dlg.quick_buttons[-1].invoke()
        screenshot(app, artifacts / f"pay_{lang}_{size}.png")
        dlg.choose("mixed")
        dlg.choose("card")
        dlg.card_amount.delete(0, "end")
        dlg.card_amount.insert(0, "20")
        dlg.refresh()
        dlg.card_ref.insert(0, "TRM-889")
        screenshot(app, artifacts / f"pay_card_{lang}_{size}.png")
        dlg.choose("mixed")
        screenshot(app, artifacts / f"pay_mixed_{lang}_{size}.png")
        for label in (dlg.due_value, dlg.paid_value, dlg.change_value):
            assert_not_clipped(label)
        dlg.cancel()
        app.screen.buttons["void"].invoke()
        form = pump(app, lambda: app.dialog, what="void dialog")
        form.submit()
        pump(app, lambda: not app.screen.view.get("lines"), what="basket voided")
    i18n.set_language("en")


def test_dialogs_say_what_they_act_on_and_keep_the_focus(till_on, artifacts):
    from kiosk.screens.dialogs import FormDialog

    app = till_on("P5", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    got: dict = {}

    def ok(values: dict) -> None:
        got.update(values)

    form = app.open_dialog(
        FormDialog(
            app,
            "Quantity / weight",
            [("qty", "Quantity", "1")],
            ok,
            subject="Quantity for: Jasmine rice 5 kg",
        )
    )
    pump(app, lambda: form.winfo_viewable(), what="dialog shown")
    assert form.subject_label.cget("text") == "Quantity for: Jasmine rice 5 kg"
    assert form.subject_label.winfo_ismapped()
    pump(app, lambda: app.focus_get() is form.entries["qty"], what="focus on the field")
    pump(app, lambda: form.grab_status() == "local", what="the dialog holds the grab")
    assert_inside_screen(app, form)
    form.keypad.buttons["clear"].invoke()
    form.keypad.buttons["3"].invoke()
    screenshot(app, artifacts / "dialog_quantity_keypad_1024x768.png")
    form.keypad.buttons["enter"].invoke()
    assert got == {"qty": "3"} and app.dialog is None
    pump(app, lambda: app.focus_get() is sale.entry, what="focus back on the scan field")


def test_an_item_scanned_while_paying_is_in_the_total_paid(till_on):
    """A customer hands over one more item while the cashier is on the pay screen: the scan (a
    burst typed into the pay screen's focused cash field) adds it, and the pay screen's due,
    change and the sale it completes follow the new total."""
    app = till_on("P6", "1024x768")
    sign_in(app, "c1", "1111")
    sale = app.screen
    dlg = open_pay(app)
    pump(app, lambda: dlg.winfo_viewable(), what="pay screen shown")
    field = pump(app, lambda: app.focus_get(), what="a focused field")
    type_keys(field, TEA, gap_ms=4, start_ms=7_000_000)  # the scanner types where the focus is
    pump(app, lambda: sale.view["total"] == 8050, what="the third item in the basket")
    pump(app, lambda: dlg.total == 8050, what="the pay screen follows the basket")
    assert "80.50" in dlg.due_value.cget("text")
    assert dlg.cash_amount.get() == ""  # the scanned digits did not land in the cash field
    type_keys(field, "100", gap_ms=120, start_ms=8_000_000)  # the cashier types the cash
    pump(app, lambda: sale.last_order, what="order paid by Enter")
    assert sale.last_order["total"] == 8050 and sale.last_order["change"] == 1950
