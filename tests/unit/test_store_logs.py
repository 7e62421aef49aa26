"""The store server's application log (``actors.logs``): ``<data>/logs/store.log`` rotates by
size and keeps N old files, every file 0600 in a 0700 folder (even under a permissive umask);
Ray's own log rotation is made small, and old Ray session folders are removed."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from actors.logs import PrivateRotatingHandler, prune_ray_sessions, setup_logging


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_log_rotates_by_size_keeps_n_files_all_owner_only(tmp_path, root_logger, monkeypatch):
    monkeypatch.delenv("RAY_ROTATION_MAX_BYTES", raising=False)
    monkeypatch.delenv("RAY_ROTATION_BACKUP_COUNT", raising=False)
    old = os.umask(0o022)  # a permissive umask: the files must still be owner-only
    try:
        path = setup_logging(tmp_path / "data", max_bytes=2000, backups=3)
        assert setup_logging(tmp_path / "data", max_bytes=2000, backups=3) == path
        mine = [h for h in root_logger.handlers if isinstance(h, PrivateRotatingHandler)]
        assert len(mine) == 1, "a second call adds no second handler"
        log = logging.getLogger("kassa.test")
        for i in range(200):
            log.info("sale %05d on till T1 by c1 %s", i, "x" * 40)
    finally:
        os.umask(old)
    folder = tmp_path / "data" / "logs"
    assert path == folder / "store.log"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["store.log", "store.log.1", "store.log.2", "store.log.3"], names
    assert _mode(folder) == 0o700
    for p in folder.iterdir():
        assert _mode(p) == 0o600, (p.name, oct(_mode(p)))
        assert p.stat().st_size <= 2000 + 200
    assert "sale 00199" in path.read_text()  # the newest line is in the live file
    assert "sale 00000" not in "".join(p.read_text() for p in folder.iterdir())  # pruned
    assert os.environ["RAY_ROTATION_MAX_BYTES"] == str(20 * 1024 * 1024)
    assert os.environ["RAY_ROTATION_BACKUP_COUNT"] == "3"


def test_an_existing_readable_log_is_made_owner_only(tmp_path, root_logger):
    folder = tmp_path / "data" / "logs"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)
    (folder / "store.log").write_text("old line\n")
    os.chmod(folder / "store.log", 0o644)
    setup_logging(tmp_path / "data")
    logging.getLogger("kassa.test").warning("started")
    assert _mode(folder) == 0o700 and _mode(folder / "store.log") == 0o600
    text = (folder / "store.log").read_text()
    assert text.startswith("old line\n") and "started" in text


def test_old_ray_sessions_are_pruned_but_never_the_latest(tmp_path):
    ray = tmp_path / "ray"
    names = [f"session_2026-11-{d:02d}_10-00-00_000000_{d}" for d in range(1, 7)]
    for n in names:
        (ray / n / "logs").mkdir(parents=True)
    (ray / "session_latest").symlink_to(ray / names[0])  # odd, but it must survive
    gone = prune_ray_sessions(ray, keep=2)
    left = sorted(p.name for p in ray.iterdir() if p.name != "session_latest")
    assert left == [names[0], names[4], names[5]]
    assert sorted(p.name for p in gone) == names[1:4]
