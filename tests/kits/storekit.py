"""Helpers shared by the security tests that start store servers and run the ``kassa`` CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def kassa(*args: str) -> subprocess.CompletedProcess:
    """Run ``kassa ARGS`` as its own process (this interpreter, the project's venv)."""
    return subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", *args], capture_output=True, text=True, timeout=300
    )


def wait_for(fn: Callable[[], Any], timeout: float = 180.0, what: str = "") -> Any:
    """Poll ``fn`` until it returns something true; return it, or fail after ``timeout``."""
    end = time.time() + timeout
    while time.time() < end:
        out = fn()
        if out:
            return out
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
