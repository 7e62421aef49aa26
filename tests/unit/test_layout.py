"""The store server's layout: one typed client calls the actors, one composition root creates
them; the store server and the kiosks do not import each other; no module grows past ~400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("actors", "kiosk", "cloud", "admin", "hw", "analytics", "domain", "kassa_cli", "bench")
RAY_CALLERS = {"actors/client.py", "actors/bootstrap.py"}  # calls; creation with its options


def sources(*packages: str) -> dict[str, ast.Module]:
    return {
        str(f.relative_to(ROOT)): ast.parse(f.read_text(), str(f))
        for p in packages
        for f in sorted((ROOT / p).rglob("*.py"))
    }


def remote_calls(tree: ast.AST) -> list[int]:
    """Lines calling ``<anything>.remote(...)`` or ``ray.get_actor(...)``."""
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("remote", "get_actor")
    ]


def imported_modules(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            out.add(n.module)
    return out


def test_the_scanner_sees_remote_calls_and_imports():
    tree = ast.parse(
        "async def f(h):\n    await h.ledger.submit.remote(1)\n"
        "    import kiosk.app\n    from actors import gateway\n"
    )
    assert remote_calls(tree) == [2]
    assert imported_modules(tree) == {"kiosk.app", "actors"}


def test_only_the_client_and_the_composition_root_call_ray_actors():
    found = {
        path: lines
        for path, tree in sources(*PACKAGES).items()
        if (lines := remote_calls(tree)) and path not in RAY_CALLERS
    }
    assert found == {}, "call the actors through actors/client.py"


def test_the_store_server_and_the_kiosks_do_not_import_each_other():
    bad = {}
    for path, tree in sources("actors", "kiosk").items():
        other = "kiosk" if path.startswith("actors/") else "actors"
        hits = sorted(m for m in imported_modules(tree) if m.split(".")[0] == other)
        if hits:
            bad[path] = hits
    assert bad == {}


def test_no_module_passes_about_400_lines():
    """Inside the top-level packages, a module a reader can hold in mind (formatted by ruff)."""
    packages = ("actors", "domain", "cloud", "kiosk", "hw", "analytics", "admin", "kassa_cli")
    files = [f for p in packages for f in sorted((ROOT / p).rglob("*.py"))]
    assert len(files) > 150
    big = {
        str(f.relative_to(ROOT)): n for f in files if (n := len(f.read_text().splitlines())) > 420
    }
    assert big == {}
