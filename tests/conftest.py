"""Test tiers by folder: ``tests/unit`` (no Ray, no sockets; guarded in tests/unit/conftest.py),
``tests/integration`` (real servers on loopback), ``tests/e2e`` (the whole shop: till windows under
Xvfb, SIGKILLs, a slow line). Each test gets its tier's marker, so ``-m unit`` or ``-m "not e2e"``
select a tier; ``-m "not slow"`` is the fast loop for development. Helpers shared by tests live in
tests/kits (on the import path through pyproject's ``pythonpath``)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e")


def pytest_addoption(parser):
    parser.addoption(
        "--kills",
        type=int,
        default=25,
        help="how many times the crash test SIGKILLs the store server (default 25; CI time)",
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        rel = Path(str(item.path)).resolve().relative_to(TESTS)
        tier = rel.parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{rel}: every test lives in one tier folder {TIERS}")
        item.add_marker(getattr(pytest.mark, tier))
