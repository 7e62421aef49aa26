"""``kassa store install`` / ``uninstall`` (``kassa_cli.store_service``): the systemd unit for
root (a system unit running as ``--user``, started at boot by ``multi-user.target``) and for
anyone else (a user unit, ``default.target``, with the ``loginctl enable-linger`` hint); the
server started from this installation's interpreter with absolute paths, restarted a second
after any exit, stopped by SIGTERM; ``systemctl`` run unless ``--dry-run``, which writes nothing
outside ``--unit-dir``; uninstall stops it and removes the unit. Checked with
``systemd-analyze verify`` where that program exists."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kassa_cli import store_service
from kassa_cli.main import main


@pytest.fixture
def calls(monkeypatch):
    """``systemctl`` commands the CLI runs, recorded instead of run."""
    seen: list[list[str]] = []
    monkeypatch.setattr(store_service, "RUN", lambda argv: seen.append(list(argv)))
    return seen


def _as(monkeypatch, uid: int) -> None:
    monkeypatch.setattr(store_service.os, "geteuid", lambda: uid)


def _parse(text: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    cp.read_string(text)
    return cp


def _verify(unit: Path) -> None:
    """``systemd-analyze verify`` finds nothing to say about the unit (when installed here)."""
    exe = shutil.which("systemd-analyze")
    if exe is None:
        return
    done = subprocess.run([exe, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    about = [ln for ln in done.stderr.splitlines() if unit.name in ln or str(unit) in ln]
    assert done.returncode == 0 and not about, done.stderr


def _account() -> str:
    """A real, ordinary account to run the store as (systemd warns about ``nobody``)."""
    import pwd

    names = [p.pw_name for p in pwd.getpwall() if 0 < p.pw_uid < 65534]
    return next((n for n in ("daemon", "www-data", *names) if n in names), "root")


def test_root_gets_a_system_unit_that_runs_as_the_user_and_starts_at_boot(
    tmp_path, monkeypatch, calls
):
    _as(monkeypatch, 0)
    user = _account()
    units, data = tmp_path / "units", tmp_path / "shop data %1"
    monkeypatch.setattr(store_service, "SYSTEM_DIR", units)  # stands in for /etc/systemd/system
    rc = main(["store", "install", "--data", str(data), "--user", user, "--port", "8601"])
    assert rc == 0
    unit = units / "kassa-store.service"
    text = unit.read_text()
    cp = _parse(text)
    svc = cp["Service"]
    assert svc["User"] == user and svc["Restart"] == "always" and svc["RestartSec"] == "1"
    assert svc["KillSignal"] == "SIGTERM" and int(svc["TimeoutStopSec"]) >= 10
    assert svc["NoNewPrivileges"] == "yes" and svc["PrivateTmp"] == "yes"
    assert svc["ProtectSystem"] == "full" and svc["UMask"] == "0077"
    assert cp["Install"]["WantedBy"] == "multi-user.target"
    py = os.path.abspath(sys.executable)
    # the stable launcher (kassa_cli.launcher) is the main process: a hand-over stays in the unit
    assert svc["ExecStart"].startswith(f'"{py}" "-m" "kassa_cli.launcher" "--data"')
    assert svc["ExecReload"] == "/bin/kill -HUP $MAINPID"
    # absolute, quoted, % escaped (systemd would expand %1)
    assert f'"--data" "{tmp_path}/shop data %%1"' in svc["ExecStart"]
    assert '"--port" "8601"' in svc["ExecStart"]
    assert calls == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "kassa-store.service"],
    ]
    assert data.is_dir()  # made for the server's account
    _verify(unit)
    # uninstall: stopped, disabled, removed, systemd told
    calls.clear()
    assert main(["store", "uninstall"]) == 0
    assert not unit.exists()
    assert calls == [
        ["systemctl", "disable", "--now", "kassa-store.service"],
        ["systemctl", "daemon-reload"],
    ]


def test_root_must_name_an_account_other_than_root(tmp_path, monkeypatch, calls):
    _as(monkeypatch, 0)
    monkeypatch.delenv("SUDO_USER", raising=False)
    units = tmp_path / "units"
    args = ["store", "install", "--data", str(tmp_path / "d"), "--unit-dir", str(units)]
    assert main(args) == 2
    assert main([*args, "--user", "root"]) == 2
    monkeypatch.setenv("SUDO_USER", _account())  # `sudo kassa store install`: the caller
    assert main([*args, "--dry-run"]) == 0
    assert f"User={_account()}" in (units / "kassa-store.service").read_text()
    assert not calls


def test_anyone_else_gets_a_user_unit_and_the_linger_hint(tmp_path, monkeypatch, calls, capsys):
    _as(monkeypatch, 4321)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    data = tmp_path / "data"
    assert main(["store", "install", "--data", str(data)]) == 0
    unit = tmp_path / "config" / "systemd" / "user" / "kassa-store.service"
    cp = _parse(unit.read_text())
    assert "User" not in cp["Service"]
    assert cp["Install"]["WantedBy"] == "default.target"
    assert cp["Service"]["Restart"] == "always" and cp["Service"]["KillSignal"] == "SIGTERM"
    assert calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "kassa-store.service"],
    ]
    assert "loginctl enable-linger" in capsys.readouterr().out
    _verify(unit)
    calls.clear()
    assert main(["store", "uninstall"]) == 0
    assert not unit.exists()
    assert calls[0] == ["systemctl", "--user", "disable", "--now", "kassa-store.service"]
    # a user unit cannot run as someone else
    assert main(["store", "install", "--data", str(data), "--user", "someone-else"]) == 2


def test_dry_run_writes_only_into_unit_dir_and_runs_nothing(tmp_path, monkeypatch, calls, capsys):
    _as(monkeypatch, 4321)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    data, units = tmp_path / "data", tmp_path / "units"
    before = set(tmp_path.iterdir())
    assert main(["store", "install", "--data", str(data), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[Service]" in out and "Restart=always" in out  # printed, not written
    assert set(tmp_path.iterdir()) == before
    args = ["--unit-dir", str(units), "--dry-run", "--name", "kassa-shop2"]
    assert main(["store", "install", "--data", str(data), *args]) == 0
    assert set(tmp_path.iterdir()) == before | {units}
    assert [p.name for p in units.iterdir()] == ["kassa-shop2.service"]
    assert not data.exists() and not calls
    assert main(["store", "uninstall", *args]) == 0
    assert list(units.iterdir()) == [] and not calls
