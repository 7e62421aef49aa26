"""A loopback TCP "printer" on 127.0.0.1 that captures ESC/POS bytes and answers DLE EOT status."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "receipts"

NORMAL = 0x12  # fixed bits 1 and 4 set: online, paper fine


class LoopbackPrinter:
    """Accepts raw TCP like a port-9100 printer. Each connection's data (after any leading
    ``DLE EOT n`` status queries, which it answers) is one captured job."""

    def __init__(self, port: int = 0, *, answer_status: bool = True) -> None:
        self.port = port
        self.answer_status = answer_status
        self.status = {1: NORMAL, 2: NORMAL, 4: NORMAL}
        self.jobs: list[bytes] = []
        self.connections = 0
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._srv: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    # status helpers
    def paper_out(self) -> None:
        self.status = {1: NORMAL | 0x08, 2: NORMAL | 0x20, 4: NORMAL | 0x60}

    def paper_ok(self) -> None:
        self.status = {1: NORMAL, 2: NORMAL, 4: NORMAL}

    def start(self) -> LoopbackPrinter:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(8)
        srv.settimeout(0.1)
        self.port = srv.getsockname()[1]
        self._srv = srv
        self._stop.clear()
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(3)
        self._threads.clear()
        if self._srv:
            self._srv.close()
            self._srv = None

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._srv.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buf = b""
        data_mode = False
        deadline = time.monotonic() + 10
        with conn:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                while not data_mode and buf.startswith(b"\x10\x04") and len(buf) >= 3:
                    n = buf[2]
                    if self.answer_status:
                        conn.sendall(bytes([self.status.get(n, NORMAL)]))
                    buf = buf[3:]
                if buf and not buf.startswith(b"\x10"):
                    data_mode = True
        if buf:
            with self._cv:
                self.jobs.append(buf)
                self._cv.notify_all()

    def wait_jobs(self, n: int = 1, timeout: float = 10.0) -> list[bytes]:
        end = time.monotonic() + timeout
        with self._cv:
            while len(self.jobs) < n:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            return list(self.jobs)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
