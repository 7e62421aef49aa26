"""A small, fast request/response channel between the store server's own processes.

Ray supervises the actors (creates them, restarts them, finds them by name) and carries the
control-plane calls. A Ray call costs about a millisecond of CPU on each side, which is too much for
every scan of every till on a 2-core store PC, so the hot path — gateway → till → ledger — travels
over Unix sockets with length-prefixed MessagePack frames.

Only the store server's own user reaches these sockets. They are files in the store's private
folder (``run_dir``: mode 0700, owned by the server's user, checked at every start), and each end
asks the kernel who is on the other side (``SO_PEERCRED``) and hangs up on any other user.
Nothing received is unpickled: a frame is data only, decoded by msgspec into the types each method
declares (``Method``), so a frame that is not such data is refused before any of it is acted on.

A lost connection fails the calls in flight; ``RpcClient.call`` then reconnects (after asking Ray
to wake the actor) and sends again. That is safe because every command carries its client-chosen
id: the ledger answers a repeat with the first result.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import itertools
import logging
import os
import re
import socket
import stat
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from domain.errors import InvalidInput, KassaError, Unavailable, error_from_dict

__all__ = ["RpcServer", "RpcClient", "Method", "socket_name", "run_dir", "peer_uid"]

log = logging.getLogger(__name__)
HEAD = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024
# Ray puts its session's sockets up to 68 characters below its folder (``run_dir``/ray/session_<date
# and pid>/sockets/plasma_store); a socket path has at most 107 bytes (sun_path)
RUN_DIR_MAX = 36
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


# ---------------------------------------------------------------- the private folder


def _private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) or accept it only if it is a real folder of ours that nobody
    else may enter; anything else (a symlink, another owner, group or world access) is refused."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise Unavailable(
            "store.run_dir_unsafe",
            f"{path} must be a folder of this user with mode 0700 (it holds the "
            "store's internal sockets); remove it or fix its owner and mode",
        )
    return path


def run_dir(data_dir: str | Path) -> Path:
    """The store's private folder for its internal sockets and Ray's session files.

    ``DATA/run`` when that path is short enough for socket paths (``RUN_DIR_MAX``), else a folder
    named for the data folder in ``$XDG_RUNTIME_DIR`` (the user's own, mode 0700), else in /tmp
    under ``kassa-UID``. Every level that kassa creates is mode 0700 and checked to be ours."""
    data = Path(os.path.abspath(data_dir))
    own = data / "run"
    if len(str(own)) <= RUN_DIR_MAX:
        data.mkdir(parents=True, exist_ok=True)
        return _private_dir(own)
    digest = hashlib.sha256(str(data).encode()).hexdigest()[:12]
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg and os.path.isabs(xdg) and len(xdg) + 19 <= RUN_DIR_MAX:
        try:
            st = os.stat(xdg)
            if st.st_uid == os.geteuid() and not st.st_mode & 0o077:
                return _private_dir(Path(xdg) / f"kassa-{digest}")
        except OSError:
            pass
    return _private_dir(_private_dir(Path(f"/tmp/kassa-{os.geteuid()}")) / digest)


def socket_name(data_dir: str | Path, role: str) -> str:
    """Path of the socket of ``role`` ("ledger", "till-T1"…) of the store in ``data_dir``."""
    name = (
        role
        if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", role)
        else "h" + hashlib.sha256(role.encode()).hexdigest()[:24]
    )
    return str(run_dir(data_dir) / f"{name}.sock")


def peer_uid(sock: Any) -> int:
    """The user id of the process at the other end of a connected Unix socket (kernel-given)."""
    return _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))[
        1
    ]


# ---------------------------------------------------------------- frames


class Method(NamedTuple):
    """How one method's argument and answer cross: each is turned into data by ``dump_*`` (None:
    sent as it is; msgspec encodes builtins, dataclasses and Structs), decoded as msgspec type
    ``*_type`` (anything else in the frame is refused), and built back by ``load_*``."""

    arg_type: Any = None
    res_type: Any = Any
    dump_arg: Callable[[Any], Any] | None = None
    load_arg: Callable[[Any], Any] | None = None
    dump_res: Callable[[Any], Any] | None = None
    load_res: Callable[[Any], Any] | None = None


class _Codec:
    def __init__(self, methods: dict[str, Method]) -> None:
        self.methods = methods
        self.args = {m: msgspec.msgpack.Decoder(s.arg_type) for m, s in methods.items()}
        self.results = {m: msgspec.msgpack.Decoder(s.res_type) for m, s in methods.items()}


_enc = msgspec.msgpack.Encoder()
_call_head = msgspec.msgpack.Decoder(tuple[int, str, msgspec.Raw])
_answer_head = msgspec.msgpack.Decoder(tuple[int, bool, msgspec.Raw])
_error = msgspec.msgpack.Decoder(dict[str, Any])


def _frame(obj: Any) -> bytes:
    data = _enc.encode(obj)
    return HEAD.pack(len(data)) + data


async def _read(reader: asyncio.StreamReader) -> bytes:
    (n,) = HEAD.unpack(await reader.readexactly(HEAD.size))
    if n > MAX_FRAME:
        raise ConnectionError("frame too large")
    return await reader.readexactly(n)


def _error_answer(rid: int, exc: KassaError) -> bytes:
    try:
        return _frame((rid, False, exc.to_dict()))
    except (TypeError, ValueError, OverflowError):  # details that are not plain data: as text
        d = exc.to_dict()
        d["details"] = {str(k): str(v) for k, v in d["details"].items()}
        return _frame((rid, False, d))


Handler = Callable[[str, Any], Awaitable[Any]]


class RpcServer:
    def __init__(self, name: str, handler: Handler, methods: dict[str, Method]) -> None:
        self.name = name
        self.handler = handler
        self.codec = _Codec(methods)
        self.server: asyncio.AbstractServer | None = None
        self.conns: set[asyncio.StreamWriter] = set()  # hung up on at close

    async def start(self) -> None:
        if self.server is None:
            _clear_stale(self.name)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(self.name)
                os.chmod(self.name, 0o600)
                sock.listen(256)
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise
            self.server = await asyncio.start_unix_server(self._conn, sock=sock)

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            uid = peer_uid(sock)
        except OSError:
            uid = -1
        if uid != os.geteuid():
            log.warning("refused a connection to %s from uid %s", self.name, uid)
            writer.close()
            return
        lock = asyncio.Lock()
        codec = self.codec

        async def one(rid: int, method: str, arg: Any) -> None:
            try:
                res = await self.handler(method, arg)
                dump = codec.methods[method].dump_res
                out = _frame((rid, True, dump(res) if dump is not None else res))
            except KassaError as exc:
                out = _error_answer(rid, exc)
            except Exception as exc:  # the caller gets a coded error
                log.exception("rpc %s failed", method)
                out = _error_answer(
                    rid, Unavailable("store.internal", f"{type(exc).__name__}: {exc}")
                )
            async with lock:
                writer.write(out)
                await writer.drain()

        tasks: set[asyncio.Task] = set()
        self.conns.add(writer)
        try:
            while True:
                frame = await _read(reader)
                try:
                    rid, method, raw = _call_head.decode(frame)
                except msgspec.MsgspecError:
                    log.warning("refused a frame on %s that is not a call", self.name)
                    break  # not this protocol: hang up without acting on any of it
                try:
                    spec = codec.methods[method]
                    arg = codec.args[method].decode(raw)
                    if spec.load_arg is not None:
                        arg = spec.load_arg(arg)
                except (KeyError, msgspec.MsgspecError, KassaError) as exc:
                    err = (
                        exc
                        if isinstance(exc, KassaError)
                        else InvalidInput("wire.bad_call", f"{method!r}: {exc}")
                    )
                    async with lock:
                        writer.write(_error_answer(rid, err))
                    continue
                t = asyncio.get_running_loop().create_task(one(rid, method, arg))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.conns.discard(writer)
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
            for writer in list(self.conns):
                writer.close()
            for _ in range(3):  # their readers see the end and return
                await asyncio.sleep(0)
            try:
                os.unlink(self.name)
            except OSError:
                pass


def _clear_stale(path: str) -> None:
    """Remove a socket file left by a process that died, but never one still being served."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EEXIST, f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise OSError(errno.EADDRINUSE, f"{path} is being served by another process")
    finally:
        probe.close()


class RpcClient:
    def __init__(
        self,
        name: str,
        methods: dict[str, Method],
        wake: Callable[[], Awaitable[Any]] | None = None,
        deadline: float = 60.0,
    ) -> None:
        self.name = name
        self.codec = _Codec(methods)
        self.wake = wake
        self.deadline = deadline
        self.ids = itertools.count(1)
        self.pending: dict[int, tuple[asyncio.Future, str]] = {}
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
                if peer_uid(sock) != os.geteuid():  # only ever talk to our own processes
                    raise ConnectionRefusedError(f"{self.name} is served by another user")
            except BaseException:
                sock.close()
                raise
            reader, writer = await asyncio.open_unix_connection(sock=sock)
            self.writer = writer
            self.reader_task = asyncio.get_running_loop().create_task(self._read(reader, writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        codec = self.codec
        try:
            while True:
                rid, ok, raw = _answer_head.decode(await _read(reader))
                fut, method = self.pending.pop(rid, (None, ""))
                if fut is None or fut.done():
                    continue
                try:
                    if ok:
                        spec = codec.methods[method]
                        value = codec.results[method].decode(raw)
                        fut.set_result(spec.load_res(value) if spec.load_res is not None else value)
                    else:
                        fut.set_exception(error_from_dict(_error.decode(raw)))
                except (msgspec.MsgspecError, KassaError) as exc:
                    fut.set_exception(
                        exc
                        if isinstance(exc, KassaError)
                        else Unavailable(
                            "store.bad_answer",
                            f"a store process answered {method!r} with something else: {exc}",
                        )
                    )
        except (asyncio.IncompleteReadError, ConnectionError, OSError, msgspec.MsgspecError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
            writer.close()
            for fut, _ in list(self.pending.values()):
                if not fut.done():
                    fut.set_exception(ConnectionError("connection lost"))

    async def call(self, method: str, arg: Any = None) -> Any:
        """Send and wait for the answer, reconnecting and resending until ``deadline``."""
        spec = self.codec.methods[method]
        try:  # encoded once, resent as it is
            payload = msgspec.Raw(
                _enc.encode(spec.dump_arg(arg) if spec.dump_arg is not None else arg)
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInput("input.invalid", f"cannot send this: {exc}") from exc
        loop = asyncio.get_running_loop()
        end = loop.time() + self.deadline
        delay = 0.05
        while True:
            try:
                await self._connect()
                rid = next(self.ids)
                data = _frame((rid, method, payload))
                fut = loop.create_future()
                self.pending[rid] = (fut, method)
                assert self.writer is not None
                self.writer.write(data)
                await self.writer.drain()
                return await fut
            except (ConnectionError, OSError, AssertionError) as exc:
                if loop.time() > end:
                    raise Unavailable(
                        "store.unreachable", f"a store process did not answer: {exc}"
                    ) from exc
                if self.wake is not None:
                    try:
                        await asyncio.wait_for(self.wake(), max(0.1, end - loop.time()))
                    except Exception:  # keep trying until the deadline
                        pass
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
