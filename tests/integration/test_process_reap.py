"""Stopping a store server leaves no process behind, even one that left the server's process group
(as each Ray worker does): the next test or bench starts on a quiet machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from actors.process import StoreProcess, session_members

SCRIPT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import os, time; os.setpgid(0, 0); print(os.getpid(), flush=True); time.sleep(600)"],
    stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), flush=True)
time.sleep(600)
"""


def test_stop_kills_what_left_the_process_group(tmp_path: Path):
    sp = StoreProcess(tmp_path / "store")
    sp.proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    grandchild = int(sp.proc.stdout.readline())
    assert os.getpgid(grandchild) != sp.proc.pid  # like a Ray worker: a group of its own
    assert grandchild in session_members(sp.proc.pid)
    sid = sp.proc.pid
    sp.kill()
    end = time.time() + 10
    while session_members(sid) and time.time() < end:
        time.sleep(0.1)
    assert session_members(sid) == []
    assert sp.proc is None
