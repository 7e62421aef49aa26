"""Run a store server as a subprocess (for tests, benches and the demo), and stop or kill it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, context=None) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


class StoreProcess:
    def __init__(
        self,
        data: Path,
        port: int | None = None,
        demo: bool = True,
        products: int = 2400,
        host: str = "127.0.0.1",
    ) -> None:
        self.data, self.port = Path(data), port or free_port()
        self.demo, self.products, self.host = demo, products, host
        self.log_path = self.data.parent / f"{self.data.name}.server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.ca_file: Path | None = None  # the store's CA when it serves HTTPS (TLS on)

    def start(self, timeout: float = 120.0, all_actors: bool = True) -> StoreProcess:
        """Launch and wait until the store sells (``all_actors`` False) or until every actor is
        up too (health's ``state`` "running", which tests and benches that go on to use reports,
        stock or the demo's data expect)."""
        from actors import tls

        tls_on = tls.files(self.data) is not None
        self.ca_file = tls.TlsFiles.of(self.data).ca_cert if tls_on else None
        self.url = f"{'https' if tls_on else 'http'}://127.0.0.1:{self.port}"
        env = dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0", PYTHONUNBUFFERED="1")
        if self.demo:
            cmd = [
                sys.executable,
                "-m",
                "kassa_cli.main",
                "demo",
                "--no-till",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--products",
                str(self.products),
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "kassa_cli.main",
                "store",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--host",
                self.host,
            ]
        self.data.parent.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:  # the server writes through its own copy of the fd
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.wait_up(timeout, all_actors)

    def wait_up(self, timeout: float = 120.0, all_actors: bool = True) -> StoreProcess:
        """Wait until the launched server sells, or (``all_actors``) has every actor up too."""
        from actors import tls

        assert self.proc is not None, "start() first"
        ctx = tls.client_context(self.data) if self.ca_file is not None else None
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"store server exited with {self.proc.returncode}")
            try:
                # any answer means the selling path is up (the gateway starts after it)
                if (
                    _get(self.url + "/v1/config", ctx) == 200
                    and (not self.demo or self._seeded())
                    and (not all_actors or self._running(ctx))
                ):
                    return self
            except OSError:
                pass
            time.sleep(0.05 if not all_actors else 0.3)
        raise TimeoutError("store server did not come up")

    def _running(self, context: Any = None) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/v1/health", timeout=10, context=context) as r:
                return json.loads(r.read()).get("state", "running") == "running"
        except (OSError, ValueError):
            return False

    def _seeded(self) -> bool:
        """The demo prints its banner once the sample data is all in."""
        text = self.log_path.read_bytes()
        return b"kassa demo shop" in text[self._log_start :]

    def kill(self) -> None:
        """SIGKILL the whole process group: the server, Ray's processes and every actor."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._reap()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._reap()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()

    def _reap(self) -> None:
        """Ray's daemons share the server's process group, its workers only its session (each
        worker leads a group of its own); they die with the server (fate sharing) but a worker
        can linger, so everything left in the session is killed and waited for: the next start
        finds a quiet machine."""
        if self.proc is None:
            return
        sid = self.proc.pid
        end = time.time() + 20
        while time.time() < end:
            left = session_members(sid)  # the server itself, Ray's daemons and its workers
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        self.proc = None


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, …, utime
    and stime at 11 and 12), or None if the process is gone or there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (Linux /proc; none found elsewhere); zombies, which need
    no kill, are left out."""
    out = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields is not None and int(fields[3]) == sid and fields[0] != "Z":
                out.append(int(entry))
    return out
