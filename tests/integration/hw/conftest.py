"""Fixtures for the hardware tests: a loopback TCP printer and the artifacts folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from hw_loopback import ARTIFACTS, LoopbackPrinter


@pytest.fixture
def loopback_printer():
    p = LoopbackPrinter().start()
    yield p
    p.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
