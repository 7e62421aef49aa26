"""The stable launcher the systemd unit runs (``kassa store install``): it starts
``kassa store serve`` as its child and stays the unit's main process, so a hand-over to a new
version (``kassa store upgrade``) ends with the new server supervised by systemd like the old.

    python -m kassa_cli.launcher --data DIR --host H --port P

* Which kassa it runs: ``<data>/launcher.json`` (``{"exec": "/opt/kassa-0.3/bin/kassa"}``; none:
  the ``kassa_cli.main`` of the launcher's own interpreter). A restart or a reboot runs that.
* ``kassa store upgrade --exec NEW`` (or ``systemctl reload``, after writing the request by
  hand) writes ``<data>/launcher.next.json`` ``{"exec": NEW, "request": ID}`` and sends SIGHUP.
  The launcher starts ``NEW store serve --take-over`` (its output in ``<data>/upgrade.log``); the
  old server hands over and exits 0; then the new one is the server, and the request becomes
  ``launcher.json``. A new server that fails before the old one let go changes nothing: the old
  one keeps selling, ``launcher.json`` is kept, and the failure is written to the state file.
* SIGTERM or SIGINT (``systemctl stop``): passed on to the server(s), which stop cleanly; the
  launcher then exits 0.
* A server that dies (a crash, a kill -9, an out-of-memory kill) is started again at once, after
  what is left of it (Ray's daemons and workers, in its session) is killed: the tills wait for
  one server start, not for systemd's ``RestartSec`` and a new launcher too. More than
  ``RESTART_BURST`` deaths within ``RESTART_WINDOW_S`` (a server that cannot start) end the
  launcher with the server's status, and systemd restarts the whole unit a second later; so
  does a server that exits 0 by itself.
* A warm spare: ``SPARE_AFTER_S`` (3 s; ``KASSA_SPARE_AFTER_S``, 0 = none) after a server
  starts, the launcher starts ``kassa store serve --spare``: a process that imports the server's
  modules and then waits on its standard input, touching nothing. When the server dies, the spare
  is told to serve (a line on its input) instead of a cold start: the tills wait for the ledger's
  load and the gateway, not for ~1 s of imports. A kassa whose ``store serve`` knows no
  ``--spare`` (an older version after an upgrade) exits 2 at once: it gets no spares. The spare
  of a version that is no longer the current one is ended.
* ``<data>/.launcher.json`` (hidden: never in a backup) says ``{"pid", "server", "exec",
  "failed": {"request", "status"}}`` for ``kassa store upgrade``.

Standard library only: it must keep working whichever kassa it launches.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "STATE", "CURRENT", "NEXT", "launcher_pid", "request_switch"]

STATE, CURRENT, NEXT = ".launcher.json", "launcher.json", "launcher.next.json"
STOP_WAIT_S = 25.0  # within the unit's TimeoutStopSec (30 s)
RESTART_BURST = 5  # more server deaths than this within RESTART_WINDOW_S: left to systemd
RESTART_WINDOW_S = 60.0
SPARE_AFTER_S = float(os.environ.get("KASSA_SPARE_AFTER_S", "3"))  # after a start; 0: no spares


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
    os.replace(tmp, path)


def launcher_pid(data: Path) -> int | None:
    """The pid of a launcher running for ``data`` (None: the server runs without one)."""
    pid = _read(Path(data) / STATE).get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"kassa_cli.launcher" not in cmdline.read_bytes():
        return None  # a reused pid
    return pid


def request_switch(data: Path, exe: str | None, request: str) -> int:
    """Ask the running launcher to hand over to ``exe``; answers its pid."""
    pid = launcher_pid(data)
    if pid is None:
        raise RuntimeError("no launcher runs for this data folder")
    _write(Path(data) / NEXT, {"exec": exe, "request": request})
    os.kill(pid, signal.SIGHUP)
    return pid


class Launcher:
    def __init__(self, data: Path, host: str, port: int, python: str) -> None:
        self.data, self.host, self.port, self.python = data, host, port, python
        self.server: subprocess.Popen[bytes] | None = None
        self.new: subprocess.Popen[bytes] | None = None
        self.next: dict[str, Any] = {}
        self.stop = self.switch = False
        self.failed: dict[str, Any] | None = None
        self.deaths: list[float] = []  # when a server died, for the crash-loop limit
        self.spare: subprocess.Popen[bytes] | None = None  # imported, waiting (``--spare``)
        self.spare_exe: str | None = None
        self.spare_at = self.spare_check = time.monotonic() + SPARE_AFTER_S
        self.no_spares: set[str | None] = set()  # kassas whose serve knows no --spare

    def argv(self, exe: str | None, take_over: bool) -> list[str]:
        cmd = [exe] if exe else [self.python, "-m", "kassa_cli.main"]
        cmd += ["store", "serve", "--data", str(self.data), "--host", self.host]
        return cmd + ["--port", str(self.port)] + (["--take-over"] if take_over else [])

    def save(self) -> None:
        exe = _read(self.data / CURRENT).get("exec")
        _write(
            self.data / STATE,
            {"pid": os.getpid(), "server": self.server.pid if self.server else None,
             "exec": exe, "failed": self.failed},
        )  # fmt: skip

    def spawn(self, cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        """A server process in a session of its own, which Ray's processes share: what is left
        of it after a crash is found by that session and killed (``reap``)."""
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kw)

    def keep_spare(self) -> None:
        """A spare of the current version when due (and none of another version)."""
        now, sp = time.monotonic(), self.spare
        if now < self.spare_check:
            return
        self.spare_check = now + 0.5  # not every loop: launcher.json is read
        if sp is None and (SPARE_AFTER_S <= 0 or now < self.spare_at or self.new is not None):
            return
        exe = _read(self.data / CURRENT).get("exec")
        if sp is not None:
            code = sp.poll()
            if code is None and self.spare_exe == exe:
                return
            if code is None:
                sp.kill()  # another version's: no longer what a restart runs
                sp.wait()
            elif code == 2:
                self.no_spares.add(self.spare_exe)  # its serve knows no --spare
            self.spare, self.spare_at = None, now + SPARE_AFTER_S
            return
        if exe in self.no_spares:
            return
        self.spare = subprocess.Popen(
            self.argv(exe, False) + ["--spare"], stdin=subprocess.PIPE, start_new_session=True
        )
        self.spare_exe = exe

    def take_spare(self, exe: str | None) -> subprocess.Popen[bytes] | None:
        """The spare, told to serve now (None: there is none of ``exe``, alive)."""
        sp, self.spare = self.spare, None
        if sp is None or sp.poll() is not None or self.spare_exe != exe or sp.stdin is None:
            if sp is not None and sp.poll() is None:
                sp.kill()
                sp.wait()
            return None
        try:
            sp.stdin.write(b"serve\n")
            sp.stdin.close()
        except OSError:
            return None
        return sp

    def start_new(self) -> None:
        self.switch = False
        self.next = _read(self.data / NEXT)
        if self.new is not None or not self.next:
            return
        log = os.open(self.data / "upgrade.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.new = self.spawn(
                self.argv(self.next.get("exec"), True), stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )  # fmt: skip
        except OSError as exc:
            self.failed = {"request": self.next.get("request"), "status": str(exc)}
            (self.data / NEXT).unlink(missing_ok=True)
            self.save()
        finally:
            os.close(log)

    def step(self) -> int | None:
        """One look at the children; an exit status when the launcher should end."""
        assert self.server is not None
        if self.new is not None and self.new.poll() is not None:  # failed before taking over
            self.failed = {"request": self.next.get("request"), "status": self.new.returncode}
            self.new = None
            (self.data / NEXT).unlink(missing_ok=True)
            self.save()
        code = self.server.poll()
        if code is None:
            return None
        if self.new is not None and code == 0:  # the old server handed over: the new one serves
            self.server, self.new = self.new, None
            _write(self.data / CURRENT, {"exec": self.next.get("exec")})
            (self.data / NEXT).unlink(missing_ok=True)
            self.failed = None
            self.save()
            return None
        return self.restart(code)

    def restart(self, code: int) -> int | None:
        """The server died with ``code``: start it again at once (None), or, in a crash loop or
        after an exit 0 nobody asked for, end the launcher with an error (systemd restarts)."""
        assert self.server is not None
        dead, now = self.server.pid, time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < RESTART_WINDOW_S] + [now]
        if code == 0 or len(self.deaths) > RESTART_BURST:
            reap(dead)
            return code if code > 0 else 1
        exe = _read(self.data / CURRENT).get("exec")
        spare = self.take_spare(exe)  # told first: it loads the journal while the rest is killed
        reap(dead)
        how = "its spare serves" if spare is not None else "starting it again"
        print(f"kassa launcher: the server ended with {code}; {how}", flush=True)
        self.server = spare or self.spawn(self.argv(exe, False))
        self.spare_at = now + SPARE_AFTER_S  # the next spare once this one has started
        self.save()
        return None

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_switch)
        (self.data / NEXT).unlink(missing_ok=True)  # a request from before a restart is stale
        exe = _read(self.data / CURRENT).get("exec")
        self.server = self.spawn(self.argv(exe, False))
        self.save()
        while not self.stop:
            if self.switch:
                self.start_new()
            code = self.step()
            if code is not None:
                self.end_spare()
                return code
            self.keep_spare()
            time.sleep(0.02)  # a dead server is seen (and started again) within this
        return self.stop_all()

    def end_spare(self) -> None:
        if self.spare is not None and self.spare.poll() is None:
            self.spare.kill()
            self.spare.wait()
        self.spare = None

    def stop_all(self) -> int:
        self.end_spare()
        procs = [p for p in (self.server, self.new) if p is not None and p.poll() is None]
        for p in procs:
            p.send_signal(signal.SIGTERM)
        end = time.monotonic() + STOP_WAIT_S
        for p in procs:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return 0 if self.server is None or self.server.returncode in (0, -signal.SIGTERM) else 1

    def _on_stop(self, _sig: int, _frame: Any) -> None:
        self.stop = True

    def _on_switch(self, _sig: int, _frame: Any) -> None:
        self.switch = True


def reap(sid: int) -> None:
    """SIGKILL every process left in session ``sid`` (a dead server's Ray daemons and workers;
    Linux /proc). Not waited for: the next server does not need them gone, only dead."""
    from actors.process import session_members  # standard library only, like this module

    for pid in session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kassa_cli.launcher", description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=8600)
    ap.add_argument("--python", default=sys.executable, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    return Launcher(a.data.absolute(), a.host, a.port, a.python).run()


if __name__ == "__main__":
    sys.exit(main())
