"""The data folder's format: a new folder is written at this code's format, an older one is
migrated forward after a backup (each step once, recorded), and a folder written by a newer kassa
is refused with ``store.format_too_new`` naming the version that wrote it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import orjson
import pytest

from actors import migrate
from actors.journal import Journal, Pending
from domain.errors import Conflict, KassaError


def _legacy_folder(tmp_path):
    """A folder as kassa wrote it before formats: a journal, settings, no format.json."""
    data = tmp_path / "data"
    data.mkdir()
    j = Journal(data / "journal.sqlite")
    raw = b'{"member":"M1","amount":100,"tender":"cash"}'
    j.append([Pending("cmd-000001", b"x", 1, "wallet.topped_up", 1, "s", "T1", "", "M1", raw)])
    j.close()
    (data / "store.json").write_text('{"store_id": "S001"}')
    return data


def test_a_new_folder_starts_at_the_current_format(tmp_path):
    data = tmp_path / "new"
    assert migrate.at_start(data) == []
    doc = orjson.loads((data / "format.json").read_bytes())
    assert doc["format"] == migrate.FORMAT and doc["written_by"] == migrate.kassa_version()
    assert (data / "format.json").stat().st_mode & 0o077 == 0


def test_an_old_folder_is_backed_up_then_migrated_once(tmp_path):
    data = _legacy_folder(tmp_path)
    assert migrate.read_format(data)[0] == 1
    backups = tmp_path / "backups"
    ran = migrate.at_start(data, backups)
    assert ran == [s.name for s in migrate.STEPS]
    doc = orjson.loads((data / "format.json").read_bytes())
    assert doc["format"] == migrate.FORMAT
    assert [s["to"] for s in doc["steps"]] == [s.to for s in migrate.STEPS]
    # the backup was taken before the first step: its journal has no format mark yet
    (taken,) = list(backups.iterdir())
    if taken.is_dir():  # the plain copy (the backup part not installed)
        con = sqlite3.connect(taken / "journal.sqlite")
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        assert con.execute("SELECT value FROM meta WHERE key='format'").fetchone() is None
        con.close()
    con = sqlite3.connect(data / "journal.sqlite")
    assert con.execute("SELECT value FROM meta WHERE key='format'").fetchone()[0] == "2"
    con.close()
    assert migrate.at_start(data, backups) == []  # done: no second run, no second backup
    assert len(list(backups.iterdir())) == 1


def test_a_failed_step_keeps_the_format_and_says_where_the_backup_is(tmp_path, monkeypatch):
    data = _legacy_folder(tmp_path)

    def boom(_data):
        raise OSError("disk full")

    monkeypatch.setattr(migrate, "STEPS", [migrate.Step(2, "breaks", boom)])
    with pytest.raises(KassaError) as err:
        migrate.at_start(data, tmp_path / "b")
    assert err.value.code == "store.migration_failed" and "disk full" in err.value.message
    assert str(tmp_path / "b") in err.value.message
    assert migrate.read_format(data)[0] == 1


def test_a_folder_from_a_newer_kassa_is_refused(tmp_path):
    data = _legacy_folder(tmp_path)
    (data / "format.json").write_text(json.dumps({"format": 99, "written_by": "9.1.0"}))
    with pytest.raises(Conflict) as err:
        migrate.at_start(data)
    assert err.value.code == "store.format_too_new"
    assert "9.1.0" in err.value.message and "format 99" in err.value.message


def test_a_journal_marked_newer_is_refused_even_without_format_json(tmp_path):
    data = _legacy_folder(tmp_path)
    con = sqlite3.connect(data / "journal.sqlite")
    con.execute("INSERT INTO meta(key, value) VALUES ('format', '7')")
    con.commit()
    con.close()
    with pytest.raises(Conflict) as err:
        migrate.check(data)
    assert err.value.code == "store.format_too_new"


def test_kassa_store_serve_refuses_a_newer_folder_with_the_message(tmp_path):
    data = _legacy_folder(tmp_path)
    (data / "format.json").write_text(json.dumps({"format": 99, "written_by": "9.1.0"}))
    r = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "store", "serve", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert "store.format_too_new" in r.stderr and "9.1.0" in r.stderr
