"""A restart's imports: ``kassa store serve`` goes straight to the server's own entry
(``kassa_cli.serve``) without building the whole ``kassa`` parser (every program's commands:
Polars for the admin ones, the licence client, the cloud...), and the selling path's modules
(server, ledger, tills, gateway) import no Ray, DuckDB, Polars, NumPy or Tk: those come with the
actors, after the tills sell (docs/readme/21-store-fast-start.md)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("ray", "duckdb", "polars", "numpy", "pandas", "tkinter", "ttkbootstrap", "PIL")
OTHER_PROGRAMS = ("admin", "cloud", "kiosk", "hw")


def _modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after ``code``."""
    tops = "sorted({m.split('.')[0] for m in sys.modules})"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({tops}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_store_serve_builds_no_other_commands():
    for argv in (["store", "serve", "--help"], ["-v", "store", "serve", "--help"]):
        code = (
            "from kassa_cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
        )
        loaded = _modules_after(code)
        assert not loaded & set(HEAVY + OTHER_PROGRAMS), argv  # was: polars, admin, cloud, ...


def test_the_selling_paths_modules_leave_ray_duckdb_and_polars_to_the_actors():
    code = (
        "import kassa_cli.serve, actors.server, actors.logs\n"
        "from actors.bootstrap import create_actors\n"
        "from actors.gateway import make_gateway\n"
        "from actors.migrate import at_start\n"
        "from actors.handover import refuse_if_running\n"
    )
    assert not _modules_after(code) & set(HEAVY)


def test_the_full_parser_still_knows_store_serve():
    out = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "store", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "serve" in out.stdout
