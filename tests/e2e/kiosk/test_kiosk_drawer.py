"""The sale counter's "Open drawer", a real till window under Xvfb against a real store: the
cashier taps it, picks a reason, the store journals ``drawer.opened`` (reason, staff, till) and
the drawer is kicked on the (loopback) printer; a scanner burst right after adds the scanned item
and nothing else. Screenshots of the counter and the dialog at 1024x768 and 1920x1080 (English,
Arabic) in artifacts/kiosk/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tilldriver import close_tills, get, idle, items, open_day, pump, scan, sign_in

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small, THB 30.50


def _openings(url: str) -> list[dict]:
    """Every ``drawer.opened`` in the store's journal (read page by page)."""
    out: list[dict] = []
    after = 0
    while page := get(f"{url}/v1/events?after={after}"):
        out += [e for e in page if e["kind"] == "drawer.opened"]
        after = page[-1]["seq"]
    return out


def test_open_drawer_with_a_reason_is_journaled_and_kicks_the_drawer(
    xvfb, store, printer, tmp_path
):
    from kiosk.app import TillApp

    open_day(store.url, "DR1")
    printer_cfg = {"kind": "network", "host": "127.0.0.1", "port": printer.port, "status": False}
    made = [TillApp(store.url, "DR1", lang="en", printer=printer_cfg, data_dir=tmp_path)]
    app = made[0]
    try:
        pump(app, lambda: app.store and app.print_queue is not None, what="store config")
        sign_in(app, "c1", "1111")
        sale = app.screen
        before = len(_openings(store.url))
        sale.buttons["drawer"].invoke()
        dlg = pump(app, lambda: app.dialog, what="the drawer dialog")
        dlg.ok_button.invoke()  # no reason yet: refused on the spot, nothing sent
        assert dlg.error.cget("text") == "Choose why the drawer is opened."
        dlg.choices["other"].invoke()
        dlg.ok_button.invoke()  # "something else" needs a note
        assert "Write a few words" in dlg.error.cget("text")
        dlg.choices["change"].invoke()
        dlg.note.insert(0, "coins for a 1000 note")
        dlg.ok_button.invoke()
        pump(app, lambda: app.dialog is None, what="dialog closed")
        # a scanner burst right after: one item, and only the scanned one
        scan(app, TEA, start=4_000_000)
        idle(app)
        lines = sale.view["lines"]
        assert items(app) == 1 and len(lines) == 1 and lines[0]["unit_price"] == 3050
        # the journal holds the opening: its reason, who, which till
        rows = pump(app, lambda: _openings(store.url)[before:], 60, "drawer.opened journaled")
        assert len(rows) == 1
        ev = rows[0]
        assert ev["staff"] == "c1" and ev["till"] == "DR1"
        assert ev["body"]["reason"] == "change" and ev["body"]["note"] == "coins for a 1000 note"
        assert ev["body"]["staff"] == "c1" and ev["body"]["till"] == "DR1"
        # and the drawer opened: a bare kick reached the printer
        jobs = printer.wait_jobs(1, timeout=30)
        assert jobs and b"\x1bp" in jobs[0]
        assert not app.last_error, app.last_error
    finally:
        close_tills(made)


def test_a_role_without_the_permission_has_no_drawer_button(xvfb, store, tmp_path):
    from kiosk.app import TillApp

    made = [TillApp(store.url, "DR2", lang="en", printer={"kind": "dummy"}, data_dir=tmp_path)]
    app = made[0]
    try:
        pump(app, lambda: app.store, what="store config")
        sign_in(app, "a1", "4444")  # after-sales: no sale counter of their own
        assert "drawer" not in getattr(app.screen, "buttons", {})
    finally:
        close_tills(made)


SHOOT = """
import sys
from pathlib import Path

url, out, size, data = sys.argv[1:5]
from tilldriver import idle, pump, screenshot, sign_in, xvfb_display

with xvfb_display(size):
    from kiosk import i18n
    from kiosk.app import TillApp

    app = TillApp(url, "DR3", lang="en", printer={"kind": "dummy"}, data_dir=Path(data))
    pump(app, lambda: app.store, what="store config")
    sign_in(app, "c1", "1111")
    for lang in ("en", "ar"):
        app.session.lang = lang
        i18n.set_language(lang)
        app.show_counter("sale")
        idle(app)
        screenshot(app, Path(out) / f"sale_drawer_button_{lang}_{size}.png")
        app.screen.buttons["drawer"].invoke()
        dlg = pump(app, lambda: app.dialog, what="drawer dialog")
        dlg.choices["pickup"].invoke()
        idle(app)
        screenshot(app, Path(out) / f"sale_drawer_dialog_{lang}_{size}.png")
        dlg.cancel()
        idle(app)
    app.close()
"""


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_drawer_screenshots(store, tmp_path, artifacts, size):
    """Each size in a process of its own (a Tk interpreter outlives its window)."""
    open_day(store.url, "DR3")
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests' / 'kits'}"}
    done = subprocess.run(
        [sys.executable, "-c", SHOOT, store.url, str(artifacts), size, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for lang in ("en", "ar"):
        assert (artifacts / f"sale_drawer_dialog_{lang}_{size}.png").stat().st_size > 10_000
