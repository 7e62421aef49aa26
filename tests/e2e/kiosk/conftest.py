"""Fixtures for the till tests: a real store server, an Xvfb display, a loopback printer, and
helpers to drive a real till window."""

from __future__ import annotations

from pathlib import Path

import pytest

from tilldriver import xvfb_display

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "kiosk"


@pytest.fixture(scope="session")
def xvfb():
    # one for the session: Tk keeps its connection to every display it has used, and a display
    # that goes away under it (a module's Xvfb stopped) ends the process in the next module
    with xvfb_display() as display:
        yield display


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from actors.process import StoreProcess

    base = tmp_path_factory.mktemp("kiosk-store")
    s = StoreProcess(base / "data", products=600).start()
    yield s
    s.stop()


@pytest.fixture
def printer():
    from hw_loopback import LoopbackPrinter

    p = LoopbackPrinter().start()
    yield p
    p.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
