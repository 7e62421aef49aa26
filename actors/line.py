"""The store's one line to HQ: who goes first on it, and an HTTP client that copes with a thin one.

``Line`` is a gate shared by the store's processes (the uploader and the licence keeper are separate
actors) through a lock file, ``<data>/line.lock``: priority traffic — a licence check, later a
catalogue pull — holds it shared (``async with line.priority():``); the uploader looks between two
small writes and pauses while anyone holds it (``busy()``, ``await clear()``). The kernel drops a
dead process's lock, so a crash never leaves the line blocked.

``HttpLine`` is one keep-alive HTTP/1.1 connection, written in small chunks, with a timeout for each
kind of wait instead of one total: connecting (``connect_s``), the line moving at all while bytes
are still queued in the socket (``progress_s``, watched through the kernel's send queue, so a slow
line that still moves never times out), and the answer once every byte was delivered (``reply_s``).
Each failure says which it was (``LineError.kind``: ``connect``, ``stalled``, ``cut``,
``no_reply``, ``bad_reply``) and whether the whole request left (``sent_all``): a slow line is not
"HQ unreachable".
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import ssl
import struct
import termios
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Line", "HttpLine", "LineError", "Timeouts", "kb"]


class Line:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else None
        self._local = 0  # priority holders in this process through this object
        self._probe: int | None = None

    @asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        """Hold the line for priority traffic; the uploader pauses until every holder is done."""
        self._local += 1
        fd = None
        try:
            if self.path is not None:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                while True:  # the uploader holds it exclusively for a microsecond when it looks
                    try:
                        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        await asyncio.sleep(0.005)
            yield
        finally:
            self._local -= 1
            if fd is not None:
                os.close(fd)  # releases the lock

    def busy(self) -> bool:
        """Is priority traffic on the line (in any of the store's processes)?"""
        if self._local:
            return True
        if self.path is None:
            return False
        if self._probe is None:
            self._probe = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._probe, fcntl.LOCK_UN)
        return False

    async def clear(self, poll_s: float = 0.05) -> float:
        """Wait until no priority traffic is on the line; returns the seconds waited."""
        t0 = time.monotonic()
        while self.busy():
            await asyncio.sleep(poll_s)
        return time.monotonic() - t0

    def close(self) -> None:
        if self._probe is not None:
            os.close(self._probe)
            self._probe = None


@dataclass(slots=True)
class Timeouts:
    connect_s: float = 15.0
    progress_s: float = 20.0
    reply_s: float = 20.0


class LineError(Exception):
    def __init__(self, kind: str, message: str, sent: int = 0, total: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.sent = sent
        self.total = total

    @property
    def sent_all(self) -> bool:
        return self.total > 0 and self.sent >= self.total


def kb(n: float) -> str:
    return f"{n / 1000:.1f} KB"


def _unsent(sock: Any) -> int:
    """Bytes the kernel still holds for this socket (not yet acknowledged by the other end)."""
    try:
        buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]
    except (OSError, AttributeError, ValueError):
        return 0


class HttpLine:
    def __init__(
        self,
        base_url: str,
        line: Line | None = None,
        timeouts: Timeouts | None = None,
        chunk: int = 4096,
    ) -> None:
        u = urlsplit(base_url)
        self.tls = u.scheme == "https"
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if self.tls else 80)
        self.prefix = u.path.rstrip("/")
        self.line = line
        self.timeouts = timeouts or Timeouts()
        self.chunk = chunk
        self._rw: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.sending: dict[str, Any] | None = None  # the request in flight: sent / total bytes
        self.paused_s = 0.0  # time the current request waited for priority traffic
        self.paused_total_s = 0.0
        self.idle_s = 30.0  # a connection idle longer than this is not reused (servers drop them)
        self._used = 0.0

    async def _connect(self, sndbuf: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        t = self.timeouts.connect_s
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM), t
            )
            fam, _, _, _, addr = infos[0]
            sock = socket.socket(fam, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, addr), t)
                ctx = ssl.create_default_context() if self.tls else None
                r, w = await asyncio.wait_for(
                    asyncio.open_connection(
                        sock=sock,
                        ssl=ctx,
                        server_hostname=self.host if ctx else None,
                        limit=64 * 1024,
                    ),
                    t,
                )
            except BaseException:
                sock.close()
                raise
        except TimeoutError:
            raise LineError("connect", f"HQ did not take the connection within {t:.0f} s") from None
        except OSError as exc:
            raise LineError(
                "connect", f"cannot connect to HQ: {type(exc).__name__}: {exc}"
            ) from None
        return r, w

    def drop(self) -> None:
        if self._rw is not None:
            self._rw[1].transport.abort()
            self._rw = None

    async def close(self) -> None:
        if self._rw is not None:
            w = self._rw[1]
            self._rw = None
            w.close()

    async def post(
        self, path: str, headers: dict[str, str], body: bytes, rate_Bps: float | None = None
    ) -> tuple[int, bytes, int, int]:
        """(status, answer body, bytes sent, bytes received). ``rate_Bps``, the line's measured
        throughput, sizes the socket's send buffer (about a second of it)."""
        sndbuf = int(min(4 << 20, max(8192, rate_Bps or 0)))
        # a chunk is about an eighth of a second of the line: progress is seen, pauses are short
        self.chunk = int(min(256 * 1024, max(1024, (rate_Bps or 8192) / 8)))
        if self._rw is not None and (
            self._rw[0].at_eof() or time.monotonic() - self._used > self.idle_s
        ):
            await self.close()
        reused = self._rw is not None
        try:
            return await self._post(path, headers, body, sndbuf, rate_Bps)
        except LineError as exc:
            self.drop()
            if reused and exc.kind == "cut" and exc.sent == 0:  # a stale keep-alive connection
                return await self._post(path, headers, body, sndbuf, rate_Bps)
            raise
        except BaseException:
            self.drop()
            raise
        finally:
            self.sending = None
            self._used = time.monotonic()

    async def _post(
        self, path: str, headers: dict[str, str], body: bytes, sndbuf: int, rate_Bps: float | None
    ) -> tuple[int, bytes, int, int]:
        if self._rw is None:
            self._rw = await self._connect(sndbuf)
        r, w = self._rw
        sock = w.get_extra_info("socket")
        w.transport.set_write_buffer_limits(high=self.chunk, low=0)
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        data = (
            f"POST {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body
        total = len(data)
        self.sending = st = {"sent": 0, "total": total}
        self.paused_s = 0.0
        to = self.timeouts

        def queued() -> int:
            return max(0, st["sent"] - (_unsent(sock) if sock is not None else 0))

        def fail(kind: str, msg: str) -> LineError:
            return LineError(kind, msg, queued(), total)

        # "delivered" means taken by the next hop: a modem may still queue tens of KB of it, at a
        # rate that may have dropped since it was measured
        reply_s = to.reply_s + 4 * min(total, 64 * 1024) / max(rate_Bps or 1000, 500)
        pos = 0
        try:
            while pos < total:
                if self.line is not None and self.line.busy():
                    waited = await self.line.clear()
                    self.paused_s += waited
                    self.paused_total_s += waited
                piece = data[pos : pos + self.chunk]
                w.write(piece)
                try:
                    await asyncio.wait_for(w.drain(), to.progress_s)
                except TimeoutError:
                    raise fail(
                        "stalled",
                        f"the line stalled: nothing moved for "
                        f"{to.progress_s:.0f} s after {kb(queued())} of {kb(total)}",
                    ) from None
                pos += len(piece)
                st["sent"] = pos
            # every byte is in the kernel: watch it leave, then wait for the answer
            reading = asyncio.ensure_future(r.readuntil(b"\r\n\r\n"))
            try:
                left, moved_at, done_at = -1, time.monotonic(), None
                while not reading.done():
                    await asyncio.wait([reading], timeout=0.1)
                    if reading.done():
                        break
                    now = time.monotonic()
                    unsent = _unsent(sock) if sock is not None else 0
                    if unsent != left:
                        left, moved_at = unsent, now
                    if unsent:
                        if now - moved_at > to.progress_s:
                            raise fail(
                                "stalled",
                                f"the line stalled: nothing moved for "
                                f"{to.progress_s:.0f} s after {kb(queued())} of "
                                f"{kb(total)}",
                            )
                    else:
                        done_at = done_at or now
                        if now - done_at > reply_s:
                            raise fail(
                                "no_reply",
                                f"no answer within {reply_s:.0f} s after "
                                f"all {kb(total)} were delivered (answer lost?)",
                            )
                status_head = reading.result()
            finally:
                if not reading.done():
                    reading.cancel()
            lines = status_head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            hdrs = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            if "chunked" in hdrs.get("transfer-encoding", ""):
                raise fail("bad_reply", "HQ answered with a chunked body")
            n = int(hdrs.get("content-length", "0"))
            answer = await asyncio.wait_for(r.readexactly(n), to.progress_s)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            where = "while sending" if pos < total else "before the answer came"
            raise fail(
                "cut",
                f"the connection was cut {where} ({kb(queued())} of "
                f"{kb(total)} sent): {type(exc).__name__}",
            ) from None
        except TimeoutError:
            raise fail("stalled", f"the answer stalled for {to.progress_s:.0f} s") from None
        except (ValueError, IndexError, asyncio.LimitOverrunError) as exc:
            raise fail("bad_reply", f"HQ's answer is not HTTP: {exc}") from None
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        return status, answer, total, len(status_head) + n
