"""Sales go first on the line to HQ: a backup's next piece waits while the event uploader is
behind or priority traffic (a licence check, a catalogue pull) holds the line, and gives up
(``backup.skipped``, HQ keeps its part) rather than wait for ever."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import orjson
import pytest

from actors.backup_hq import BACKLOG_EVENTS, sales_first
from backupkit import make_store
from domain.backup_format import BackupError


def acked(data: Path, seq: int) -> None:
    (data / "uploader.json").write_bytes(orjson.dumps({"store": "S001", "acked": seq}))


def test_a_piece_goes_when_the_uploader_is_caught_up_and_waits_when_it_is_behind(tmp_path):
    data = tmp_path / "data"
    j = make_store(data, events=BACKLOG_EVENTS + 20)
    j.close()
    acked(data, 0)  # HQ has none of the sales yet
    with pytest.raises(BackupError) as exc:
        sales_first(data, max_wait_s=0)()
    assert exc.value.code == "backup.skipped"
    acked(data, 30)  # a few events behind: that is a shop selling, not a backlog
    sales_first(data, max_wait_s=0)()


def test_priority_traffic_on_the_line_holds_the_backup_back(tmp_path):
    data = tmp_path / "data"
    j = make_store(data, events=5)
    j.close()
    acked(data, 5)
    fd = os.open(data / "line.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)  # as actors.line.Line.priority() holds it
    try:
        with pytest.raises(BackupError):
            sales_first(data, max_wait_s=0)()
    finally:
        os.close(fd)
    sales_first(data, max_wait_s=0)()
