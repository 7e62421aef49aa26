"""Code shape: domain/ stays pure; unit tests never start Ray."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN = {"ray", "sqlite3", "duckdb", "aiohttp", "tkinter", "ttkbootstrap", "escpos", "polars"}


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_the_scanner_sees_every_kind_of_import():
    src = (
        "import ray\nfrom duckdb import x\nimport os.path\n"
        "importlib.import_module('polars.io')\ndef f():\n    import sqlite3\n"
    )
    assert imported_roots(src) >= {"ray", "duckdb", "polars", "sqlite3", "os"}


def test_domain_imports_nothing_of_the_outside_world():
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 10
    bad = {f.name: sorted(imported_roots(f.read_text()) & FORBIDDEN) for f in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_ray_init_is_refused_in_unit_tests():
    import ray

    with pytest.raises(RuntimeError, match="must not start Ray"):
        ray.init(num_cpus=1)


def test_sockets_are_refused_in_unit_tests():
    import socket

    with socket.socket() as s, pytest.raises(RuntimeError, match="must not use sockets"):
        s.connect(("127.0.0.1", 9))
    a, b = socket.socketpair()  # what asyncio makes for itself stays allowed
    a.close()
    b.close()


def test_every_test_lives_in_a_tier_folder():
    tests = DOMAIN.parent / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    tiers = {p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert loose == [] and tiers == {"unit", "integration", "e2e", "kits"}
