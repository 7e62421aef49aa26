"""``kassa store serve`` (what the systemd unit runs) writes its application log to
``DATA/logs/store.log``, 0600 in a 0700 folder, from its first start (``actors.logs``)."""

from __future__ import annotations

import stat

import pytest

from actors.process import StoreProcess

pytestmark = pytest.mark.ray


def test_a_served_store_logs_to_its_private_rotating_file(tmp_path):
    data = tmp_path / "store"
    proc = StoreProcess(data, demo=False).start(timeout=300)
    try:
        log = data / "logs" / "store.log"
        assert "selling on" in log.read_text(), log.read_text()[-2000:]
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    finally:
        proc.stop()
