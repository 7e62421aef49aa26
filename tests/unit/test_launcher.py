"""The service's stable launcher (``kassa_cli.launcher``) with stand-in kassa programs (no
sockets, no Ray): ``kassa store upgrade`` under it hands over to the new version, which then runs
as the launcher's child (so systemd supervises it) and is what a restart runs; a new version
that fails changes nothing; a stop ends everything with status 0; a killed server is started
again at once (by its warm spare) and what it left is killed; a server that cannot start ends
the launcher, so systemd restarts the unit. The real hand-over between two servers is
``tests/integration/store/test_upgrade.py``'s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kassa_cli.launcher import CURRENT, STATE, launcher_pid

# a stand-in "kassa": store serve [--take-over] writes its pid, says it sells; a taking-over one
# stops the server it replaces (as the real hand-over does: the old one exits 0); SIGTERM: exit 0
FAKE = """#!{python}
import os, signal, sys, time
data = sys.argv[sys.argv.index("--data") + 1]
if "{fail}" == "yes":
    sys.exit(3)
if "--spare" in sys.argv:  # the launcher's warm spare: waits for its line, then serves
    open(os.path.join(data, "spare-" + str(os.getpid())), "w").close()
    if not sys.stdin.readline():
        sys.exit(0)
if "--take-over" in sys.argv:
    old = int(open(os.path.join(data, "server.pid")).read())
    os.kill(old, signal.SIGTERM)
open(os.path.join(data, "server.pid"), "w").write(str(os.getpid()))
open(os.path.join(data, "ran-" + "{name}"), "a").write(str(os.getpid()) + "\\n")
ray = __import__("subprocess").Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(os.path.join(data, "ray.pid"), "w").write(str(ray.pid))  # a daemon in the server's session
open(os.path.join(data, "ran-ray"), "a").write(str(ray.pid) + "\\n")
print("ready on 127.0.0.1 ({name})", flush=True)
signal.signal(signal.SIGTERM, lambda *a: (ray.kill(), sys.exit(0)))  # a clean stop ends Ray
while True:
    time.sleep(0.05)
"""


def fake(tmp: Path, name: str, fail: bool = False) -> Path:
    p = tmp / name
    p.write_text(FAKE.format(python=sys.executable, name=name, fail="yes" if fail else "no"))
    p.chmod(0o755)
    return p


def until(cond: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def state(data: Path) -> dict:
    try:
        return json.loads((data / STATE).read_text())
    except (OSError, ValueError):
        return {}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def spares(data: Path) -> list[int]:
    return [int(p.name.split("-")[1]) for p in data.glob("spare-*")]


def upgrade(data: Path, exe: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "kassa_cli.main", "store", "upgrade", "--data", str(data)]
    return subprocess.run(
        [*cmd, "--exec", str(exe), "--timeout", "60"], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def launched(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("server.json", "admin.sock"):  # what kassa store upgrade looks for
        (data / name).write_text("{}")
    (data / CURRENT).write_text(json.dumps({"exec": str(fake(tmp_path, "v1"))}))
    argv = [sys.executable, "-m", "kassa_cli.launcher", "--data", str(data), "--port", "8699"]
    env = dict(os.environ, KASSA_SPARE_AFTER_S="0.3")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    try:
        until(lambda: state(data).get("server") and (data / "ran-v1").exists(), "v1 serving")
        yield proc, data, tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in data.glob("ran-*"):
            for pid in map(int, f.read_text().split()):
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        for pid in spares(data):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_an_upgrade_under_the_launcher_ends_with_the_new_version_supervised(launched):
    proc, data, tmp = launched
    assert launcher_pid(data) == proc.pid
    v1 = state(data)["server"]
    done = upgrade(data, fake(tmp, "v2"))
    assert done.returncode == 0, done.stderr
    assert "upgraded: ready on 127.0.0.1 (v2)" in done.stdout
    assert f"launcher pid {proc.pid}" in done.stdout
    v2 = int((data / "ran-v2").read_text())
    until(lambda: state(data).get("server") == v2, "the launcher following v2")
    assert proc.poll() is None and not alive(v1)  # the launcher stayed; the old server ended
    assert Path(f"/proc/{v2}/stat").read_text().split()[3] == str(proc.pid)  # v2 is its child
    assert json.loads((data / CURRENT).read_text())["exec"] == str(tmp / "v2")  # for restarts
    proc.send_signal(signal.SIGTERM)  # systemctl stop
    assert proc.wait(60) == 0 and not alive(v2)


def test_a_new_version_that_fails_changes_nothing(launched):
    proc, data, tmp = launched
    v1 = state(data)["server"]
    done = upgrade(data, fake(tmp, "broken", fail=True))
    assert done.returncode == 2 and "store.handover_failed" in done.stderr, done.stderr
    assert proc.poll() is None and alive(v1) and state(data)["server"] == v1
    assert json.loads((data / CURRENT).read_text())["exec"] == str(tmp / "v1")


def test_a_killed_server_is_started_again_at_once_and_its_leftovers_killed(launched):
    proc, data, _ = launched
    v1 = state(data)["server"]
    ray = int(until(lambda: (data / "ray.pid").exists() and (data / "ray.pid").read_text(), "ray"))
    os.kill(v1, signal.SIGKILL)  # kill -9 of the server alone: Ray's daemon is left behind
    until(lambda: state(data).get("server") not in (None, v1), "a new server")
    again = state(data)["server"]
    until(lambda: len((data / "ran-v1").read_text().split()) == 2, "the new server selling")
    assert proc.poll() is None  # the launcher restarted it itself: no wait for systemd
    until(lambda: not alive(ray), "the dead server's Ray daemon killed")
    assert alive(again)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0 and not alive(again)


def test_a_dead_server_is_replaced_by_its_warm_spare(launched):
    proc, data, _ = launched
    v1 = state(data)["server"]
    spare = until(lambda: spares(data), "a spare made")[0]  # imported, waiting, serving nothing
    assert alive(spare) and str(spare) not in (data / "ran-v1").read_text().split()
    os.kill(v1, signal.SIGKILL)
    until(lambda: state(data).get("server") == spare, "the spare told to serve")
    until(lambda: str(spare) in (data / "ran-v1").read_text().split(), "the spare serving")
    until(lambda: len(spares(data)) == 2, "the next spare, for the next crash")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert not [pid for pid in spares(data) if alive(pid)]  # a stop ends the spare too


def test_a_server_that_cannot_start_ends_the_launcher_for_systemd(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / CURRENT).write_text(json.dumps({"exec": str(fake(tmp_path, "bad", fail=True))}))
    argv = [sys.executable, "-m", "kassa_cli.launcher", "--data", str(data), "--port", "8699"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    assert proc.wait(60) == 3  # a crash loop: systemd's Restart=always takes it from here
