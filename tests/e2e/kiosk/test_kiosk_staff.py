"""The staff's own words and forms on a real till window (Xvfb) against a real store server: the
staff form round-trips an account unchanged and changes only what was edited; permissions are named
in words; the sign-in screen names the shop from the start and takes a PIN from its keypad; an
error a cashier meets reads in their language with what to do next."""

from __future__ import annotations

import re

import pytest

from kiosk.widgets import text_width
from tilldriver import get, idle, pump, screenshot, sign_in, type_keys
from tillfactory import tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

CODE_LIKE = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*\b")


@pytest.fixture
def till(xvfb, store, tmp_path):
    with tills(store.url, tmp_path) as make:
        yield make


def account(url: str, staff: str) -> dict:
    rows = get(f"{url}/v1/staff")["staff"]
    return next(r for r in rows if r["staff"] == staff)


def staff_tab(app):
    screen = app.screen
    assert type(screen).__name__ == "ManagerScreen"
    screen.tabs.select(screen.staff_tab)
    pump(app, lambda: "a1" in screen.staff_tree.get_children(), what="staff list")
    return screen


def pick(app, screen, staff: str) -> None:
    screen.staff_tree.selection_set(staff)
    pump(
        app,
        lambda: screen.staff_fields["staff"].get() == staff,
        timeout=10,
        what=f"{staff} loaded into the form",
    )


def test_the_staff_form_round_trips_an_account_unchanged(till, store, artifacts):
    before = account(store.url, "a1")
    assert before["role"] == "aftersales" and before["language"] == "ar"
    app = till("S1")
    sign_in(app, "m1", "9999")
    screen = staff_tab(app)
    pick(app, screen, "a1")
    fields = screen.staff_fields
    # every field of the account is in the form
    assert fields["name"].get() == before["name"]
    assert screen.form_values()["role"] == "aftersales"
    assert screen.form_values()["language"] == "ar"
    assert fields["pin"].get() == ""
    assert "العربية" in screen.lang_box.get() or "ﺔﻴﺑﺮﻌﻟﺍ" in screen.lang_box.get()
    screenshot(app, artifacts / "staff_form_loaded_en.png")
    # Save without edits: the account on the store is exactly as it was
    screen.staff_buttons["save"].invoke()
    idle(app)
    assert account(store.url, "a1") == before
    # edit one field: only that changes
    fields["name"].delete(0, "end")
    fields["name"].insert(0, "Amal Haddad")
    screen.staff_buttons["save"].invoke()
    idle(app)
    pump(app, lambda: account(store.url, "a1")["name"] == "Amal Haddad", what="name saved")
    after = account(store.url, "a1")
    assert {k: v for k, v in after.items() if k != "name"} == {
        k: v for k, v in before.items() if k != "name"
    }
    # the form shows the saved account again (still the after-sales clerk, in Arabic)
    pump(app, lambda: fields["name"].get() == "Amal Haddad", what="form reloaded")
    assert screen.form_values()["role"] == "aftersales"
    # a new account is explicit: New clears the form and frees the staff number
    screen.staff_buttons["new"].invoke()
    assert fields["staff"].get() == "" and fields["name"].get() == ""
    assert str(fields["staff"].cget("state")) == "normal"
    fields["staff"].insert(0, "c9")
    fields["name"].insert(0, "Cashier Nine")
    fields["pin"].insert(0, "9191")
    screen.staff_buttons["save"].invoke()
    idle(app)
    pump(app, lambda: "c9" in screen.staff_tree.get_children(), what="new account listed")
    made = account(store.url, "c9")
    assert (made["name"], made["role"], made["language"]) == ("Cashier Nine", "cashier", "en")
    assert account(store.url, "a1")["role"] == "aftersales"


def test_the_permissions_tab_names_actions_in_words(till, store, artifacts):
    app = till("S2")
    sign_in(app, "m1", "9999")
    screen = app.screen
    screen.tabs.select(screen.perm_tab)
    tree = screen.perm_tree
    pump(app, lambda: len(tree.get_children()) > 20, what="permissions")
    for iid in tree.get_children():
        label = tree.set(iid, "label")
        assert label and label != iid and not CODE_LIKE.search(label), (iid, label)
    assert tree.set("day.close", "label") == "Close the business day"
    for role in ("cashier", "aftersales", "manager", "admin"):  # no role name cut off
        assert tree.column(role, "width") >= text_width("TkHeadingFont", tree.heading(role, "text"))
    screenshot(app, artifacts / "staff_permissions_en.png")


def test_sign_in_names_the_shop_at_start_and_takes_a_pin_from_its_keypad(till, store):
    app = till("S3", wait_store=False)
    pump(app, lambda: type(app.screen).__name__ == "SignInScreen", what="sign-in")
    screen = app.screen
    pump(app, lambda: app.store.get("name"), timeout=30, what="store config")
    name = app.store["name"]
    # shown as soon as the store answers: no sign-out needed
    pump(app, lambda: screen.store_label.cget("text") == name, timeout=5, what="shop name")
    assert "S3" in screen.till_label.cget("text")
    assert type(app.screen) is type(screen) and app.screen is screen  # the same screen
    # the PIN from the on-screen keypad; its keys are touch-sized and take no focus
    screen.staff.insert(0, "c1")
    screen.pin.focus_force()
    app.update()
    keys = screen.keypad.buttons
    assert all(k.winfo_height() >= 48 and str(k.cget("takefocus")) == "0" for k in keys.values())
    for digit in "1111":
        keys[digit].invoke()
    assert screen.pin.get() == "1111"
    keys["enter"].invoke()
    pump(app, lambda: app.session is not None, timeout=45, what="signed in with the keypad")
    assert app.session.staff == "c1"


def test_an_error_a_cashier_meets_reads_in_their_language_with_a_next_step(till, store):
    from domain.error_codes import lookup
    from kiosk import i18n

    app = till("S4")
    sign_in(app, "c3", "3333")  # the Thai cashier
    assert i18n.current() == "th"
    type_keys(app.screen.entry, "8850000999994", gap_ms=4)  # no such product
    # said beside the scan field, with the code scanned
    pump(app, lambda: app.screen.scan_error.cget("text"), what="an unknown barcode refused")
    text = str(app.screen.scan_error.cget("text"))
    assert i18n._(lookup("product.not_found").text) in text and "8850000999994" in text
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in text)  # Thai
    assert not CODE_LIKE.search(text) and "refused" not in text
    # "Check the code or search by name": the next step is there, in Thai
    assert "ค้นหาด้วยชื่อ" in text
