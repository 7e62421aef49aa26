"""The flags inbox on the manager counter, a real till window under Xvfb against a real store: a
sale outside the store's opening hours is flagged; the manager reads the evidence in English and
Thai (money formatted), acknowledges it, freezes the order and unfreezes it (the after-sales role
may not); screenshots at 1024x768 and 1920x1080 (artifacts/kiosk/)."""

from __future__ import annotations

import os
import urllib.error
import uuid
from typing import Any

import pytest

from flagkit import flagging_store
from tilldriver import get, idle, in_till, open_day, post, pump, sign_in

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

TEA = "8850000000010"  # Lotus Green tea small, THB 30.50


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store whose opening hours leave out the present minute, scoring flags every second."""
    with flagging_store(tmp_path_factory.mktemp("kiosk-flags") / "data", products=600) as s:
        yield s


def _session(url: str, staff: str, pin: str, till: str) -> str:
    body = {"id": str(uuid.uuid4()), "staff": staff, "pin": pin, "till": till}
    return post(f"{url}/v1/sessions", body)["token"]


@pytest.fixture(scope="module")
def flagged(store):
    """One cash sale by c1 on till F1, outside opening hours, and its flag."""
    url = store.url
    open_day(url, "F1")
    tok = _session(url, "c1", "1111", "F1")
    cmd = f"{url}/v1/tills/F1/commands"
    view = post(cmd, {"id": str(uuid.uuid4()), "op": "scan", "args": {"code": TEA}}, tok)["view"]
    tender = {"kind": "cash", "amount": view["total"]}
    paid = post(cmd, {"id": str(uuid.uuid4()), "op": "pay", "args": {"tenders": [tender]}}, tok)
    order = paid["order"]["order_id"]

    def flag():
        rows = get(f"{url}/v1/flags")["flags"]
        return next((f for f in rows if f["order_id"] == order), None)

    import time

    end = time.monotonic() + 120
    while (f := flag()) is None:
        assert time.monotonic() < end, "no flag for the sale outside opening hours"
        time.sleep(0.5)
    return f


def _inbox(app, flag_id: str):
    mgr = app.screen
    mgr.tabs.select(mgr.flags_tab)
    pump(app, lambda: mgr.flag_tree.exists(flag_id), timeout=60, what="the flag in the inbox")
    mgr.flag_tree.selection_set(flag_id)
    idle(app)
    return mgr


def test_manager_reads_acknowledges_freezes_and_unfreezes(xvfb, store, flagged, tmp_path):
    in_till(store, tmp_path, "F2", lambda app: _read_act(app, store, flagged))


def _read_act(app: Any, store: Any, flagged: dict) -> None:
    from kiosk import i18n

    sign_in(app, "m1", "9999")
    mgr = _inbox(app, flagged["flag_id"])
    text = mgr.flag_text.cget("text")
    assert "A sale of THB30.50" in text and "outside opening hours" in text, text
    # the same flag read in Thai: words and money in Thai
    app.session.lang = "th"
    i18n.set_language("th")
    app.show_counter("manager")
    mgr = _inbox(app, flagged["flag_id"])
    th = mgr.flag_text.cget("text")
    assert "นอกเวลาทำการ" in th and "฿30.50" in th, th
    assert "outside" not in th
    # acknowledge: journaled, the inbox shows the new state
    mgr.flag_buttons["acknowledge"].invoke()

    def state() -> str:
        rows = get(f"{store.url}/v1/flags")["flags"]
        return next(f["state"] for f in rows if f["flag_id"] == flagged["flag_id"])

    pump(app, lambda: state() == "acknowledged", timeout=60, what="acknowledged")
    idle(app)
    assert mgr.selected_flag()["state"] == "acknowledged"  # still in the list, selected
    order = flagged["order_id"]
    mgr.flag_note.insert(0, "till F1 after hours")
    mgr.flag_buttons["freeze"].invoke()
    pump(app, lambda: get(f"{store.url}/v1/orders/{order}")["frozen"], 60, "order frozen")
    # the after-sales role may not unfreeze it
    a1 = _session(store.url, "a1", "4444", "F3")
    with pytest.raises(urllib.error.HTTPError) as refused:
        post(f"{store.url}/v1/orders/{order}/unfreeze", {"id": str(uuid.uuid4())}, a1)
    assert refused.value.code == 403
    assert get(f"{store.url}/v1/orders/{order}")["frozen"]
    idle(app)
    assert mgr.selected_flag() is not None, app.last_error
    mgr.flag_buttons["unfreeze"].invoke()
    pump(app, lambda: not get(f"{store.url}/v1/orders/{order}")["frozen"], 60, "unfrozen")
    idle(app)
    assert not app.last_error, app.last_error


SHOOT = """
import sys
from pathlib import Path

url, fid, out, size, data = sys.argv[1:6]
from flagkit import flagging_store
from tilldriver import idle, pump, screenshot, sign_in, xvfb_display

with xvfb_display(size):
    from kiosk import i18n
    from kiosk.app import TillApp

    app = TillApp(url, "F4", lang="en", printer={"kind": "dummy"}, data_dir=Path(data))
    pump(app, lambda: app.store, what="store config")
    sign_in(app, "m1", "9999")
    for lang in ("en", "ar"):
        app.session.lang = lang
        i18n.set_language(lang)
        app.show_counter("manager")
        mgr = app.screen
        mgr.tabs.select(mgr.flags_tab)
        pump(app, lambda: mgr.flag_tree.exists(fid), timeout=60, what="the flag")
        mgr.flag_tree.selection_set(fid)
        idle(app)
        assert mgr.flag_text.cget("text")
        screenshot(app, Path(out) / f"manager_flags_{lang}_{size}.png")
    app.close()
"""


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_inbox_screenshots(store, flagged, tmp_path, artifacts, size):
    """Each screen size in a process of its own: a Tk interpreter outlives its window, and one
    left on a display that has gone away ends the process that holds it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests' / 'kits'}"}
    args = [store.url, flagged["flag_id"], str(artifacts), size, str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", SHOOT, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for lang in ("en", "ar"):
        assert (artifacts / f"manager_flags_{lang}_{size}.png").stat().st_size > 10_000
