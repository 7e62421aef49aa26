"""A fault-injecting HTTP/1.1 proxy on loopback, between the store and the cloud (asyncio).

It stands for the shop's line to HQ. Bytes cross it at the line's pace, chunk by chunk, on one line
shared by every connection: per direction (``duplex``, the default) or both directions on one. A
line has a rate (``bps``, bytes/s), a latency each way (``delay_s``) and a modem queue in front of
it (``queue_bytes``): a sender that keeps it full makes everyone else wait that long (bufferbloat).
A request reaches the cloud only once its last byte has crossed, and only if the client is still
there; what a client abandoned mid-way is never forwarded. Per request:

* ``down = True``          every connection is closed at once (the cloud is unreachable)
* ``p_drop_request``       the request crosses the line and is lost there (never forwarded)
* ``p_drop_reply``         the request is forwarded and answered by the cloud, the reply is lost
                           (the cloud stored the batch, the store never hears of it: a lost ack)
* ``p_cut``                the connection is cut at a random point of the request or of its reply
* ``silent``               a lost request or reply leaves the connection open and quiet (the client
                           must time out) instead of closing it
* ``p_duplicate``          the request is delivered twice; the client gets one of the two replies
* ``p_reorder``            the request is held back (the client sees a dropped connection) and
                           delivered later, after the next request: arrivals out of order
* ``upstream``             (host, port) of the cloud; change it when the cloud restarts elsewhere

Counters: ``requests``, ``forwarded``, ``dropped_requests``, ``dropped_replies``, ``cuts``,
``abandoned``, ``duplicated``, ``reordered``, ``bytes_up`` and ``bytes_down`` (bytes that crossed
the line, lost ones included), ``bytes_by_path`` (bytes up per request path). Every wait is bounded;
``stop()`` closes everything.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time

__all__ = ["FaultProxy", "Wire"]

HEAD_LIMIT = 64 * 1024


class Wire:
    """One direction of the line: a FIFO at ``bps`` bytes/s behind a queue of ``queue_bytes``."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.free_at = 0.0

    async def carry(self, n: int) -> float:
        """Put ``n`` bytes on the line (waiting while the queue is full); when they arrive."""
        p = self.proxy
        if not p.bps:
            return time.monotonic() + p.delay_s
        while True:
            now = time.monotonic()
            ahead = self.free_at - now
            if ahead <= p.queue_bytes / p.bps:
                break
            await asyncio.sleep(min(ahead - p.queue_bytes / p.bps + 0.001, 0.05))
        self.free_at = max(now, self.free_at) + n / p.bps
        return self.free_at + p.delay_s


def _parse_head(head: bytes) -> tuple[str, int]:
    first, *lines = head.split(b"\r\n")
    length = 0
    for line in lines:
        name, _, value = line.partition(b":")
        n = name.strip().lower()
        if n == b"content-length":
            length = int(value.strip())
        elif n == b"transfer-encoding" and b"chunked" in value.lower():
            raise ConnectionError("chunked bodies are not supported by the fault proxy")
    parts = first.split()
    return (parts[1].decode("latin-1") if len(parts) > 1 else ""), length


async def _read_message(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP message (head + Content-Length body) as raw bytes; None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ConnectionError("truncated HTTP head") from None
    except asyncio.LimitOverrunError:
        raise ConnectionError("HTTP head too long") from None
    _, length = _parse_head(head)
    body = await reader.readexactly(length) if length else b""
    return head + body


class _Gone(Exception):
    """The client went away, or the line was cut."""


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        upstream_host: str = "127.0.0.1",
        seed: int = 7,
        timeout_s: float = 30.0,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rng = random.Random(seed)
        self.timeout_s = timeout_s
        self.down = False
        self.p_drop_request = 0.0
        self.p_drop_reply = 0.0
        self.p_duplicate = 0.0
        self.p_reorder = 0.0
        self.p_cut = 0.0
        self.silent = False
        self.delay_s = 0.0
        self.bps: float | None = None
        self.queue_bytes = 16 * 1024
        self.duplex = True
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._held: list[bytes] = []
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._up, self._down = Wire(self), Wire(self)
        self.requests = self.forwarded = self.dropped_requests = self.dropped_replies = 0
        self.duplicated = self.reordered = self.upstream_failures = self.cuts = 0
        self.abandoned = 0
        self.bytes_up = self.bytes_down = 0
        self.bytes_by_path: dict[str, int] = {}

    def calm(self) -> None:
        """No more faults (held requests are still delivered)."""
        self.down = False
        self.p_drop_request = self.p_drop_reply = self.p_duplicate = self.p_reorder = 0.0
        self.p_cut = 0.0
        self.delay_s = 0.0
        self.bps = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kbit(self, kbit_s: float) -> None:
        """Set the line's rate in kbit/s (what its queue held is flushed: a new line)."""
        self.bps = kbit_s * 1000 / 8
        self._up.free_at = self._down.free_at = 0.0

    async def start(self) -> FaultProxy:
        # a small read buffer per connection: what a client wrote waits in its own socket, not here
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0, limit=4096)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    def _spawn(self, coro) -> None:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _forward(self, raw: bytes) -> bytes | None:
        """Send one request upstream on a fresh connection: the raw reply, None if unreachable."""
        try:
            r, w = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream, limit=HEAD_LIMIT), self.timeout_s
            )
        except (TimeoutError, OSError):
            self.upstream_failures += 1
            return None
        try:
            w.write(raw)
            await w.drain()
            reply = await asyncio.wait_for(_read_message(r), self.timeout_s)
            self.forwarded += 1
            return reply
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError):
            self.upstream_failures += 1
            return None
        finally:
            w.close()

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for raw in held:
            await self._forward(raw)

    @property
    def _chunk(self) -> int:
        return 1024 if self.bps else 256 * 1024

    async def _until(self, t: float, writer: asyncio.StreamWriter) -> None:
        wait = t - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if writer.transport.is_closing():
            raise _Gone()

    async def _receive(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: float | None
    ) -> bytes | None:
        """The next request as it crosses the line; None at a clean EOF before it starts."""
        buf = bytearray()
        need: int | None = None
        arrive = time.monotonic()
        cut_at: int | None = None
        path = ""
        while need is None or len(buf) < need:
            try:
                data = await asyncio.wait_for(reader.read(self._chunk), self.timeout_s)
            except (TimeoutError, ConnectionError, OSError):
                data = b""
            if not data:
                if buf:
                    self.abandoned += 1
                    raise _Gone()
                return None
            if self.down:
                raise _Gone()
            arrive = await self._up.carry(len(data))
            self.bytes_up += len(data)
            buf += data
            if need is None:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    path, length = _parse_head(bytes(buf[: end + 4]))
                    need = end + 4 + length
                    if cut is not None:
                        cut_at = int(need * cut)
                elif len(buf) > HEAD_LIMIT:
                    raise ConnectionError("HTTP head too long")
            if cut_at is not None and len(buf) >= cut_at:
                await self._until(arrive, writer)
                self.cuts += 1
                raise _Gone()
        await self._until(arrive, writer)  # the last byte reached HQ's side; is the client there?
        self.bytes_by_path[path] = self.bytes_by_path.get(path, 0) + len(buf)
        if len(buf) > need:
            raise ConnectionError("pipelined requests are not supported by the fault proxy")
        return bytes(buf)

    async def _reply(self, writer: asyncio.StreamWriter, reply: bytes, cut: float | None) -> None:
        end = len(reply) if cut is None else int(len(reply) * cut)
        pos, chunk = 0, self._chunk
        while pos < end:
            piece = reply[pos : min(end, pos + chunk)]
            arrive = await self._down.carry(len(piece))
            await self._until(arrive, writer)
            if self.down:
                raise _Gone()
            writer.write(piece)
            await writer.drain()
            self.bytes_down += len(piece)
            pos += len(piece)
        if cut is not None:
            self.cuts += 1
            raise _Gone()

    async def _quiet(self, reader: asyncio.StreamReader) -> None:
        """A silent loss: say nothing until the client gives up."""
        try:
            await asyncio.wait_for(reader.read(), self.timeout_s)
        except (TimeoutError, ConnectionError, OSError):
            pass

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None and self.bps:  # the modem's buffer, not the kernel's, is the queue
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if not self.duplex:
            self._down = self._up
        try:
            if self.down:
                return
            while True:
                x = self.rng.random()
                cut = self.rng.random() if x < self.p_cut else None
                cut_reply = cut is not None and self.rng.random() < 0.5
                raw = await self._receive(reader, writer, None if cut_reply else cut)
                if raw is None:
                    return
                self.requests += 1
                if self.down:
                    return
                x = self.rng.random()
                if x < self.p_drop_request:
                    self.dropped_requests += 1
                    if self.silent:
                        await self._quiet(reader)
                    return
                x -= self.p_drop_request
                if x < self.p_reorder:
                    self.reordered += 1
                    self._held.append(raw)
                    return
                x -= self.p_reorder
                reply = await self._forward(raw)
                if self._held:  # deliver what was held back, now that a later request went first
                    await self._release_held()
                if reply is None:
                    return
                x -= self.p_drop_reply
                if x < 0:
                    self.dropped_replies += 1
                    if self.silent:
                        await self._quiet(reader)
                    return
                if x < self.p_duplicate:
                    self.duplicated += 1
                    second = await self._forward(raw)
                    if second is not None and self.rng.random() < 0.5:
                        reply = second
                if self.down:
                    return
                await self._reply(writer, reply, cut if cut_reply else None)
        except (_Gone, ConnectionError, OSError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
