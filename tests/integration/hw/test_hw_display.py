"""Customer display: the VFD frames over TCP (loopback), the fake, and the non-blocking wrapper."""

from __future__ import annotations

import socket
import threading
import time

from hw.display import (
    BackgroundDisplay,
    FakeDisplay,
    TcpTransport,
    VfdDisplay,
    fit_line,
    make_display,
)


class Sink:
    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(2)
        self.srv.settimeout(3)
        self.port = self.srv.getsockname()[1]
        self.data = b""
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        conn.settimeout(0.3)
        end = time.monotonic() + 3
        with conn:
            while time.monotonic() < end:
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                self.data += chunk

    def close(self):
        self.t.join(4)
        self.srv.close()


def test_vfd_over_tcp_sends_two_lines():
    sink = Sink()
    d = VfdDisplay(TcpTransport("127.0.0.1", sink.port, 1.0))
    d.show_item("Fresh milk 1L", 4500, "THB", total=13500)
    d.show_total(13500, "THB", change=1500)
    d.close()
    sink.close()
    data = sink.data
    assert data.startswith(b"\x1b@")
    assert b"\x0cFresh milk  THB45.00\x1f$\x01\x02TOTAL      THB135.00" in data
    assert b"CHANGE" in data and b"THB15.00" in data


def test_fake_display_and_fit():
    d = FakeDisplay()
    d.show("A very long product name that does not fit", "x")
    assert d.lines == ("A very long product", "x")
    assert len(fit_line("abc", 20)) == 20


def test_background_display_never_blocks_and_keeps_latest():
    class Slow(FakeDisplay):
        def show(self, a, b=""):
            time.sleep(0.2)
            super().show(a, b)

    inner = Slow()
    d = BackgroundDisplay(inner)
    t0 = time.perf_counter()
    for i in range(10):
        d.show(f"item {i}")
    assert time.perf_counter() - t0 < 0.05
    time.sleep(0.6)
    d.flush()
    assert inner.lines[0] == "item 9"
    assert len(inner.history) < 10  # stale frames were dropped
    d.close()


def test_display_that_is_off_is_ignored():
    d = make_display({"kind": "tcp", "host": "127.0.0.1", "port": 9, "timeout": 0.2})
    d.show("hello")
    d.flush()
    time.sleep(0.5)
    assert d.errors >= 1
    d.close()
