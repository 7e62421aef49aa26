"""Arabic at a real till window (Xvfb) against a real store server: what is typed shows joined and
right to left while the field gives the typed text to the search; brackets and hints read right;
the after-sales order list takes the whole width (right to left in Arabic) with touch-sized
buttons; and the screenshot set of the staff's screens in English and Arabic at 1024x768 and
1920x1080."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import unicodedata
import uuid
from zoneinfo import ZoneInfo

import pytest

from tilldriver import (
    idle,
    manager_token,
    post,
    pump,
    screenshot,
    sign_in,
    type_keys,
    xvfb_display,
)
from tillfactory import tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA, TEA2 = "8850000000010", "8850000000027"
NAME = "أمل حداد"  # typed letter by letter: Amal Haddad


@pytest.fixture(scope="module")
def shop(store):
    """The store with an Arabic-speaking manager and three paid orders on till A0."""
    tok = manager_token(store.url)
    body = {"staff": "m2", "name": "المديرة مريم", "role": "manager", "language": "ar"}
    post(f"{store.url}/v1/staff", {"id": str(uuid.uuid4()), **body, "pin": "8888"}, tok)
    from tilldriver import open_day

    open_day(store.url, "A0")
    cashier = post(
        f"{store.url}/v1/sessions",
        {"id": str(uuid.uuid4()), "staff": "c1", "pin": "1111", "till": "A0"},
    )["token"]
    url = f"{store.url}/v1/tills/A0/commands"
    for codes in ([TEA], [TEA, TEA2], [TEA2]):
        for code in codes:
            view = post(
                url, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": code}}, cashier
            )
        total = view["view"]["total"]
        pay = {"tenders": [{"kind": "cash", "amount": total + 10_000}]}
        post(url, {"id": str(uuid.uuid4()), "op": "pay", "args": pay}, cashier)
    return store


@pytest.fixture
def till(xvfb, shop, tmp_path):
    with tills(shop.url, tmp_path) as make:
        yield make


def drawn(entry) -> str:
    """What Tk holds in the field, i.e. what it draws (not what the field's get() answers)."""
    return str(entry.tk.call(entry._w, "get"))


def visual_is_right_to_left(visual: str, logical: str) -> bool:
    """Joined letters (presentation forms) read left to right as the typed text backwards."""
    joined = any("\ufb50" <= ch <= "\ufeff" for ch in visual)
    return joined and unicodedata.normalize("NFKC", visual)[::-1] == logical


def test_arabic_typed_into_the_search_field_shows_joined_and_right_to_left(till):
    from kiosk import i18n

    app = till("A1")
    sign_in(app, "a1", "4444")  # the after-sales clerk, who works in Arabic
    assert i18n.current() == "ar" and type(app.screen).__name__ == "AfterSalesScreen"
    screen = app.screen
    entry = screen.entry
    asked: list[str] = []
    real = app.api.orders
    app.api.orders = lambda q: (asked.append(q), real(q))[1]
    entry.focus_force()
    first, second = NAME.split(" ")
    for ch in first:  # what an input method commits, one letter at a time
        entry.insert("insert", ch)
        app.update()
    type_keys(entry, " ", gap_ms=120, enter=False)  # a real key press
    for ch in second + "x":
        entry.insert("insert", ch)
    type_keys(entry, "", gap_ms=120, enter=False)
    entry.event_generate("<KeyPress>", keysym="BackSpace", when="tail")  # a typo taken back
    app.update()
    assert entry.get() == NAME
    assert visual_is_right_to_left(drawn(entry), NAME), drawn(entry)
    assert str(entry.cget("justify")) == "right"
    # paste adds at the end of what was typed
    app.clipboard_clear()
    app.clipboard_append(" ١٢")
    entry.event_generate("<<Paste>>")
    app.update()
    assert entry.get() == NAME + " ١٢"
    entry.event_generate("<KeyPress>", keysym="BackSpace", when="tail")
    entry.event_generate("<KeyPress>", keysym="BackSpace", when="tail")
    entry.event_generate("<KeyPress>", keysym="BackSpace", when="tail")
    app.update()
    assert entry.get() == NAME and visual_is_right_to_left(drawn(entry), NAME)
    # the search uses the typed text, not the drawn one
    entry.event_generate("<KeyPress>", keysym="Return", when="tail")
    pump(app, lambda: asked, what="the search sent")
    assert asked == [NAME]
    idle(app)
    assert app.last_error == i18n._("No order found.")
    # the hint's brackets read the right way round
    assert "(YYYY-MM-DD)" in screen.hint_label.cget("text")


def test_the_order_list_takes_the_whole_width_right_to_left(till, shop):
    app = till("A2")
    sign_in(app, "a1", "4444")
    screen = app.screen
    today = dt.datetime.now(ZoneInfo(app.zone)).date().isoformat()
    screen.entry.insert(0, today)
    screen.find()
    pump(app, lambda: len(screen.orders.get_children()) >= 3, what="today's orders")
    idle(app)
    tree = screen.orders
    assert tree.winfo_width() >= 0.9 * screen.winfo_width()
    used = sum(tree.column(c, "width") for c in tree["columns"])
    assert used >= 0.95 * (tree.winfo_width() - 4), (used, tree.winfo_width())
    assert tuple(tree["displaycolumns"]) == ("state", "total", "date", "number")
    for b in (screen.find_button, *screen.buttons.values()):
        assert b.winfo_height() >= 48 and str(b.cget("takefocus")) == "0", b.cget("text")


def manager_screens(app, tag: str, artifacts, width: int) -> None:
    """The staff screens, each asked to fit in ``width`` pixels, and their screenshots."""
    screen = app.screen
    assert max(screen.staff_tab.winfo_reqwidth(), screen.perm_tab.winfo_reqwidth()) <= width
    screen.tabs.select(screen.staff_tab)
    pump(app, lambda: "a1" in screen.staff_tree.get_children(), what="staff list")
    screen.staff_tree.selection_set("a1")
    pump(app, lambda: screen.staff_fields["staff"].get() == "a1", what="a1 loaded")
    screenshot(app, artifacts / f"manager_staff_{tag}.png")
    screen.tabs.select(screen.perm_tab)
    pump(app, lambda: screen.perm_tree.get_children(), what="permissions")
    screenshot(app, artifacts / f"manager_permissions_{tag}.png")
    app.show_counter("aftersales")
    after = app.screen
    assert after.winfo_reqwidth() <= width, (tag, after.winfo_reqwidth())
    after.entry.insert(0, dt.datetime.now(ZoneInfo(app.zone)).date().isoformat())
    after.find()
    pump(app, lambda: len(after.orders.get_children()) >= 3, what="today's orders")
    idle(app)
    tree = after.orders
    used = sum(tree.column(c, "width") for c in tree["columns"])
    assert used >= 0.95 * (tree.winfo_width() - 4), (tag, used, tree.winfo_width())
    assert tree.winfo_width() >= 0.95 * width, (tag, tree.winfo_width())  # the screen's width
    screenshot(app, artifacts / f"aftersales_{tag}.png")


SIZES = ("1024x768", "1920x1080")


@pytest.fixture(scope="session")
def screens():
    """An Xvfb screen of each size, kept to the end of the session: Tk keeps its connection to
    every display it has used, and a display going away under it ends the process."""
    old = os.environ.get("DISPLAY")
    with contextlib.ExitStack() as stack:
        found = {size: stack.enter_context(xvfb_display(size)) for size in SIZES}
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        yield found


@pytest.mark.parametrize("size", SIZES)
def test_screenshots_of_the_staff_screens(shop, tmp_path, artifacts, size, screens, monkeypatch):
    from kiosk import i18n

    monkeypatch.setenv("DISPLAY", screens[size])
    with tills(shop.url, tmp_path) as make:
        for lang, staff, pin in (("en", "m1", "9999"), ("ar", "m2", "8888")):
            app = make(f"P{lang}", lang=lang)
            app.geometry(f"{size}+0+0")  # a till's window fills its screen
            label = app.screen.store_label
            name = i18n.shown(app.store["name"])
            pump(app, lambda a=label, n=name: a.cget("text") == n, what="shop")
            screenshot(app, artifacts / f"signin_{lang}_{size}.png")
            sign_in(app, staff, pin)
            assert i18n.current() == lang
            manager_screens(app, f"{lang}_{size}", artifacts, int(size.split("x")[0]))
            app.close()
