"""A busy cashier with a keyboard-wedge scanner on a real till window (Xvfb, 1024×768) against a
real store server (one for the module).

A finger tap is a real button press and release on the widget (Tk's own bindings run: a button
that takes the focus on a click gets it). The scanner types its digits 4 ms apart and Return into
whatever widget has the keyboard focus then, as a real scanner does."""

from __future__ import annotations

import itertools
import os
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pytest

from tilldriver import (
    close_tills,
    get,
    idle,
    manager_token,
    open_day,
    post,
    pump,
    screenshot,
    settle,
    sign_in,
    type_keys,
    xvfb_display,
)

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small
_clock = itertools.count(10_000_000, 100_000)  # event times: each burst later than the last


@pytest.fixture(scope="module")
def screen():
    with xvfb_display("1024x768") as display:
        yield display


@pytest.fixture(scope="module")
def goods(store):
    """(barcode, sku) of counted items the store sells (the sample catalogue)."""
    from kassa_cli.sample import sample_products

    out = [
        (p["barcodes"][0], p["sku"])
        for p in sample_products(600)
        if p.get("unit") == "each" and p.get("barcodes")
    ]
    assert len(out) >= 60
    return iter(out[5:])


@pytest.fixture
def till(screen, store, tmp_path):
    from kiosk.app import TillApp

    made = []

    def make(till_id: str, size: tuple[int, int] = (1024, 768), images: dict | None = None):
        open_day(store.url, till_id)
        for name, png in (images or {}).items():
            (tmp_path / till_id / "images").mkdir(parents=True, exist_ok=True)
            (tmp_path / till_id / "images" / name).write_bytes(png)
        app = TillApp(
            store.url,
            till_id,
            printer={"kind": "dummy"},
            data_dir=tmp_path / till_id,
            size=size,
        )
        app.geometry(f"{size[0]}x{size[1]}+0+0")
        made.append(app)
        pump(app, lambda: app.store and app.print_queue is not None, what="store config")
        sign_in(app, "c1", "1111")
        counted(app.screen)
        return app

    yield make
    close_tills(made)  # freed on the Tk thread (tilldriver)


def counted(sale) -> None:
    """Count the baskets the screen applies and the beeps it gives."""
    sale.applied = 0
    sale.bells = 0
    apply, bell = sale.apply, sale.bell

    def counting_apply(view):
        sale.applied += 1
        apply(view)

    def counting_bell(*a):
        sale.bells += 1
        bell(*a)

    sale.apply = counting_apply
    sale.bell = counting_bell


def tap(app, widget, x: int | None = None, y: int | None = None) -> None:
    """A finger on ``widget``: press and release where it is (its middle by default)."""
    app.update()
    x = widget.winfo_width() // 2 if x is None else x
    y = widget.winfo_height() // 2 if y is None else y
    widget.event_generate("<Enter>", x=x, y=y)
    widget.event_generate("<ButtonPress-1>", x=x, y=y, when="tail")
    widget.event_generate("<ButtonRelease-1>", x=x, y=y, when="tail")
    settle(app, 0.1)
    idle(app)


def focused(app):
    """Where a scanner's keys go now: the widget with the focus, else the open dialog or the
    window."""
    return app.focus_get() or app.dialog or app


def scanner(app, code: str) -> None:
    """Digits 4 ms apart and Return, into whatever has the focus."""
    sale = app.screen
    seq, bells = sale.applied, sale.bells
    type_keys(focused(app), code, gap_ms=4, start_ms=next(_clock))
    pump(
        app,
        lambda: sale.applied > seq or sale.bells > bells,
        timeout=30,
        what=f"scan {code} applied",
    )
    idle(app)


def snapshot(sale) -> dict:
    v = sale.view
    return {
        "lines": {ln["line_id"]: (ln["sku"], ln["qty"]) for ln in v.get("lines") or []},
        "parked": len(v.get("parked") or []),
        "basket": v.get("basket"),
    }


def added_one(before: dict, after: dict, sku: str) -> bool:
    """``after`` is ``before`` plus one ``sku`` (a new line, or one more on its line)."""
    b, a = before["lines"], after["lines"]
    if after["parked"] != before["parked"] or any(k not in a for k in b):
        return False
    new = [k for k in a if k not in b]
    changed = [k for k in b if a[k] != b[k]]
    if new:
        return len(new) == 1 and not changed and a[new[0]] == (sku, 1)
    return len(changed) == 1 and a[changed[0]] == (sku, b[changed[0]][1] + 1)


def dialog_state(dlg) -> dict:
    """What the cashier sees in a dialog's fields."""
    out = {}
    for w in _descendants(dlg):
        if w.winfo_class() in ("TEntry", "Entry"):
            out[str(w)] = w.get()
    return out


def _descendants(w):
    for c in w.winfo_children():
        yield c
        yield from _descendants(c)


def select_first_line(app) -> None:
    sale = app.screen
    first = sale.view["lines"][0]["line_id"]
    sale.tree.see(first)
    app.update()
    x, y, w, h = sale.tree.bbox(first)
    tap(app, sale.tree, x + 20, y + h // 2)
    assert sale.tree.selection() == (first,)


def test_a_scan_after_each_basket_button_adds_the_item_and_nothing_else(till, goods):
    app = till("SC1")
    sale = app.screen
    for _ in range(2):
        scanner(app, next(goods)[0])
    for name in (
        "qty",
        "remove",
        "line_discount",
        "order_discount",
        "park",
        "resume",
        "void",
        "reprint",
        "pay",
    ):
        while len(sale.view.get("lines") or []) < 2:
            scanner(app, next(goods)[0])
        select_first_line(app)
        tap(app, sale.buttons[name])
        dlg = app.dialog
        fields = dialog_state(dlg) if dlg is not None else {}
        before = snapshot(sale)
        code, sku = next(goods)
        scanner(app, code)
        after = snapshot(sale)
        assert added_one(before, after, sku), (name, "while open" if dlg else "", before, after)
        if dlg is None:
            continue
        # the dialog is still open as the cashier left it; the scan's digits are not in it
        assert app.dialog is dlg and dlg.winfo_exists(), name
        assert dialog_state(dlg) == fields, name
        dlg.cancel()
        settle(app, 0.2)
        before = snapshot(sale)
        code, sku = next(goods)
        scanner(app, code)
        after = snapshot(sale)
        assert added_one(before, after, sku), (name, "after closing", before, after)
    assert sale.bells == 0


def test_a_scan_after_a_search_pick_adds_the_scanned_item(till, store):
    app = till("SC2")
    sale = app.screen
    type_keys(sale.entry, "Golden Green tea", gap_ms=150, start_ms=next(_clock))
    pump(app, lambda: sale.search_tree.get_children(), timeout=30, what="search results")
    row = sale.search_tree.get_children()[0]
    picked = sale.results[0]["sku"]
    x, y, w, h = sale.search_tree.bbox(row)
    tree, t = sale.search_tree, next(_clock)
    for i in range(2):  # a double click: two presses 80 ms apart on the same row
        tree.event_generate("<ButtonPress-1>", x=x + 30, y=y + h // 2, time=t + 80 * i)
        tree.event_generate("<ButtonRelease-1>", x=x + 30, y=y + h // 2, time=t + 80 * i + 20)
    pump(app, lambda: sale.view.get("lines"), timeout=30, what="picked item added")
    idle(app)
    assert [ln["sku"] for ln in sale.view["lines"]] == [picked]
    before = snapshot(sale)
    scanner(app, TEA)
    tea = get(f"{store.url}/v1/products/{TEA}")
    assert tea["sku"] != picked
    assert added_one(before, snapshot(sale), tea["sku"]), sale.view["lines"]


def test_newest_line_is_selected_and_visible_repeat_scans_merge(till, goods):
    app = till("SC3")
    sale = app.screen
    items = [next(goods) for _ in range(30)]
    for i, (code, sku) in enumerate(items):
        scanner(app, code)
        newest = sale.view["lines"][-1]
        assert newest["sku"] == sku
        assert sale.tree.selection() == (newest["line_id"],), i
        assert sale.tree.bbox(newest["line_id"]), f"line {i + 1} of 30 is out of sight"
    # the third item again: one more on its line, which is selected and scrolled into view
    scanner(app, items[2][0])
    third = sale.view["lines"][2]
    assert len(sale.view["lines"]) == 30 and third["sku"] == items[2][1] and third["qty"] == 2
    assert sale.tree.selection() == (third["line_id"],)
    assert sale.tree.bbox(third["line_id"])
    # Quantity and Remove act on that selected line
    tap(app, sale.buttons["qty"])
    dlg = pump(app, lambda: app.dialog, what="quantity dialog")
    assert "2" in dialog_state(dlg).values()
    dlg.cancel()
    settle(app, 0.2)
    tap(app, sale.buttons["remove"])
    pump(app, lambda: len(sale.view["lines"]) == 29, timeout=30, what="line removed")
    assert third["line_id"] not in {ln["line_id"] for ln in sale.view["lines"]}


def test_merging_follows_the_product_and_weighed_items_never_merge(till, store):
    tok = manager_token(store.url)
    post(
        f"{store.url}/v1/products/import",
        {
            "id": str(uuid.uuid4()),
            "source": "test",
            "products": [
                {
                    "sku": "NOMERGE1",
                    "names": {"en": "Gift card 100"},
                    "price": 10000,
                    "barcodes": ["8859000000013"],
                    "merge": False,
                }
            ],
        },
        tok,
    )
    app = till("SC4")
    sale = app.screen
    for _ in range(2):
        scanner(app, "8859000000013")
    assert [(ln["sku"], ln["qty"]) for ln in sale.view["lines"]] == [("NOMERGE1", 1)] * 2
    # a weighed item's label (prefix 23, PLU 00101, 0.500 kg) twice: two lines of 500 g
    from domain.catalogue import ean_check_digit

    label = "230010100500"
    label += ean_check_digit(label)
    for _ in range(2):
        scanner(app, label)
    weighed = [ln for ln in sale.view["lines"] if ln["unit"] == "kg"]
    assert [ln["qty"] for ln in weighed] == [500, 500]


def test_a_scan_error_shows_the_code_beside_the_field_and_beeps(till):
    from domain.catalogue import ean_check_digit

    app = till("SC5")
    sale = app.screen
    unknown = "885999999999"
    unknown += ean_check_digit(unknown)
    scanner(app, unknown)
    assert unknown in sale.scan_error.cget("text") and sale.bells == 1
    misread = unknown[:-1] + str((int(unknown[-1]) + 1) % 10)  # a wrong check digit
    scanner(app, misread)
    assert misread in sale.scan_error.cget("text") and sale.bells == 2
    assert not sale.view.get("lines")
    # the error sits right next to the scan field: just under it, as wide
    ey = sale.entry.winfo_rooty() + sale.entry.winfo_height()
    assert 0 <= sale.scan_error.winfo_rooty() - ey <= 8
    scanner(app, TEA)  # the next good scan clears it
    assert sale.scan_error.cget("text") == ""


def _png(w: int, h: int, rgb: tuple[int, int, int]) -> bytes:
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + (chunk(b"IEND", b""))
    )


def check_touch_layout(app, size: tuple[int, int]) -> None:
    """Every sale button and tile whole on screen and finger-sized; the basket shows rows."""
    sale = app.screen
    app.update()
    width, height = size
    keys = [*sale.buttons.values(), *sale.grid_view.cat_buttons.values()]
    keys += [b for b in sale.grid_view.tile_buttons if b.winfo_class() == "TButton"]
    for b in keys:
        x, y = b.winfo_rootx(), b.winfo_rooty()
        assert b.winfo_ismapped(), b.cget("text")
        assert x >= 0 and y >= 0 and x + b.winfo_width() <= width, (b.cget("text"), x, y)
        assert y + b.winfo_height() <= height, (b.cget("text"), y, b.winfo_height())
        assert min(b.winfo_height(), b.winfo_width()) >= 48, (b.cget("text"), b.winfo_height())
        assert str(b.cget("takefocus")) == "0"
    tree = sale.tree
    assert tree.winfo_rooty() + tree.winfo_height() <= height
    assert tree.winfo_height() >= 4 * 40  # at least four basket rows in sight


def assert_words_whole(grid) -> None:
    """A category's name breaks between words only: every word fits its button's width (at
    1024x768 "Household" was cut into "Househol" and "d")."""
    from tkinter import font as tkfont

    import ttkbootstrap as ttk

    style = ttk.Style()
    for b in grid.cat_buttons.values():
        name = str(b.cget("style"))
        font = tkfont.Font(font=style.lookup(name, "font"))
        wrap = int(style.lookup(name, "wraplength"))
        for word in str(b.cget("text")).split():
            assert font.measure(word) <= wrap, (word, name, wrap)


def test_item_grid_and_touch_layout_at_1024x768(till, store, artifacts):
    app = till("SC6", images={"P00101.png": _png(64, 48, (40, 160, 60))})
    sale = app.screen
    grid = sale.grid_view
    pump(app, lambda: grid.tile_buttons and grid.cat_buttons, timeout=30, what="item grid")
    check_touch_layout(app, (1024, 768))
    assert_words_whole(grid)
    screenshot(app, artifacts / "sale_grid_1024x768.png")
    # a favourite weighed item with a picture asks for its weight, then is sold by weight
    tile = next(b for b in grid.tile_buttons if getattr(b, "product", {}).get("sku") == "P00101")
    assert str(grid.images["P00101"]) in str(tile.cget("image"))
    assert str(grid.images["P00101"]) != str(grid.placeholder)
    tap(app, tile)
    dlg = pump(app, lambda: app.dialog, what="weight dialog")
    entry = next(iter(dlg.entries.values()))
    entry.insert(0, "0.750")
    dlg.submit()
    pump(app, lambda: sale.view.get("lines"), timeout=30, what="weighed item added")
    assert [(ln["sku"], ln["qty"]) for ln in sale.view["lines"]] == [("P00101", 750)]
    # a category's page: a tap adds a counted item; a second tap adds one more to its line
    tap(app, grid.cat_buttons["bakery"])
    pump(app, lambda: grid.category == "bakery" and grid.page_items(), what="bakery page")
    idle(app)
    bread = grid.tile_buttons[0]
    for _ in range(2):
        tap(app, bread)
    pump(app, lambda: sale.view["lines"][-1]["qty"] == 2, what="tile added twice")
    assert len(sale.view["lines"]) == 2 and sale.view["lines"][1]["sku"] == bread.product["sku"]
    for code in [TEA, "8850000000027", "8850000000034", "8850000000041"]:
        scanner(app, code)
    screenshot(app, artifacts / "sale_touch_1024x768.png")


def test_sale_screen_scales_to_1920x1080(store, tmp_path, artifacts):
    """In a process of its own: a Tk interpreter keeps its X connection until it is freed, and one
    left connected to a display that has gone ends the whole process at its next event."""
    root = Path(__file__).resolve().parents[3]
    code = (
        "import sys; from pathlib import Path; import test_kiosk_scanner as t; "
        "t.big_screen(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(root), str(root / "tests/kits"), str(Path(__file__).parent)]
        ),
    }
    with xvfb_display("1920x1080"):
        env["DISPLAY"] = os.environ["DISPLAY"]
        done = subprocess.run(
            [sys.executable, "-c", code, store.url, str(tmp_path), str(artifacts)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def big_screen(url: str, tmp_path: Path, artifacts: Path) -> None:
    from kiosk.app import TillApp

    open_day(url, "SC7")
    app = TillApp(url, "SC7", printer={"kind": "dummy"}, data_dir=tmp_path, size=(1920, 1080))
    try:
        app.geometry("1920x1080+0+0")
        pump(app, lambda: app.store and app.print_queue is not None, what="store config")
        sign_in(app, "c1", "1111")
        counted(app.screen)
        grid = app.screen.grid_view
        pump(app, lambda: grid.tile_buttons and grid.cat_buttons, timeout=30, what="grid")
        for code in [TEA, "8850000000027", "8850000000034"]:
            scanner(app, code)
        settle(app, 0.3)
        check_touch_layout(app, (1920, 1080))
        assert grid.cols * grid.rows > 12  # the bigger screen shows more tiles a page
        screenshot(app, artifacts / "sale_touch_1920x1080.png")
    finally:
        app.close()
