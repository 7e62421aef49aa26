"""The till's customer-display settings (``DATA/till-settings.json``, the ``window[:GEOMETRY]``
spec) and the pole display's helpers: what a Latin-only VFD can draw, and its state reports."""

from __future__ import annotations

import threading

import pytest

from hw.display import BackgroundDisplay, FakeDisplay, latin, make_display
from kiosk import till_settings


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        (None, (False, None)),
        ("off", (False, None)),
        ("window", (True, None)),
        ("window:1920x1080+1920+0", (True, (1920, 1080, 1920, 0))),
        ("window:+1366+0", (True, (0, 0, 1366, 0))),
        ("window:800x600-10+20", (True, (800, 600, -10, 20))),
    ],
)
def test_window_spec(spec, want):
    assert till_settings.parse_window(spec) == want


@pytest.mark.parametrize("spec", ["screen", "window:big", "window:1920x1080", "window:+1+2+3"])
def test_bad_window_spec(spec):
    with pytest.raises(ValueError):
        till_settings.parse_window(spec)


def test_settings_file_keeps_what_was_given(tmp_path):
    assert till_settings.load(tmp_path) == {}
    till_settings.save(tmp_path, customer_display="window:+1920+0", customer_lang="th")
    till_settings.save(tmp_path, pole_display={"kind": "none"}, customer_lang=None, other=1)
    assert till_settings.load(tmp_path) == {
        "customer_display": "window:+1920+0",
        "customer_lang": "th",
        "pole_display": {"kind": "none"},
    }
    (tmp_path / till_settings.SETTINGS_FILE).write_text("{not json")
    assert till_settings.load(tmp_path) == {}  # a broken file: no customer display, no crash


def test_pole_draws_latin_only():
    pole = make_display({"kind": "fake"})
    assert pole.can_draw("Café total") and pole.can_draw("THB50.00")
    assert not pole.can_draw("莲花绿茶") and not pole.can_draw("฿50.00")
    assert not pole.can_draw("شكرا")
    assert latin("Crème brûlée  tart") == "Creme brulee tart"
    assert latin("莲花绿茶") == ""


class _Flaky(FakeDisplay):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def show(self, line1: str, line2: str = "") -> None:
        if self.fail:
            raise OSError("connection refused")
        super().show(line1, line2)


def test_background_display_reports_off_and_back():
    inner = _Flaky()
    seen: list[tuple[bool, str]] = []
    changed = threading.Event()

    def on_state(ok: bool, detail: str) -> None:
        seen.append((ok, detail))
        changed.set()

    disp = BackgroundDisplay(inner, on_state)
    try:
        disp.show("a", "b")
        assert changed.wait(5)
        assert seen == [(False, "connection refused")]
        changed.clear()
        inner.fail = False
        disp.show("c", "d")
        assert changed.wait(5)
        assert seen[-1] == (True, "") and inner.lines == ("c", "d")
    finally:
        disp.close()
