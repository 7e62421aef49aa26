"""The operation log on the manager counter, a real till window under Xvfb against a real store:
a cashier sells on till A1, the after-sales clerk refunds it on till A2 from another address
(127.0.0.2); the manager filters the log by that staff member and reads the refund in words
("Refunded order … — THB …") with its till, address and time, newest first, paged; a cashier
cannot open it (no manager counter, and the store answers 403). Screenshots at 1024x768 and
1920x1080, in English and Arabic (artifacts/kiosk/)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from auditkit import REFUND_IP, refund_scene
from tilldriver import idle, pump, sign_in
from tillfactory import tills

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def scene(store):
    return refund_scene(store.url)


def _oplog(app: Any) -> Any:
    mgr = app.screen
    tab = mgr.oplog
    mgr.tabs.select(tab)
    pump(app, lambda: tab.rows and tab.names, timeout=60, what="the operation log's first page")
    idle(app)
    return tab


def rows_text(tab: Any, iid: str) -> str:
    return " ".join(tab.tree.item(iid, "values"))


def test_manager_filters_by_staff_and_reads_the_refund(xvfb, store, scene, tmp_path):
    from kiosk import i18n

    refund_no = scene["order"]["number"]
    with tills(store.url, tmp_path) as make:
        app = make("M1", day=False)
        sign_in(app, "m1", "9999")
        tab = _oplog(app)
        seqs = [int(i) for i in tab.tree.get_children()]
        assert seqs == sorted(seqs, reverse=True), "newest first"
        # filter by the after-sales clerk, as a manager picks them from the list
        choice = next(v for v in tab.staff_box.cget("values") if v.endswith("(a1)"))
        tab.staff_box.set(choice)
        tab.search_button.invoke()
        pump(app, lambda: tab.rows and all(r["staff"] == "a1" for r in tab.rows.values()), 60)
        idle(app)
        rows = [tab.tree.item(i, "values") for i in tab.tree.get_children()]
        money = i18n.money(scene["total"], "THB")
        refund = [v for v in rows if v[4].startswith(f"Refunded order {refund_no} — {money}")]
        assert len(refund) == 1, rows
        when, staff, till, ip, what = refund[0]
        assert till == "A2" and ip == REFUND_IP and "damaged box" in what
        assert staff != "a1" and staff  # the clerk's name, not the id
        assert when and "T" not in when  # a time in words, not an ISO stamp
        assert all(v[2] != "A1" for v in rows)  # the cashier's sale is not a1's
        shown_kinds = [r["kind"] for i, r in tab.rows.items() if r["kind"] in rows_text(tab, i)]
        assert not shown_kinds, f"raw event kinds shown: {shown_kinds}"
        # the row read whole below the list
        iid = next(i for i in tab.tree.get_children() if tab.rows[i]["kind"] == "order.refunded")
        tab.tree.selection_set(iid)
        idle(app)
        detail = tab.detail.cget("text")
        assert "till A2 from 127.0.0.2" in detail and refund_no in detail, detail
        # free text narrows it to the refund; an area with nothing of a1's shows nothing
        tab.text_entry.insert(0, "damaged")
        tab.search_button.invoke()
        pump(app, lambda: list(tab.rows) == [iid], 60, "text search")
        tab.text_entry.delete(0, "end")
        tab.area_box.set(next(v for v in tab.area_box.cget("values") if v.startswith("Stock")))
        tab.search_button.invoke()
        pump(app, lambda: "No operations match" in tab.page_label.cget("text"), 60, "empty")
        assert not app.last_error, app.last_error


def test_pages_go_back_and_forth(xvfb, store, scene, tmp_path, monkeypatch):
    from kiosk.screens import manager_oplog

    monkeypatch.setattr(manager_oplog, "PAGE", 5)
    with tills(store.url, tmp_path) as make:
        app = make("M2", day=False)
        sign_in(app, "m1", "9999")
        tab = _oplog(app)
        first = list(tab.tree.get_children())
        assert len(first) == 5 and str(tab.newer_button.cget("state")) == "disabled"
        tab.older_button.invoke()
        pump(app, lambda: list(tab.tree.get_children()) not in ([], first), 60, "page 2")
        second = list(tab.tree.get_children())
        assert int(second[0]) < int(first[-1]), "page 2 is older than page 1, no overlap"
        assert "Page 2" in tab.page_label.cget("text")
        tab.newer_button.invoke()
        pump(app, lambda: list(tab.tree.get_children()) == first, 60, "back to page 1")


def test_a_cashier_cannot_open_the_operation_log(xvfb, store, scene, tmp_path):
    from kiosk.api_errors import ApiError
    from kiosk.screens.manager_oplog import fetch_page

    with tills(store.url, tmp_path) as make:
        app = make("A1", day=False)
        sign_in(app, "c1", "1111")
        assert "manager" not in app.counters()
        app.show_counter("manager")
        idle(app)
        assert type(app.screen).__name__ != "ManagerScreen"
        with pytest.raises(ApiError) as refused:  # nor straight from the store
            fetch_page(app.api, {}, 0)
        assert refused.value.code == "auth.forbidden"


SHOOT = """
import sys
from pathlib import Path

url, out, size, data = sys.argv[1:5]
from tilldriver import idle, pump, screenshot, sign_in, xvfb_display

with xvfb_display(size):
    from kiosk import i18n
    from kiosk.app import TillApp

    app = TillApp(url, "M3", lang="en", printer={"kind": "dummy"}, data_dir=Path(data))
    pump(app, lambda: app.store, what="store config")
    sign_in(app, "m1", "9999")
    for lang in ("en", "ar", "th", "zh"):
        app.session.lang = lang
        i18n.set_language(lang)
        app.show_counter("manager")
        tab = app.screen.oplog
        app.screen.tabs.select(tab)
        pump(app, lambda: tab.rows and tab.names, timeout=60, what="the log")
        idle(app)
        iid = next(i for i, r in tab.rows.items() if r["kind"] == "order.refunded")
        tab.tree.selection_set(iid)
        idle(app)
        tab.tree.see(iid)
        idle(app)
        screenshot(app, Path(out) / f"manager_oplog_{lang}_{size}.png")
    app.close()
"""


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_oplog_screenshots(store, scene, tmp_path, artifacts, size):
    """Each screen size in a process of its own (a Tk interpreter outlives its window)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests' / 'kits'}"}
    args = [store.url, str(artifacts), size, str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", SHOOT, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for lang in ("en", "ar", "th", "zh"):
        assert (artifacts / f"manager_oplog_{lang}_{size}.png").stat().st_size > 10_000
