"""The till test modules that share one store server (tests/e2e/kiosk/conftest.py) keep to till
ids of their own: two modules opening the same till on the shared store would meet in its day,
drawer and parked baskets, and a test would pass or fail by which module ran first."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

KIOSK = Path(__file__).resolve().parents[1] / "e2e" / "kiosk"
TILL_ID = re.compile(r"[A-Z]{1,3}[0-9]{1,2}")


def own_store_modules() -> set[str]:
    tree = ast.parse((KIOSK / "conftest.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "OWN_STORE" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError("OWN_STORE is not in tests/e2e/kiosk/conftest.py")


def on_the_shared_store(tree: ast.Module) -> bool:
    """Some test or fixture takes ``store`` and the module defines no ``store`` of its own."""
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    if any(f.name == "store" for f in funcs):
        return False
    return any(a.arg == "store" for f in funcs for a in f.args.args)


def test_modules_on_the_shared_store_use_till_ids_of_their_own() -> None:
    own = own_store_modules()
    assert own, "the conftest names the modules that keep a store of their own"
    users: dict[str, set[str]] = defaultdict(set)
    shared = 0
    for path in sorted(KIOSK.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        if path.name in own or not on_the_shared_store(tree):
            continue
        shared += 1
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and TILL_ID.fullmatch(value):
                users[value].add(path.name)
    assert shared >= 2, "the shared store is shared"
    clashes = {till: sorted(mods) for till, mods in users.items() if len(mods) > 1}
    assert not clashes, f"till ids used by more than one module on the shared store: {clashes}"
