"""Helpers for the security suite: a second local account, and what a process listens on.

The suite runs the real store server (and HQ's cloud) on loopback. A test that needs "another
account on the store PC" runs a child as ``nobody`` (uid 65534) through ``setpriv``; that needs
root, so where the suite does not run as root such a test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

OTHER_UID = 65534  # nobody


def need_other_uid() -> None:
    """Skip the calling test unless a child can be run as another local account."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as another local account (setpriv)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")


def as_other(code: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run Python ``code`` as uid/gid 65534 with this
    interpreter (the project's venv), no groups.

    The child gets a private HOME and TMPDIR; it can read the venv (world-readable), as an attacker
    with a shell on the store PC could read any installed copy of the software."""
    need_other_uid()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.getcwd(),
    }
    cmd = [
        "setpriv",
        f"--reuid={OTHER_UID}",
        f"--regid={OTHER_UID}",
        "--clear-groups",
        sys.executable,
        "-c",
        textwrap.dedent(code),
    ]
    return cmd, env


def run_as_other(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run Python ``code`` as another local account (``as_other``) and wait for it."""
    cmd, env = as_other(code)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd="/")


def _socket_inodes(pids: set[int]) -> dict[str, int]:
    """Inode of every socket open in one of ``pids`` -> that pid."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
        except OSError:
            continue
    return inodes


def unix_listeners(pids: set[int]) -> list[str]:
    """Paths of the listening Unix sockets of ``pids`` (abstract names start with "@")."""
    inodes = _socket_inodes(pids)
    out = []
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        f = line.split()
        if len(f) > 7 and f[6] in inodes and int(f[3], 16) & 0x10000:  # __SO_ACCEPTCON: listening
            out.append(f[7])
    return out


def listening_sockets(pids: set[int]) -> list[tuple[int, str, int]]:
    """(pid, local address, port) of every TCP socket in LISTEN state owned by one of ``pids``."""
    inodes = _socket_inodes(pids)
    out: list[tuple[int, str, int]] = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            addr_hex, port_hex = local.split(":")
            out.append((inodes[inode], _addr(addr_hex, v6), int(port_hex, 16)))
    return out


def _addr(hexaddr: str, v6: bool) -> str:
    import ipaddress

    raw = bytes.fromhex(hexaddr)
    if not v6:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def session_pids(leader: int) -> set[int]:
    """Every process in the session that ``leader`` started (a store server and its Ray)."""
    sid = os.getsid(leader)
    out = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getsid(int(name)) == sid:
                    out.add(int(name))
            except OSError:
                continue
    return out
