"""Tills that keep selling while the store server changes under them (``kassa store upgrade``):
each command is sent again with the same id on a connection error or a 502/503/504, as the till
does (``kiosk.client`` + ``kiosk.worker``), and how long each took to be answered is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson
import requests

from actors.process import proc_stat, session_members

BACKOFF = (0.3, 3.0)  # the till's pause before sending a command again, doubling (kiosk.worker)


class SellingTill(threading.Thread):
    """One cashier scanning one or two items and paying cash, over and over."""

    def __init__(self, url: str, till: str, token: str, codes: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.till, self.codes = url, till, codes
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"
        self.stop_ev = threading.Event()
        self.waits: list[tuple[float, float]] = []  # (sent at, seconds until answered)
        self.refused: list[dict] = []
        self.acked: dict[str, int] = {}  # order id -> total
        self.resends = 0

    def send(self, op: str, args: dict) -> dict | None:
        cid, t0 = str(uuid.uuid4()), time.monotonic()
        body = {"id": cid, "op": op, "args": args}
        delay = BACKOFF[0]
        while True:
            try:
                r = self.s.post(f"{self.url}/v1/tills/{self.till}/commands", json=body, timeout=30)
            except requests.RequestException:
                r = None
            if r is not None and r.status_code == 200:
                self.waits.append((t0, time.monotonic() - t0))
                return r.json()
            if r is not None and r.status_code not in (502, 503, 504):
                self.refused.append({"op": op, "status": r.status_code, "body": r.text[:300]})
                return None
            if self.stop_ev.is_set() and time.monotonic() - t0 > 120:
                self.refused.append({"op": op, "status": 0, "body": "no answer in 120 s"})
                return None
            self.resends += 1
            time.sleep(delay)
            delay = min(delay * 2, BACKOFF[1])

    def run(self) -> None:
        n = 0
        while not self.stop_ev.is_set():
            n += 1
            view = None
            for i in range(1 + n % 2):
                res = self.send("scan", {"code": self.codes[(n + i) % len(self.codes)]})
                if res is None:
                    return
                view = res["view"]
            res = self.send("pay", {"tenders": [{"kind": "cash", "amount": view["total"] + 5000}]})
            if res is None:
                return
            self.acked[res["order"]["order_id"]] = res["order"]["total"]


def upgrade(
    data: Path, exe: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "kassa_cli.main", "store", "upgrade", "--data", str(data)]
    if exe:
        cmd += ["--exec", exe]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def server_pid(data: Path) -> int:
    return int(orjson.loads((data / "server.json").read_bytes())["pid"])


def alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def stop_server(pid: int, timeout: float = 60) -> None:
    """SIGTERM a server that ``kassa store upgrade`` started (it leads its own session), wait for
    it, then kill what is left of its session (Ray's processes)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    end = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.1)
    end = time.monotonic() + 20
    while (left := session_members(pid)) and time.monotonic() < end:
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def longest_wait_during(tills: list[SellingTill], start: float, end: float) -> float:
    """The longest a command waited for its answer among those waiting at some moment between
    ``start`` and ``end``."""
    return max(
        (w for t in tills for at, w in t.waits if at <= end and at + w >= start), default=0.0
    )
