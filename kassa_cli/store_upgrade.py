"""``kassa store upgrade``: switch the running store server to another kassa without closing."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kassa_cli.launcher import STATE, _read

__all__ = ["register_store"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    up = ssub.add_parser(
        "upgrade",
        help="hand the running store over to another kassa version while the tills keep selling",
    )
    up.add_argument("--data", type=Path, default=Path("kassa-data"), help="data folder")
    up.add_argument(
        "--exec",
        dest="exe",
        default=None,
        metavar="PATH",
        help="the new version's kassa executable (default: this one)",
    )
    up.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the switch")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from actors.handover import spawn_new, wait_ready
    from domain.errors import KassaError
    from kassa_cli.launcher import launcher_pid, request_switch

    data = args.data.absolute()
    if not (data / "server.json").exists() or not (data / "admin.sock").exists():
        print(
            f"no running store server in {data}: start the new version with kassa store serve",
            file=sys.stderr,
        )
        return 1
    log_path = data / "upgrade.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with open(log_path, "a") as f:
        f.write(f"--- kassa store upgrade at {stamp} ({args.exe or sys.executable})\n")
    start = log_path.stat().st_size
    launcher = launcher_pid(data)
    if launcher is not None:  # under the service: its launcher starts the new server
        request = uuid.uuid4().hex
        request_switch(data, args.exe, request)
        proc: Any = _LaunchedNew(data, request)
    else:
        proc = spawn_new(data, args.exe, log_path)
    try:
        line = wait_ready(proc, log_path, start, args.timeout)
    except KassaError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 2
    who = f"launcher pid {launcher}" if launcher else f"pid {proc.pid}"
    print(f"upgraded: {line.strip()} ({who}; its output: {log_path})")
    return 0


class _LaunchedNew:
    """The new server the launcher started, as ``wait_ready`` polls it: its failure is in the
    launcher's state file, under our request's id."""

    def __init__(self, data: Path, request: str) -> None:
        self.data, self.request = data, request
        self.returncode: int | None = None

    def poll(self) -> int | None:
        failed = _read(self.data / STATE).get("failed") or {}
        if failed.get("request") == self.request:
            st = failed.get("status")
            self.returncode = st if isinstance(st, int) else 1
        return self.returncode
