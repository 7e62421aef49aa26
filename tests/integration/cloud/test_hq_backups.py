"""HQ's copy of store backups (``cloud/backups.py``) with the store's client (``actors.backup_hq``),
the real cloud app on loopback: an upload cut after a few pieces resumes where HQ's part ends and
completes byte for byte; HQ keeps the newest few; a store cannot send or read another store's
backup; the events route answers only the signing store's events."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from actors.backup import take_backup
from actors.backup_hq import HqBackups
from backupkit import make_store
from cloud.backups import KEEP
from cloudkit import Cloud
from domain.backup_format import BackupError
from domain.ports import SystemClock


@pytest.fixture
def hq(tmp_path: Path):
    secrets = {s: Cloud.register(tmp_path / "hq", s) for s in ("S001", "S002")}
    loop = asyncio.new_event_loop()
    cloud = Cloud(tmp_path / "hq", SystemClock())
    loop.run_until_complete(cloud.start())
    yield cloud, loop, secrets
    loop.run_until_complete(cloud.stop())
    loop.close()


def call(loop, fn, *args, **kw):
    """Run a blocking client call in a thread while the cloud's loop serves it."""
    return loop.run_until_complete(asyncio.to_thread(fn, *args, **kw))


def backup_of(tmp_path: Path, name: str, now_us: int) -> Path:
    data = tmp_path / name
    j = make_store(data, events=20)
    j.close()
    (data / "catalogue.json").write_bytes(os.urandom(700_000))  # incompressible: ~0.7 MB
    return take_backup(data, tmp_path / f"{name}-bk", now_us=now_us)


def test_a_cut_upload_resumes_and_hq_keeps_the_newest(hq, tmp_path):
    cloud, loop, secrets = hq
    client = HqBackups(cloud.url, "S001", secrets["S001"])
    path = backup_of(tmp_path, "a", 1_767_225_600_000_000)
    pieces = []

    def cut_after_one() -> None:  # the line drops after the first piece
        pieces.append(1)
        if len(pieces) > 1:
            raise BackupError("backup.skipped", "the line is busy")

    with pytest.raises(BackupError):
        call(loop, client.upload, path, cut_after_one, piece=64 * 1024)
    part = tmp_path / "hq" / "stores" / "S001" / "backups" / ".part"
    held = part.stat().st_size
    assert held == 64 * 1024 < path.stat().st_size
    sent: list[int] = []
    call(loop, client.upload, path, progress=lambda done, total: sent.append(done), piece=65536)
    assert sent[0] > held  # resumed, not started again
    folder = tmp_path / "hq" / "stores" / "S001" / "backups"
    assert (folder / path.name).read_bytes() == path.read_bytes()
    assert (folder / path.name).stat().st_mode & 0o777 == 0o600
    # the newest few are kept
    for i in range(KEEP + 1):
        newer = backup_of(tmp_path, f"n{i}", 1_767_225_600_000_000 + (i + 1) * 86_400_000_000)
        call(loop, client.upload, newer)
    names = sorted(p.name for p in folder.glob("*.kbak"))
    assert len(names) == KEEP and path.name not in names
    # and the newest comes back whole
    got = call(loop, client.download_latest, tmp_path / "dl")
    assert got.name == names[-1] and got.read_bytes() == newer.read_bytes()


def test_a_store_reaches_only_its_own_backups(hq, tmp_path):
    cloud, loop, secrets = hq
    theirs = backup_of(tmp_path, "b", 1_767_225_600_000_000)  # a backup of S001
    other = HqBackups(cloud.url, "S002", secrets["S002"])
    with pytest.raises(BackupError) as exc:  # S002 cannot store it under S001's name
        call(loop, other.upload, theirs)
    assert exc.value.code == "backup.hq_refused"
    call(loop, HqBackups(cloud.url, "S001", secrets["S001"]).upload, theirs)
    with pytest.raises(BackupError) as exc:  # nor read S001's
        call(loop, other.download_latest, tmp_path / "dl")
    assert exc.value.code == "backup.none_at_hq"
    head, rows = call(loop, other.events, 0)
    assert head[0] == 0 and list(rows) == []
    wrong = HqBackups(cloud.url, "S001", secrets["S002"])  # S002's secret in S001's name
    with pytest.raises(BackupError) as exc:
        call(loop, wrong.download_latest, tmp_path / "dl2")
    assert exc.value.code == "backup.hq_refused" and "credentials" in exc.value.message
