"""A fault-injecting HTTP/1.1 proxy on loopback, between the uploader and the cloud (asyncio).

It understands just enough HTTP (requests and replies with ``Content-Length``) to act per request:

* ``down = True``          every connection is closed at once (the cloud is unreachable)
* ``p_drop_request``       the request is read and never forwarded; the client connection is closed
* ``p_drop_reply``         the request is forwarded and answered by the cloud, then the reply is lost
                           (the cloud stored the batch, the store never hears of it: a lost ack)
* ``p_duplicate``          the request is delivered twice; the client gets one of the two replies
* ``p_reorder``            the request is held back (the client sees a dropped connection) and
                           delivered later, after the next request: arrivals out of order
* ``delay_s`` / ``bps``    a slow link: latency per message and a bandwidth cap (bytes/s)
* ``upstream``             (host, port) of the cloud; change it when the cloud restarts elsewhere

Counters: ``requests``, ``forwarded``, ``dropped_requests``, ``dropped_replies``, ``duplicated``,
``reordered``, ``bytes_up`` (client to proxy) and ``bytes_down`` (proxy to client). Every wait is
bounded; ``stop()`` closes everything.
"""

from __future__ import annotations

import asyncio
import random
from typing import Optional

__all__ = ["FaultProxy"]

HEAD_LIMIT = 64 * 1024


async def _read_message(reader: asyncio.StreamReader) -> Optional[bytes]:
    """One HTTP message (head + Content-Length body) as raw bytes; None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ConnectionError("truncated HTTP head") from None
    except asyncio.LimitOverrunError:
        raise ConnectionError("HTTP head too long") from None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        n = name.strip().lower()
        if n == b"content-length":
            length = int(value.strip())
        elif n == b"transfer-encoding" and b"chunked" in value.lower():
            raise ConnectionError("chunked bodies are not supported by the fault proxy")
    body = await reader.readexactly(length) if length else b""
    return head + body


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", seed: int = 7,
                 timeout_s: float = 30.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rng = random.Random(seed)
        self.timeout_s = timeout_s
        self.down = False
        self.p_drop_request = 0.0
        self.p_drop_reply = 0.0
        self.p_duplicate = 0.0
        self.p_reorder = 0.0
        self.delay_s = 0.0
        self.bps: float | None = None
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._held: list[bytes] = []
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.requests = self.forwarded = self.dropped_requests = self.dropped_replies = 0
        self.duplicated = self.reordered = self.upstream_failures = 0
        self.bytes_up = self.bytes_down = 0

    def calm(self) -> None:
        """No more faults (held requests are still delivered)."""
        self.down = False
        self.p_drop_request = self.p_drop_reply = self.p_duplicate = self.p_reorder = 0.0
        self.delay_s = 0.0
        self.bps = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "FaultProxy":
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0, limit=HEAD_LIMIT)
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

    async def _slow(self, n: int) -> None:
        wait = self.delay_s + (n / self.bps if self.bps else 0.0)
        if wait:
            await asyncio.sleep(wait)

    async def _forward(self, raw: bytes) -> Optional[bytes]:
        """Send one request upstream on a fresh connection; the raw reply, or None if unreachable."""
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(*self.upstream, limit=HEAD_LIMIT),
                                          self.timeout_s)
        except (OSError, asyncio.TimeoutError):
            self.upstream_failures += 1
            return None
        try:
            w.write(raw)
            await w.drain()
            reply = await asyncio.wait_for(_read_message(r), self.timeout_s)
            self.forwarded += 1
            return reply
        except (OSError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            self.upstream_failures += 1
            return None
        finally:
            w.close()

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for raw in held:
            await self._forward(raw)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            if self.down:
                return
            while True:
                try:
                    raw = await asyncio.wait_for(_read_message(reader), self.timeout_s)
                except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError):
                    return
                if raw is None:
                    return
                self.requests += 1
                self.bytes_up += len(raw)
                if self.down:
                    return
                await self._slow(len(raw))
                x = self.rng.random()
                if x < self.p_drop_request:
                    self.dropped_requests += 1
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
                    return
                if x < self.p_duplicate:
                    self.duplicated += 1
                    second = await self._forward(raw)
                    if second is not None and self.rng.random() < 0.5:
                        reply = second
                await self._slow(len(reply))
                if self.down:
                    return
                writer.write(reply)
                await writer.drain()
                self.bytes_down += len(reply)
        except (ConnectionError, OSError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
