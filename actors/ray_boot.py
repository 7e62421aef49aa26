"""Starting and stopping the store's private Ray node, and reading errors that crossed Ray.

Import ``ray`` through this module (``from actors.ray_boot import ray``): the environment below
must be set before Ray is first imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this venv directly
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Ray starts workers at niceness 15 (they are batch jobs to it); here the actors *are* the shop's
# hot path, and a niced ledger waits behind the gateway and anything else the PC runs.
os.environ.setdefault("RAY_worker_niceness", "0")
# Ray (on Linux) turns a node address of 127.0.0.1 into the machine's LAN address, and its servers
# (GCS, raylet, object manager, every worker's gRPC port, the agents) bind that address. Off, it
# keeps loopback, and every one of them listens on 127.0.0.1 only. Read when Ray is imported.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import ray
from ray.exceptions import RayTaskError

from actors.wire import run_dir
from domain.errors import KassaError, Unavailable

__all__ = [
    "ray",
    "start_ray",
    "stop_ray",
    "clear_stale_session",
    "unwrap",
    "is_kassa_error",
    "NAMESPACE",
]

NAMESPACE = "kassa"


def start_ray(data_dir: Path | str, num_cpus: int = 2, memory_mb: int | None = None) -> None:
    """Start a private Ray node for the store in ``data_dir``, sized for a small store PC.

    Private: its session files and sockets are in the store's 0700 folder (``run_dir``/ray, not the
    world-writable /tmp/ray), every server of it listens on loopback only, and it requires a token
    (Ray's token authentication) that only the store's user can read: a fresh random one at every
    start, in a 0600 file in that folder. Another account on the PC can neither find nor use it.
    """
    if ray.is_initialized():
        return
    run = run_dir(data_dir)
    clear_stale_session(run)
    token = run / "ray_token"
    tmp = run / "ray_token.new"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    os.replace(tmp, token)
    # token auth whatever the environment says (CI and old set-ups export RAY_AUTH_MODE=disabled);
    # the workers inherit these through the raylet
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    os.environ.pop("RAY_AUTH_TOKEN", None)  # it would take precedence over the file
    from ray._raylet import (  # type: ignore[attr-defined]  # private, untyped in the stubs
        AuthenticationMode,
        AuthenticationTokenLoader,
        Config,
        get_authentication_mode,
    )

    Config.initialize("")  # this process reads RAY_AUTH_MODE again (as Ray itself does)
    AuthenticationTokenLoader.instance().reset_cache()
    kwargs: dict[str, Any] = dict(
        num_cpus=num_cpus,
        include_dashboard=False,
        namespace=NAMESPACE,
        logging_level=logging.WARNING,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        configure_logging=True,
        _temp_dir=str(run / "ray"),
    )
    if memory_mb:
        kwargs["object_store_memory"] = memory_mb * 1024 * 1024
    with _lean_head():
        ray.init(**kwargs)
    node_ip = ray.util.get_node_ip_address()
    if node_ip != "127.0.0.1" or get_authentication_mode() != AuthenticationMode.TOKEN:
        ray.shutdown()  # fail closed: never serve with Ray open to the LAN or to other accounts
        raise Unavailable(
            "store.ray_not_private",
            f"Ray came up on {node_ip} (token auth: {get_authentication_mode()}); "
            "the store server runs it only on 127.0.0.1 with token auth",
        )


@contextlib.contextmanager
def _lean_head() -> Iterator[None]:
    """``ray.init`` without the head's Python daemons a one-PC store never uses: the autoscaler
    monitor (no cluster to scale), the log monitor (``log_to_driver=False``: nothing reads it)
    and the dashboard's API server (``include_dashboard=False`` still starts a minimal one, and
    ``ray.init`` waits until it has written its address). Each is a Python process importing
    Ray on the store PC's two cores while the actors start: 4-6 s of a start. Ray 2.60 has no
    ``ray.init`` switch for them (``ray start`` has ``--no-monitor`` and
    ``--include-log-monitor``), so the parameters and the API server's start are replaced for
    this call only."""
    from ray._private import node, parameter

    base = parameter.RayParams

    class Lean(base):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**{**kwargs, "no_monitor": True, "include_log_monitor": False})

    def no_api_server(self: Any, **_: Any) -> None:
        return None

    start_api = node.Node.start_api_server
    parameter.RayParams = Lean  # type: ignore[misc, assignment]
    node.Node.start_api_server = no_api_server  # type: ignore[method-assign]
    try:
        yield
    finally:
        parameter.RayParams = base  # type: ignore[misc]
        node.Node.start_api_server = start_api  # type: ignore[method-assign]


def clear_stale_session(run: Path) -> None:
    """Move the session folder a killed server left (logs, sockets, a ``session_latest`` link)
    out of Ray's way and delete it in the background: the new node starts in an empty folder,
    however much the old one holds."""
    old = run / "ray"
    if not old.exists():
        return
    os.replace(old, run / f"ray.stale-{os.getpid()}-{secrets.token_hex(4)}")
    for left in run.glob("ray.stale-*"):  # this one, and any a kill cut short
        t = threading.Thread(
            target=shutil.rmtree, args=(left,), kwargs={"ignore_errors": True}, daemon=True
        )
        t.start()


def stop_ray() -> None:
    if ray.is_initialized():
        ray.shutdown()


def unwrap(exc: BaseException) -> BaseException:
    """The original error behind a Ray task error (KassaErrors keep their code across Ray)."""
    while isinstance(exc, RayTaskError) and getattr(exc, "cause", None) is not None:
        exc = exc.cause
    return exc


def is_kassa_error(exc: BaseException) -> bool:
    return isinstance(unwrap(exc), KassaError)
