"""``kassa store install`` / ``kassa store uninstall``: the store server as a systemd service.

Run as root, ``install`` writes a system unit (``/etc/systemd/system/kassa-store.service``) that
runs the server as ``--user`` (default: the account that called sudo) and starts at boot
(``multi-user.target``); run as anyone else it writes a user unit
(``~/.config/systemd/user/``, ``default.target``) and says how to make it start at boot without a
login (``loginctl enable-linger``). Either way the unit runs ``kassa store serve`` with this
installation's own interpreter and absolute paths, through the stable launcher
(``kassa_cli.launcher``: the unit's main process, the server its child, so ``kassa store upgrade``
hands over to a new version that systemd then supervises), restarts it a second after any exit,
stops it with SIGTERM (the server closes the journal and tells the tills) and gives it
``TimeoutStopSec`` before a SIGKILL. Then ``systemctl daemon-reload`` and ``enable --now``.

``--dry-run`` runs no ``systemctl`` and writes nothing outside ``--unit-dir`` (without
``--unit-dir`` it only prints the unit). ``unit_text`` is the pure part (tested alone)."""

from __future__ import annotations

import argparse
import getpass
import os
import pwd
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["register_store", "unit_text", "unit_path", "SYSTEM_DIR", "TIMEOUT_STOP_S"]

SYSTEM_DIR = Path("/etc/systemd/system")
TIMEOUT_STOP_S = 30  # the journal closes (and a snapshot is written) well within it
RUN: Callable[[Sequence[str]], object] = lambda argv: subprocess.run(argv, check=True)  # noqa: E731


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser(
        "install",
        help="run the store server as a service: starts at boot, restarts on failure (systemd)",
    )
    p.add_argument("--data", type=Path, required=True, help="the store's data folder")
    p.add_argument("--user", default=None, help="account the server runs as (root only)")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: the LAN)")
    p.add_argument("--port", type=int, default=8600)
    _common(p)
    p.set_defaults(func=_install)
    u = ssub.add_parser("uninstall", help="stop the store service and remove its unit")
    _common(u)
    u.set_defaults(func=_uninstall)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default="kassa-store", help="the unit's name (default kassa-store)")
    p.add_argument("--unit-dir", type=Path, default=None, help="where the unit file goes")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="run no systemctl; write nothing outside --unit-dir (print the unit without it)",
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _quote(arg: str) -> str:
    """One ExecStart argument as systemd reads it: quoted, ``%`` and ``$`` not expanded."""
    arg = _pct(arg.replace("\\", "\\\\").replace('"', '\\"')).replace("$", "$$")
    return f'"{arg}"'


def _pct(text: str) -> str:
    """A unit setting's value with ``%`` kept literal (systemd expands ``%x`` specifiers)."""
    return text.replace("%", "%%")


def unit_path(name: str, system: bool, unit_dir: Path | None = None) -> Path:
    if unit_dir is None:
        unit_dir = (
            SYSTEM_DIR
            if system
            else Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
            / "systemd"
            / "user"
        )
    return Path(unit_dir) / f"{name}.service"


def unit_text(
    data: Path,
    host: str,
    port: int,
    system: bool,
    user: str | None = None,
    python: str = sys.executable,
) -> str:
    """The unit file: ``kassa store serve`` for ``data`` with ``python`` (this venv's), as a
    system unit running as ``user`` or as a user unit."""
    data = Path(os.path.abspath(data))
    # the stable launcher stays the main process across hand-overs (kassa_cli.launcher)
    argv = [os.path.abspath(python), "-m", "kassa_cli.launcher"]
    argv += ["--data", str(data), "--host", host, "--port", str(port)]
    unit = [
        "[Unit]",
        f"Description=kassa store server ({_pct(str(data))})",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitIntervalSec=0",  # never give up restarting: the shop must sell
        "",
        "[Service]",
        "Type=simple",
    ]
    if system:
        unit += [f"User={user}", "Group=" + _group_of(user or "root")]
    unit += [
        f"WorkingDirectory={_pct(str(data))}",
        "ExecStart=" + " ".join(_quote(a) for a in argv),
        "ExecReload=/bin/kill -HUP $MAINPID",  # the launcher hands over to launcher.next.json
        "Environment=PYTHONUNBUFFERED=1",
        "Restart=always",
        "RestartSec=1",
        "KillSignal=SIGTERM",
        "KillMode=mixed",  # SIGTERM to the server only: it stops Ray itself, cleanly
        f"TimeoutStopSec={TIMEOUT_STOP_S}",
        "UMask=0077",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
    ]
    if system:  # sandboxing a user manager may not be able to set up (no user namespaces)
        unit += ["PrivateTmp=yes", "ProtectSystem=full", "ProtectKernelTunables=yes"]
        unit += ["ProtectControlGroups=yes", "RestrictSUIDSGID=yes"]
    unit += ["", "[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}"]
    return "\n".join(unit) + "\n"


def _group_of(user: str) -> str:
    try:
        import grp

        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        return user


def _systemctl(system: bool, *args: str) -> list[str]:
    return ["systemctl", *(() if system else ("--user",)), *args]


def _install(args: argparse.Namespace) -> int:
    system = _is_root()
    user = args.user
    if system:
        user = user or os.environ.get("SUDO_USER") or ""
        if not user or user == "root":
            print("as root, say which account runs the store: --user NAME (never root)")
            return 2
    elif user and user != getpass.getuser():
        print("--user needs root (sudo kassa store install ...): a user unit runs as you")
        return 2
    data = Path(os.path.abspath(args.data))
    text = unit_text(data, args.host, args.port, system, user)
    path = unit_path(args.name, system, args.unit_dir)
    if args.dry_run and args.unit_dir is None:
        print(f"# {path} (dry run: nothing written)\n{text}", end="")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o644)
    print(f"wrote {path}")
    if len(str(data / "run")) > 36:  # actors.wire.RUN_DIR_MAX
        print(
            f"note: {data} is a long path: the server's sockets go to a private folder "
            "elsewhere; a data folder like /var/lib/kassa/data keeps them in it"
        )
    if args.dry_run:
        return 0
    if not data.exists():  # systemd starts the server in it
        data.mkdir(mode=0o700, parents=True)
        if system:
            entry = pwd.getpwnam(user)
            os.chown(data, entry.pw_uid, entry.pw_gid)
    unit = path.name
    for cmd in (_systemctl(system, "daemon-reload"), _systemctl(system, "enable", "--now", unit)):
        RUN(cmd)
    print(f"{unit} enabled and started: kassa store serve --data {data}")
    if system:
        print(f"  logs: journalctl -u {unit}; {data}/logs/store.log")
    else:
        me = getpass.getuser()
        print(f"  logs: journalctl --user -u {unit}; {data}/logs/store.log")
        print(f"  to start it at boot without anyone signing in: sudo loginctl enable-linger {me}")
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    system = _is_root()
    path = unit_path(args.name, system, args.unit_dir)
    if args.dry_run and args.unit_dir is None:
        print(f"would stop and disable {path.name} and remove {path} (dry run)")
        return 0
    existed = path.exists()
    if existed and not args.dry_run:
        RUN(_systemctl(system, "disable", "--now", path.name))
    path.unlink(missing_ok=True)
    if not args.dry_run:
        RUN(_systemctl(system, "daemon-reload"))
    print(f"removed {path}" if existed else f"no unit at {path}; the service is disabled")
    return 0
