"""The ``.kbak`` format and restore's checks, on a data folder made here (no server): what a
backup holds and leaves out, that it restores byte for byte, and that every kind of damage —
a changed member, a member added, a journal edited behind SQLite's back, a journal that differs
from what HQ acknowledged — is refused with nothing left behind."""

from __future__ import annotations

import io
import sqlite3
import stat
import tarfile
import threading
import uuid
from pathlib import Path

import orjson
import pytest

from actors.backup import BackupError, read_manifest, restore, take_backup
from actors.backup_archive import check_archive, compress_file, extract, write_archive
from actors.journal import Pending
from actors.members_sync import MemberCopy
from actors.store_file import load_config
from backupkit import make_store


@pytest.fixture
def store(tmp_path: Path):
    j = make_store(tmp_path / "data")
    yield tmp_path / "data", j
    j.close()


def names(archive: Path) -> list[str]:
    with tarfile.open(archive) as t:
        return t.getnames()


def test_a_backup_is_one_private_tar_with_its_manifest_first(store, tmp_path):
    data, j = store
    path = take_backup(data, tmp_path / "bk")
    assert path.parent == tmp_path / "bk" and path.suffix == ".kbak"
    assert path.name.startswith("kassa-S001-") and path.name.endswith(f"-{j.seq}.kbak")
    assert path.stat().st_mode & 0o777 == 0o600
    got = names(path)
    assert got[0] == "manifest.json"
    assert set(got[1:]) == {
        "journal.sqlite.zst",
        "store.json",
        "pin_key",
        "cloud_secret",
        "licence/licence.json",
        "catalogue.json",
        "tills.json",
    }  # no analytics copy, snapshots, server or check state
    m = read_manifest(path)
    assert (m.store, m.seq, m.hash) == ("S001", j.seq, j.hash.hex())
    assert m.created.endswith("+00:00") and m.code_version and m.data_format == 1
    assert set(m.members) == set(got[1:])
    assert all(len(v["sha256"]) == 64 and v["size"] > 0 for v in m.members.values())
    assert check_archive(path) == m
    assert not [p for p in (tmp_path / "bk").iterdir() if p != path]  # no partial left


def test_two_backups_of_one_seq_in_the_same_second_are_two_files(store, tmp_path):
    """A scheduled and a manual backup in one second: neither replaces the other."""
    data, j = store
    now = 1_790_000_000_000_000
    first = take_backup(data, tmp_path / "bk", now_us=now)
    second = take_backup(data, tmp_path / "bk", now_us=now + 300_000)
    assert first != second and first.exists() and second.exists()
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [first.name, second.name]
    assert read_manifest(second).created_us == now + 300_000  # its manifest keeps the true time
    assert read_manifest(first).seq == read_manifest(second).seq == j.seq


def test_a_restore_gives_back_the_same_journal_and_files(store, tmp_path):
    data, j = store
    path = take_backup(data, tmp_path / "bk")
    out = restore(path, tmp_path / "new")
    new = tmp_path / "new"
    assert out["seq"] == j.seq and out["store"] == "S001"
    for name in ("pin_key", "cloud_secret", "catalogue.json", "licence/licence.json"):
        assert (new / name).read_bytes() == (data / name).read_bytes()
        assert (new / name).stat().st_mode & 0o777 == 0o600
    a = sqlite3.connect(data / "journal.sqlite").execute("SELECT * FROM events").fetchall()
    b = sqlite3.connect(new / "journal.sqlite").execute("SELECT * FROM events").fetchall()
    assert a == b
    assert not (new / "analytics.duckdb").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backup_is_the_journal_as_of_one_commit_while_more_are_written(store, tmp_path):
    data, j = store
    before = j.seq
    path = take_backup(data, tmp_path / "bk")
    j.append([Pending(str(uuid.uuid4()), b"c", 1, "x.y", 1, "s", "T1", "", "", b"{}")])
    assert read_manifest(path).seq == before
    assert restore(path, tmp_path / "new")["seq"] == before


def test_the_other_sqlite_files_are_copied_whole_while_written_and_restored(store, tmp_path):
    """HQ's catalogue (``hq_catalogue/hq.sqlite``, rollback journal, rewritten meanwhile) and the
    members HQ knows (``members.sqlite``, WAL, its rows still in the WAL, its connection open as
    in the server): each is in the backup as one self-contained file of one moment, copied by
    SQLite's backup API, never with its -wal/-shm/-journal; a restore gives their rows back."""
    data, _ = store
    members = MemberCopy(data / "members.sqlite")
    ann = {"member": "S001-1", "name": "Ann", "phone": "0812345678", "card": "C1", "home": "S001"}
    members.apply([{**ann, "version": 7}])
    hq = data / "hq_catalogue" / "hq.sqlite"
    hq.parent.mkdir()
    con = sqlite3.connect(hq, isolation_level=None)
    con.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, row BLOB NOT NULL)")
    con.executemany("INSERT INTO products VALUES (?, ?)", ((f"P{i}", b"0") for i in range(3000)))
    stop, rounds = threading.Event(), [0]

    def reprice() -> None:  # HQ's reprices, one transaction each, as fast as they go
        w = sqlite3.connect(hq, timeout=30, isolation_level=None)
        w.execute("PRAGMA synchronous=OFF")  # fast rounds: more of them meet the copies
        while not stop.is_set():
            rounds[0] += 1
            w.execute("BEGIN IMMEDIATE")
            w.execute("UPDATE products SET row = ?", (str(rounds[0]).encode() * 40,))
            w.execute("COMMIT")
        w.close()

    writer = threading.Thread(target=reprice)
    writer.start()
    try:
        paths = []
        for _ in range(2):
            start = rounds[0]
            while rounds[0] < start + 2:  # a few reprices before and while each backup runs
                stop.wait(0.005)
            paths.append(take_backup(data, tmp_path / "bk"))
    finally:
        stop.set()
        writer.join()
    for n, path in enumerate(paths):
        got = names(path)
        assert {"members.sqlite", "hq_catalogue/hq.sqlite"} <= set(got)
        assert not [g for g in got if g.endswith(("-wal", "-shm", "-journal"))]
        new = tmp_path / f"new{n}"
        restore(path, new)
        copy = sqlite3.connect(f"file:{new / 'hq_catalogue' / 'hq.sqlite'}?mode=ro", uri=True)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*), count(DISTINCT row) FROM products").fetchone() == (
            3000,
            1,
        )  # one reprice whole, never half of one
        copy.close()
        assert stat.S_IMODE((new / "members.sqlite").stat().st_mode) == 0o600
        assert MemberCopy(new / "members.sqlite").find("C1")["name"] == "Ann"


def test_a_non_empty_folder_is_refused_without_force_and_kept_with_it(store, tmp_path):
    data, _ = store
    path = take_backup(data, tmp_path / "bk")
    target = tmp_path / "old"
    target.mkdir()
    (target / "something").write_text("mine")
    with pytest.raises(BackupError) as exc:
        restore(path, target)
    assert exc.value.code == "backup.folder_not_empty" and "--force" in exc.value.message
    assert (target / "something").read_text() == "mine"
    out = restore(path, target, force=True)
    assert (target / "journal.sqlite").exists()
    kept = Path(out["kept_old_folder"])
    assert (kept / "something").read_text() == "mine"


def rewrite(archive: Path, change) -> Path:
    """A copy of ``archive`` with its members passed through ``change(name, bytes)`` (None drops
    one) and extra members added by ``change(None, None)`` returning {name: bytes}."""
    out = archive.with_name("tampered.kbak")
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for info in src:
            data = src.extractfile(info).read()
            new = change(info.name, data)
            if new is None:
                continue
            info.size = len(new)
            dst.addfile(info, io.BytesIO(new))
        for name, data in (change(None, None) or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    "how",
    ["member_changed", "member_added", "member_missing", "path_escape", "journal_bytes"],
)
def test_a_tampered_archive_is_refused_and_nothing_is_restored(store, tmp_path, how):
    data, _ = store
    path = take_backup(data, tmp_path / "bk")

    def change(name, raw):
        if name is None:
            if how == "member_added":
                return {"evil.sh": b"rm -rf /"}
            if how == "path_escape":
                return {"../escape": b"x"}
            return None
        if how == "member_changed" and name == "pin_key":
            return b"\x00" * 32
        if how == "member_missing" and name == "cloud_secret":
            return None
        if how == "journal_bytes" and name == "journal.sqlite.zst":
            return raw[:-8] + bytes(8)
        return raw

    bad = rewrite(path, change)
    with pytest.raises(BackupError) as exc:
        restore(bad, tmp_path / "new")
    assert exc.value.code == "backup.tampered", exc.value.message
    assert not (tmp_path / "new").exists()
    assert not (tmp_path / "escape").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_edited_journal_with_a_matching_manifest_is_refused_by_the_chain(store, tmp_path):
    """Someone edits an event and writes a manifest to match: the hash chain still catches it."""
    data, j = store
    j.close()
    con = sqlite3.connect(data / "journal.sqlite")
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET body = ? WHERE seq = 10", (b'{"n":999}',))
    con.commit()
    con.close()
    with pytest.raises(BackupError) as exc:  # the backup itself checks the journal's tail
        take_backup(data, tmp_path / "bk")
    assert exc.value.code == "backup.journal_broken"
    assert "seq 10" in exc.value.message
    assert not list((tmp_path / "bk").glob("*.kbak"))


def test_a_rewritten_archive_with_a_matching_manifest_is_refused_by_the_chain(store, tmp_path):
    """An edited event in the archive, with every checksum of the manifest made to match: the
    restore walks the whole chain and refuses it."""
    data, j = store
    path = take_backup(data, tmp_path / "bk")
    unpacked = tmp_path / "unpacked"
    extract(path, unpacked)
    con = sqlite3.connect(unpacked / "journal.sqlite")
    con.execute("DROP TRIGGER events_no_update")
    con.execute("UPDATE events SET body = ? WHERE seq = 3", (b'{"n":-1}',))
    con.commit()
    con.close()
    compress_file(unpacked / "journal.sqlite", unpacked / "journal.sqlite.zst")
    m = read_manifest(path)
    fields = {k: v for k, v in m.to_dict().items() if k not in ("members", "format")}
    files = {n: unpacked / n for n in m.members}
    forged = tmp_path / "forged.kbak"
    write_archive(forged, fields, files)
    assert check_archive(forged).seq == j.seq  # every checksum matches
    with pytest.raises(BackupError) as exc:
        restore(forged, tmp_path / "new")
    assert exc.value.code == "backup.journal_broken" and "seq 3" in exc.value.message
    assert not (tmp_path / "new").exists()


def test_a_journal_that_differs_from_hqs_anchor_is_refused(store, tmp_path):
    data, j = store
    path = take_backup(data, tmp_path / "bk")
    wrong = (12, b"\x01" * 32)
    with pytest.raises(BackupError) as exc:
        restore(path, tmp_path / "new", hq_head=wrong)
    assert exc.value.code == "backup.anchor_mismatch"
    assert not (tmp_path / "new").exists()
    right = (
        12,
        bytes(
            sqlite3.connect(data / "journal.sqlite")
            .execute("SELECT hash FROM events WHERE seq = 12")
            .fetchone()[0]
        ),
    )
    assert restore(path, tmp_path / "new", hq_head=right)["seq"] == j.seq


def hq_rows(data: Path, after: int) -> list[tuple]:
    con = sqlite3.connect(data / "journal.sqlite")
    rows = con.execute(
        "SELECT seq, id, ts, kind, v, staff, till, ip, agg, body, hash FROM events WHERE seq > ?",
        (after,),
    ).fetchall()
    return [(*r[:9], bytes(r[9]), bytes(r[10])) for r in rows]


def test_events_hq_holds_past_the_backup_are_appended_and_checked(store, tmp_path):
    data, j = store
    path = take_backup(data, tmp_path / "bk")
    seq0 = j.seq
    for i in range(5):
        j.append([Pending(str(uuid.uuid4()), b"c", i, "x.y", 1, "s", "T2", "", "", b"{}")])
    tail = hq_rows(data, seq0)
    out = restore(path, tmp_path / "new", hq_head=(j.seq, j.hash), tail=tail)
    assert out["seq"] == j.seq and out["appended_from_hq"] == 5 and out["backup_seq"] == seq0
    up = orjson.loads((tmp_path / "new" / "uploader.json").read_bytes())
    assert up["anchor"] == {"seq": j.seq, "hash": j.hash.hex()}
    # a forged event from "HQ" breaks the chain: refused, nothing restored
    forged = list(tail)
    r = forged[2]
    forged[2] = (*r[:9], b'{"forged":1}', r[10])
    with pytest.raises(BackupError) as exc:
        restore(path, tmp_path / "new2", hq_head=(j.seq, j.hash), tail=forged)
    assert exc.value.code in ("backup.journal_broken", "backup.anchor_mismatch")
    assert not (tmp_path / "new2").exists()


def test_a_folder_with_no_journal_is_no_backup(tmp_path):
    load_config(tmp_path / "data")
    with pytest.raises(BackupError) as exc:
        take_backup(tmp_path / "data", tmp_path / "bk")
    assert exc.value.code == "backup.no_data"
    with pytest.raises(BackupError) as exc:
        restore(tmp_path / "nothing.kbak", tmp_path / "new")
    assert exc.value.code == "backup.not_found"
