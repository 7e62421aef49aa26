"""The Health tab on the manager counter, a real till window under Xvfb against a real store whose
disk reports 50 MB free (``KASSA_FAKE_DISK_FREE_MB``): the low-disk alert is shown in words on
top, with the figure and its threshold, a banner above the tabs says so on every tab, and the
figures read in words with units; in Thai and Arabic too. Screenshots at 1024x768 and 1920x1080
in English, Thai and Arabic (artifacts/kiosk/manager_health_*.png)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from report_shots import texts
from tilldriver import idle, in_till, pump, sign_in

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]
ENV = {"KASSA_FAKE_DISK_FREE_MB": "50", "KASSA_ALERTS_EVERY_S": "2"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from actors.process import StoreProcess

    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        s = StoreProcess(tmp_path_factory.mktemp("kiosk-health") / "data", products=300).start()
    yield s
    s.stop()


def health_tab(app: Any) -> Any:
    """The manager counter with its Health tab chosen and the store's answer shown."""
    mgr = app.screen
    mgr.tabs.select(mgr.health_tab)
    pump(app, lambda: mgr.health_data.get("figures"), timeout=60, what="the store's health")
    idle(app)
    return mgr


def test_the_manager_reads_the_low_disk_alert_in_words(xvfb, store, tmp_path):
    in_till(store, tmp_path, "H1", _read_alert)


def _read_alert(app: Any) -> None:
    from kiosk import i18n

    sign_in(app, "m1", "9999")
    mgr = health_tab(app)
    shown = texts(mgr.health_alerts)
    assert shown[0] == (
        "The store's disk is nearly full: free some space or move old backups off it."
    ), shown
    assert shown[1].startswith("50 MB free (") and "under 2,048 MB or 10 %" in shown[1]
    figures = texts(mgr.health_figures)
    assert "Disk free" in figures and any(t.startswith("50 MB of ") for t in figures)
    assert "Licence" in figures and "Time to record a sale" in figures
    assert not any("disk.low" in t or "_bytes" in t for t in texts(mgr)), texts(mgr)
    # the banner above the tabs, whichever tab is open
    mgr.tabs.select(mgr.reports_tab)
    idle(app)
    assert mgr.health_banner.winfo_ismapped()
    banner = mgr.health_banner.cget("text")
    assert banner.startswith("Health alerts: 1. The store's disk is nearly full"), banner
    # in Thai: the same alert in Thai words, no English left
    app.session.lang = "th"
    i18n.set_language("th")
    app.show_counter("manager")
    mgr = health_tab(app)
    th = texts(mgr.health_alerts)
    assert th[0].startswith("ดิสก์ของร้านใกล้เต็ม") and "50 MB" in th[1], th
    assert "free" not in " ".join(th)
    assert not app.last_error, app.last_error


SHOOT = """
import sys
from pathlib import Path

url, out, size, data = sys.argv[1:5]
from tilldriver import idle, pump, screenshot, sign_in, xvfb_display

with xvfb_display(size):
    from kiosk import i18n
    from kiosk.app import TillApp

    app = TillApp(url, "H2", lang="en", printer={"kind": "dummy"}, data_dir=Path(data))
    pump(app, lambda: app.store, what="store config")
    sign_in(app, "m1", "9999")
    for lang in ("en", "th", "ar"):
        app.session.lang = lang
        i18n.set_language(lang)
        app.show_counter("manager")
        mgr = app.screen
        idle(app)
        # every tab's button whole on the screen (one row of notebook tabs cut them), >= 48 px
        screen_w = app.winfo_screenwidth()
        for b in mgr.tab_bar.buttons:
            x, w, h = b.winfo_rootx(), b.winfo_width(), b.winfo_height()
            assert b.winfo_ismapped() and x >= 0 and x + w <= screen_w, (lang, b.cget("text"))
            assert w >= b.winfo_reqwidth() and h >= 48, (lang, b.cget("text"), w, h)
        # a tap on a tab's button opens its page; a page chosen by code lights its button
        stock = next(b for b in mgr.tab_bar.buttons if b.cget("value") == str(mgr.stock))
        stock.invoke()
        assert mgr.tabs.select() == str(mgr.stock)
        mgr.tabs.select(mgr.health_tab)
        idle(app)
        assert mgr.tab_bar.choice.get() == str(mgr.health_tab)
        pump(app, lambda: mgr.health_data.get("alerts"), timeout=60, what="the alerts")
        idle(app)
        screenshot(app, Path(out) / f"manager_health_{lang}_{size}.png")
    app.close()
"""


@pytest.mark.parametrize("size", ["1024x768", "1920x1080"])
def test_health_screenshots(store, tmp_path, artifacts, size):
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
    for lang in ("en", "th", "ar"):
        assert (artifacts / f"manager_health_{lang}_{size}.png").stat().st_size > 10_000


def test_a_tills_printer_state_reaches_the_store_metrics_and_health_tab(
    xvfb, store, tmp_path, artifacts
):
    """The till reports its printer when its state changes (``kiosk.app_devices``): out of
    paper shows on the Health tab and as ``kassa_printer_up{till="H3"} 0`` in ``/metrics``; paper
    back in, 1 again."""
    from hw_loopback import LoopbackPrinter
    from kiosk.app import TillApp

    p = LoopbackPrinter().start()
    cfg = {"kind": "network", "host": "127.0.0.1", "port": p.port, "status": True}
    app = TillApp(store.url, "H3", lang="en", printer=cfg, data_dir=tmp_path)
    try:
        pump(app, lambda: app.store and app.print_queue is not None, what="the print queue")
        sign_in(app, "m1", "9999")
        p.paper_out()
        app.print_queue.open_drawer()  # a job: the queue asks the printer's status first
        pump(app, lambda: _printer_up(store, "H3") == 0, timeout=60, what="printer down at store")
        mgr = health_tab(app)
        mgr.load_health()  # the report is in: the store answered the scrape above
        pump(app, lambda: _printer_row(mgr) is not None, timeout=60, what="the printer's row")
        assert "out of paper" in _printer_row(mgr), texts(mgr.health_figures)
        # and an alert in words on top of the tab (HQ gets the same alert in the health report)
        pump(app, lambda: _printer_alert(mgr), timeout=60, what="the printer alert")
        shown = texts(mgr.health_alerts)
        assert "A till's receipt printer cannot print: check its paper, cover and cable." in shown
        _shots(app, artifacts)
        mgr = app.screen
        p.paper_ok()  # the queue probes while it backs off, and prints
        pump(app, lambda: _printer_up(store, "H3") == 1, timeout=90, what="printer up again")
        mgr.load_health()
        pump(app, lambda: "ready" in (_printer_row(mgr) or ""), timeout=60, what="ready shown")
        assert not app.last_error, app.last_error
    finally:
        app.close()
        p.stop()


def _shots(app: Any, artifacts: Any) -> None:
    """The Health tab with a printer out of paper, in English and Arabic (then English again)."""
    from kiosk import i18n
    from tilldriver import screenshot

    for lang in ("ar", "en"):
        app.session.lang = lang
        i18n.set_language(lang)
        app.show_counter("manager")
        mgr = health_tab(app)
        pump(app, lambda m=mgr: len(texts(m.health_figures)) > 16, timeout=60, what="the rows")
        screenshot(app, artifacts / f"manager_health_printer_{lang}.png")


def _printer_alert(mgr: Any) -> bool:
    """The Health tab's alerts name H3's printer out of paper (asks the store again each call
    the answer is not in yet; the store evaluates its alerts every 2 s here)."""
    import time

    shown = " ".join(texts(mgr.health_alerts))
    if "till H3: out of paper" in shown:
        return True
    if time.monotonic() - _asked[0] > 1.0:
        _asked[0] = time.monotonic()
        mgr.load_health()
    return False


_asked = [0.0]


def _printer_row(mgr: Any) -> str | None:
    shown = texts(mgr.health_figures)
    for i, t in enumerate(shown[:-1]):
        if t == "Printer at till H3":
            return shown[i + 1]
    return None


_last_scrape = [0.0]


def _printer_up(store: Any, till: str) -> float | None:
    """``kassa_printer_up{till}`` scraped with the store's token (at most every 0.5 s)."""
    import time
    from pathlib import Path

    import requests
    from prometheus_client.parser import text_string_to_metric_families

    if time.monotonic() - _last_scrape[0] < 0.5:
        return None
    _last_scrape[0] = time.monotonic()
    token = (Path(store.data) / "metrics_token").read_text().strip()
    r = requests.get(
        store.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            if s.name == "kassa_printer_up" and s.labels.get("till") == till:
                return s.value
    return None
