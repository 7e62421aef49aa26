"""Store and cloud share the journal format and the upload protocol through domain/, only there.

The store server (actors/, kiosk/) imports nothing of cloud/, the cloud nothing of actors/ or
kiosk/; the events table is written once (``domain.journal_format``) and both the store's journal
and HQ's copy are created from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from actors.journal import Journal
from cloud.ingest import EventLog
from domain.journal_format import EVENT_COLUMNS, events_table_sql
from tests.unit.test_architecture import imported_roots

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"actors": {"cloud"}, "kiosk": {"cloud"}, "cloud": {"actors", "kiosk"}}
PACKAGES = ("actors", "kiosk", "cloud", "analytics", "admin", "domain", "hw", "kassa_cli")
SHARED = ROOT / "domain" / "journal_format.py"


def sources(*packages: str) -> dict[str, str]:
    return {
        str(f.relative_to(ROOT)): f.read_text()
        for p in packages
        for f in sorted((ROOT / p).rglob("*.py"))
    }


def test_store_and_cloud_do_not_import_each_other():
    bad = {}
    for pkg, forbidden in FORBIDDEN.items():
        files = sources(pkg)
        assert files, pkg
        for name, src in files.items():
            found = imported_roots(src) & forbidden
            if found:
                bad[name] = sorted(found)
    assert bad == {}


def test_the_scan_sees_a_store_module_importing_the_cloud():
    assert imported_roots("def f():\n    from cloud.protocol import encode_batch\n") == {"cloud"}


_EVENTS_DDL = re.compile(r"CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?events\b", re.I)
_ENVELOPE_COLS = re.compile(r"seq,\s*id,\s*ts,\s*kind")


def _string_literals(src: str) -> list[str]:
    return [
        n.value
        for n in ast.walk(ast.parse(src))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_the_events_table_is_defined_once():
    """No module but ``domain.journal_format`` spells the events table or its column list."""
    bad = {}
    for name, src in sources(*PACKAGES).items():
        if ROOT / name == SHARED:
            continue
        hits = [
            s[:40]
            for s in _string_literals(src)
            if _EVENTS_DDL.search(s) or _ENVELOPE_COLS.search(s)
        ]
        if hits:
            bad[name] = hits
    assert bad == {}
    for side in ("actors/journal_store.py", "cloud/ingest.py"):
        calls = [
            n
            for n in ast.walk(ast.parse((ROOT / side).read_text()))
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "events_table_sql"
        ]
        assert calls, f"{side} does not build its events table from the shared definition"


def _columns(path: Path) -> list[tuple[str, str]]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return [(r[1], r[2]) for r in con.execute("PRAGMA table_info(events)")]
    finally:
        con.close()


def test_store_and_hq_events_tables_have_the_shared_columns(tmp_path):
    Journal(tmp_path / "journal.sqlite").close()
    EventLog(tmp_path / "hq" / "events.sqlite").close()
    sql_type = {int: "INTEGER", str: "TEXT", bytes: "BLOB"}
    shared = [(name, sql_type[t]) for name, t in EVENT_COLUMNS]
    hq = _columns(tmp_path / "hq" / "events.sqlite")
    store = _columns(tmp_path / "journal.sqlite")
    assert hq == shared
    assert [c for c in store if c[0] != "cmd"] == shared and ("cmd", "BLOB") in store
    assert "UNIQUE" in events_table_sql(unique_id=True) and "UNIQUE" not in events_table_sql()
