"""Upgrade without closing: a new server process takes the store over from the running one.

``kassa store upgrade --data DIR [--exec NEW_KASSA]`` starts ``NEW_KASSA store serve --take-over``
(``spawn_new``). That new process (``take_over``):

1. checks the data folder's format (``actors.migrate.check``): a folder newer than it knows is
   refused here, and the running server never hears of it;
2. binds the store's port with ``SO_REUSEPORT`` (the running server binds it so too), and does
   what does not need the journal (imports);
3. listens on the port — from now on the kernel hands new connections to either server — and
   asks the running one to hand over through its owner-only ``admin.sock`` (op ``handover``,
   ``actors.recovery``). The old server answers with its pid, then stops as on SIGTERM: it
   stops taking connections, answers the requests in flight, closes the ledger and exits;
4. waits until that process has let go of the data folder (its lock, ``admin.lock``, released
   once its gateway closed, or the process gone), runs the migrations (backup first) and starts
   serving on the socket it has listened on since 3.
   Connections that arrived meanwhile wait in its queue and are answered now.

A till whose connection the old server closed, or that got 503 ``store.stopping``, sends the same
command again with the same id (``kiosk.client``), so nothing is lost or done twice. If there is
no running server to ask, the new process simply starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from actors.process import proc_stat
from domain.error_codes.upgrade import Upgrade
from domain.errors import Conflict, Unavailable

__all__ = [
    "release",
    "refuse_if_running",
    "bind_shared",
    "ask_handover",
    "take_over",
    "spawn_new",
    "wait_ready",
    "READY_MARK",
]

log = logging.getLogger(__name__)
READY_MARK = "ready on"  # what ``kassa store serve`` prints once it sells


# ---------------------------------------------------------------- the running (old) server


async def release(local_admin: Any = None) -> dict[str, Any]:
    """The ``handover`` op of the admin channel: answer with this process's pid and what the new
    server need not ask again (the tills the licence already allowed: asking the licence actor,
    which starts in the background, held each till's first command for seconds), then stop as
    on SIGTERM (the server's own clean stop), a moment later so the answer leaves first.
    ``local_admin``: the gateway's handler of the admin channel (a method of its state)."""
    gateway = getattr(local_admin, "__self__", None)
    tills = sorted(getattr(gateway, "licensed_tills", ()))
    asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
    log.warning("handing the store over to a new server process")
    return {"pid": os.getpid(), "handover": True, "licensed_tills": tills}


def _adopt(server: Any, answer: dict[str, Any]) -> None:
    """Take over what the old server knew (called before the new one handles any request)."""
    from actors.http.context import GATEWAY

    app = getattr(server.runner, "app", None)
    gateway = app.get(GATEWAY) if app is not None else None
    tills = answer.get("licensed_tills")
    if gateway is not None and isinstance(tills, list):
        gateway.licensed_tills.update(t for t in tills if isinstance(t, str))


async def refuse_if_running(data_dir: Path, wait_s: float = 5.0) -> None:
    """Refuse to start beside a server that holds the data folder (``admin.lock``): with the port
    shared (SO_REUSEPORT), binding it no longer fails for a second server. A recovery command
    holds the lock for a moment only, so it is asked again for ``wait_s``."""
    from actors.recovery import LOCK_NAME, _take_lock

    path = Path(data_dir) / LOCK_NAME
    if not Path(data_dir).is_dir():
        return
    end = time.monotonic() + wait_s
    while (fd := _take_lock(path)) is None:
        if time.monotonic() > end:
            raise Conflict(
                Upgrade.ALREADY_RUNNING,
                f"a store server already serves {data_dir}; to switch to another version "
                f"use: kassa store upgrade --data {data_dir}",
            )
        await asyncio.sleep(0.1)
    os.close(fd)


# ---------------------------------------------------------------- the new server


def bind_shared(host: str, port: int) -> socket.socket | None:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, not yet listening; None when the
    running server did not bind with SO_REUSEPORT (an older kassa): bind after it has gone."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        log.warning("port %s:%s not shared (%s): binding after the hand-over", host, port, exc)
        return None
    sock.setblocking(False)
    return sock


def ask_handover(data_dir: Path, timeout: float = 30.0) -> dict[str, Any] | None:
    """Ask the server running on ``data_dir`` to hand over: its answer (``pid``, ...), or None
    if none runs."""
    from actors.recovery import SOCKET_NAME, _ask_server

    try:
        out = _ask_server(Path(data_dir) / SOCKET_NAME, {"op": "handover"}, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    if "error" in out:
        from domain.errors import error_from_dict

        raise error_from_dict(out["error"])
    return dict(out)


def _alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


async def _wait_released(data_dir: Path, pid: int, timeout: float) -> None:
    """Until the old server has let go of the data folder: its process ended, or it released the
    folder's lock (``admin.lock``), which it does once its gateway has closed and every request in
    flight is answered — before Ray's own shutdown (≈ 1.4 s), which no till needs to wait for.
    What its background actors might still commit meanwhile cannot fork the journal: a seq is
    the table's key, so a second writer's append fails and that ledger rebuilds from the file."""
    from actors.recovery import LOCK_NAME, _take_lock

    end = time.monotonic() + timeout
    while _alive(pid):
        fd = _take_lock(Path(data_dir) / LOCK_NAME)
        if fd is not None:
            os.close(fd)  # the new server's admin channel takes it for good
            return
        if time.monotonic() > end:
            raise Unavailable(
                Upgrade.HANDOVER_FAILED,
                f"the running server (pid {pid}) did not stop within {timeout:.0f} s",
            )
        await asyncio.sleep(0.01)


async def take_over(server: Any, timeout: float = 60.0) -> dict[str, float]:
    """Start ``server`` (an ``actors.server.StoreServer``) in place of the one running on its
    data folder; the times of each phase (seconds)."""
    from actors.migrate import check

    t0 = time.monotonic()
    check(server.data_dir)  # a newer folder: refused before the running server is disturbed
    sock = bind_shared(server.host, server.port)
    await asyncio.to_thread(_prepare, server)
    t1 = time.monotonic()
    if sock is not None:
        sock.listen(512)
    answer = await asyncio.to_thread(ask_handover, server.data_dir)
    t2 = time.monotonic()
    if answer is not None:
        await _wait_released(server.data_dir, int(answer["pid"]), timeout)
    t3 = time.monotonic()
    if sock is None:
        sock = bind_shared(server.host, server.port)
        if sock is None:
            raise Unavailable(
                Upgrade.HANDOVER_FAILED, f"port {server.host}:{server.port} is still taken"
            )
        sock.listen(512)
    server.sock = sock
    await server.start()
    if answer is not None:  # no await since the site started: no request was handled yet
        _adopt(server, answer)
    t4 = time.monotonic()
    times = {"prepare_s": t1 - t0, "ask_s": t2 - t1, "old_stop_s": t3 - t2, "start_s": t4 - t3}
    log.warning("took the store over: %s", json.dumps({k: round(v, 3) for k, v in times.items()}))
    return times


def _prepare(server: Any) -> None:
    """What needs no journal, while the old server sells: the modules the server runs. Ray is
    not started here: the new server sells before its Ray is up (``actors.server``), and its Ray
    starts once the old one has let go of the folder (and of its own Ray session)."""
    import actors.bootstrap
    import actors.gateway

    del actors  # imported for their cost only


# ---------------------------------------------------------------- the command


def spawn_new(data_dir: Path, exe: str | None, log_path: Path) -> subprocess.Popen[bytes]:
    """Start the new version's ``store serve --take-over`` on the running server's address."""
    import orjson

    info = orjson.loads((Path(data_dir) / "server.json").read_bytes())
    cmd = [exe] if exe else [sys.executable, "-m", "kassa_cli.main"]
    cmd += ["store", "serve", "--take-over", "--data", str(data_dir)]
    cmd += ["--host", str(info["host"]), "--port", str(info["port"])]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            cmd,
            stdout=fd,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # it outlives this command, as the server did
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    finally:
        os.close(fd)


def wait_ready(proc: subprocess.Popen[bytes], log_path: Path, start: int, timeout: float) -> str:
    """The new server's ready line; ``store.handover_failed`` with its output if it failed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = log_path.read_bytes()[start:].decode(errors="replace")
        for line in text.splitlines():
            if READY_MARK in line:
                return line
        if proc.poll() is not None:
            raise Unavailable(
                Upgrade.HANDOVER_FAILED,
                f"the new server exited with {proc.returncode}:\n{text[-2000:]}",
            )
        time.sleep(0.05)
    raise Unavailable(Upgrade.HANDOVER_FAILED, f"the new server is not ready after {timeout:.0f} s")
