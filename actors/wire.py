"""A small, fast request/response channel between the store server's own processes.

Ray supervises the actors (creates them, restarts them, finds them by name) and carries the
control-plane calls. A Ray call costs about a millisecond of CPU on each side, which is too much for
every scan of every till on a 2-core store PC, so the hot path — gateway → till → ledger — travels
over Unix sockets in Linux's abstract namespace (no file to clean up after a crash) with
length-prefixed pickles. Only processes of the same store server talk on these sockets.

A lost connection fails the calls in flight; ``RpcClient.call`` then reconnects (after asking Ray
to wake the actor) and sends again. That is safe because every command carries its client-chosen
id: the ledger answers a repeat with the first result.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import pickle
import socket
import struct
from typing import Any, Awaitable, Callable

from domain.errors import KassaError, Unavailable

__all__ = ["RpcServer", "RpcClient", "socket_name"]

log = logging.getLogger(__name__)
HEAD = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024


def socket_name(data_dir: str, role: str) -> str:
    """Abstract-namespace socket name, unique per store data folder and role."""
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return f"\0kassa-{digest}-{role}"


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    head = await reader.readexactly(HEAD.size)
    (n,) = HEAD.unpack(head)
    if n > MAX_FRAME:
        raise ConnectionError("frame too large")
    return pickle.loads(await reader.readexactly(n))


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEAD.pack(len(data)) + data


Handler = Callable[[str, Any], Awaitable[Any]]


class RpcServer:
    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self.handler = handler
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if self.server is None:
            # the socket is made here, not by the loop: libuv (uvloop) refuses abstract names
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(self.name)
                sock.listen(256)
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise
            self.server = await asyncio.start_unix_server(self._conn, sock=sock)

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()

        async def one(rid: int, method: str, payload: Any) -> None:
            try:
                res: Any = (rid, True, await self.handler(method, payload))
            except KassaError as exc:
                res = (rid, False, exc)
            except Exception as exc:  # noqa: BLE001 - the caller gets a coded error
                log.exception("rpc %s failed", method)
                res = (rid, False, Unavailable("store.internal", f"{type(exc).__name__}: {exc}"))
            async with lock:
                writer.write(_frame(res))
                await writer.drain()

        tasks: set[asyncio.Task] = set()
        try:
            while True:
                rid, method, payload = await _read_frame(reader)
                t = asyncio.get_running_loop().create_task(one(rid, method, payload))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class RpcClient:
    def __init__(self, name: str, wake: Callable[[], Awaitable[Any]] | None = None,
                 deadline: float = 60.0) -> None:
        self.name = name
        self.wake = wake
        self.deadline = deadline
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task | None = None
        self.connecting: asyncio.Lock | None = None

    async def _connect(self) -> None:
        if self.connecting is None:
            self.connecting = asyncio.Lock()
        async with self.connecting:
            if self.writer is not None and not self.writer.is_closing():
                return
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                await asyncio.get_running_loop().sock_connect(sock, self.name)
            except BaseException:
                sock.close()
                raise
            reader, writer = await asyncio.open_unix_connection(sock=sock)
            self.writer = writer
            self.reader_task = asyncio.get_running_loop().create_task(self._read(reader, writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                rid, ok, value = await _read_frame(reader)
                fut = self.pending.pop(rid, None)
                if fut is not None and not fut.done():
                    if ok:
                        fut.set_result(value)
                    else:
                        fut.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
            writer.close()
            for rid, fut in list(self.pending.items()):
                if not fut.done():
                    fut.set_exception(ConnectionError("connection lost"))

    async def call(self, method: str, payload: Any = None) -> Any:
        """Send and wait for the answer, reconnecting and resending until ``deadline``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.deadline
        delay = 0.05
        while True:
            try:
                await self._connect()
                rid = next(self.ids)
                fut = loop.create_future()
                self.pending[rid] = fut
                assert self.writer is not None
                self.writer.write(_frame((rid, method, payload)))
                await self.writer.drain()
                return await fut
            except (ConnectionError, OSError, AssertionError) as exc:
                if loop.time() > end:
                    raise Unavailable("store.unreachable",
                                      f"a store process did not answer: {exc}") from exc
                if self.wake is not None:
                    try:
                        await asyncio.wait_for(self.wake(), max(0.1, end - loop.time()))
                    except Exception:  # noqa: BLE001 - keep trying until the deadline
                        pass
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
