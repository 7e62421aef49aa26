"""The report screens in every language at one screen size, as screenshots: run as a child
process by ``tests/e2e/kiosk/test_kiosk_reports.py`` (``python report_shots.py URL SIZE OUT``)
with its own Xvfb, against the test's store. Also the helpers both use to read a report screen."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tilldriver import idle, pump, screenshot, sign_in, xvfb_display

LANGS = ("en", "zh", "th", "ar")
# a report's key as the server names it: snake_case, dotted paths, list indices
RAW = re.compile(r"[a-z]+_[a-z0-9_]+|\[\d+\]|\b[a-z]+\.[a-z_]+\b")


def texts(widget: Any) -> list[str]:
    """Every text a person sees in ``widget`` and below: labels, buttons, table headings and
    cells, text drawn on canvases."""
    out: list[str] = []
    cls = widget.winfo_class()
    if cls == "Treeview":
        for c in widget.cget("columns"):
            out.append(str(widget.heading(c)["text"]))
        for item in widget.get_children():
            out += [str(v) for v in widget.item(item, "values")]
    elif cls == "Canvas":
        out += [widget.itemcget(i, "text") for i in widget.find_all() if widget.type(i) == "text"]
    else:
        try:
            out.append(str(widget.cget("text")))
        except Exception:  # frames have no text
            pass
    for child in widget.winfo_children():
        out += texts(child)
    return [t for t in out if t]


def assert_no_raw_keys(all_texts: list[str], where: str) -> None:
    bad = [t for t in all_texts if RAW.search(t)]
    assert not bad, f"raw report keys on {where}: {bad[:5]}"


def trees(widget: Any) -> list[Any]:
    out = [widget] if widget.winfo_class() == "Treeview" else []
    for child in widget.winfo_children():
        out += trees(child)
    return out


def show_manager_report(app: Any, key: str = "x_store") -> Any:
    """Tap a report button on the manager counter and wait until the store's answer is shown."""
    mgr = app.screen
    mgr.report_buttons[key].invoke()
    idle(app)  # the read answered and its result was shown
    pump(
        app,
        lambda: any(t.get_children() for t in trees(mgr.reports_tab)),
        what=f"report {key}",
    )
    return mgr


def _screens(app: Any, artifacts: Path, tag: str) -> None:
    from kiosk import i18n

    for lang in LANGS:
        i18n.set_language(lang)
        app.session.lang = lang
        app.show_counter("manager")
        idle(app)
        mgr = show_manager_report(app, "x_store")
        assert_no_raw_keys(texts(mgr.reports_tab), f"report {lang}")
        screenshot(app, artifacts / f"report_{tag}_{lang}.png")
        mgr.tabs.select(mgr.charts_tab)
        mgr.charts_button.invoke()
        pump(app, lambda m=mgr: all(c.bars for c in m.charts.values()), what="charts")
        idle(app)
        assert_no_raw_keys(texts(mgr.charts_tab), f"charts {lang}")
        screenshot(app, artifacts / f"charts_{tag}_{lang}.png")
        mgr.tabs.select(mgr.day_tab)
        idle(app)
        screenshot(app, artifacts / f"day_{tag}_{lang}.png")
        app.show_counter("sale")
        idle(app)
        app.own_report_button.invoke()
        win = pump(
            app,
            lambda: app.dialog if app.dialog and app.dialog.view.trees else None,
            what="own report",
        )
        idle(app)
        assert_no_raw_keys(texts(win), f"own report {lang}")
        screenshot(app, artifacts / f"own_{tag}_{lang}.png")
        win.cancel()
    i18n.set_language("en")


def main(url: str, size: str, out: str) -> None:
    from kiosk.app import TillApp

    w, h = (int(x) for x in size.split("x"))
    with xvfb_display(size), tempfile.TemporaryDirectory() as tmp:
        app = TillApp(url, "R8", data_dir=Path(tmp), size=(w, h))
        try:
            app.geometry(f"{w}x{h}+0+0")
            pump(app, lambda: app.store and app.print_queue is not None, what="store config")
            sign_in(app, "m1", "9999")
            _screens(app, Path(out), size)
        finally:
            app.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
