"""Recovery on the store PC itself: unlock an account or set its PIN, as the data folder's owner.

``kassa store unlock --data DIR STAFF`` and ``kassa store set-pin --data DIR STAFF`` work whether
the store server runs or not, so the admin is never locked out of their own shop:

* While the server runs, its gateway listens on ``<data>/admin.sock``, a Unix socket (mode 0600)
  that answers only a peer whose uid (``SO_PEERCRED``, checked by the kernel) is the server's own:
  another account on the PC, or anyone on the LAN, cannot reach it. One JSON line asks, one answers;
  no pickles. The server journals the event as any other (``ip`` = ``store-pc``).
* While it is stopped, the command journals the event itself through the same ``Ledger`` checks.
  The running server holds an exclusive ``flock`` on ``<data>/admin.lock``; the command journals
  directly only when it can take that lock, so it never writes beside a running server.

``set-pin`` is also the way back from a lost ``<data>/pin_key``: PINs sealed with the old key cannot
be read any more (``auth.pin_reset_needed``), and setting a PIN seals it with the current key.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import socket
import struct
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from domain.error_codes import Local
from domain.errors import KassaError

__all__ = ["AdminChannel", "recover", "SOCKET_NAME", "LOCK_NAME", "LOCAL_IP"]

log = logging.getLogger(__name__)
SOCKET_NAME = "admin.sock"
LOCK_NAME = "admin.lock"
LOCAL_IP = "store-pc"  # what the journal records as the "client address" of these events
MAX_LINE = 8192
OPS = ("unlock", "set_pin", "handover")  # handover: ``kassa store upgrade`` (actors.handover)

# op, staff id, PIN (set_pin), reason -> the committed event, as a JSON-safe dict
Handler = Callable[[str, str, str, str], Awaitable[dict]]


def _peer_uid(sock: Any) -> int:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", raw)[1]


def _take_lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on ``path``, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _parse(line: bytes) -> tuple[str, str, str, str]:
    from actors.staff import check_pin
    from domain.staff import check_staff_id

    try:
        req = json.loads(line)
    except ValueError:
        raise KassaError(Local.BAD_REQUEST, "one JSON object per line") from None
    if not isinstance(req, dict) or req.get("op") not in OPS:
        raise KassaError(Local.BAD_REQUEST, f"op is one of {', '.join(OPS)}")
    if req["op"] == "handover":
        return "handover", "", "", ""
    staff = check_staff_id(req.get("staff"))
    pin = check_pin(req.get("pin")) if req["op"] == "set_pin" else ""
    reason = req.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 200:
        raise KassaError(Local.BAD_REQUEST, "reason is a string of at most 200 characters")
    return req["op"], staff, pin, reason


class AdminChannel:
    """The server side: the owner-only socket in the data folder, served on the gateway's loop."""

    def __init__(self, data_dir: Path, handler: Handler) -> None:
        self.data_dir = Path(data_dir)
        self.handler = handler
        self.path = self.data_dir / SOCKET_NAME
        self.lock_fd: int | None = None
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        for _ in range(50):  # a recovery command journaling by itself finishes in a moment
            self.lock_fd = _take_lock(self.data_dir / LOCK_NAME)
            if self.lock_fd is not None:
                break
            await asyncio.sleep(0.1)
        else:
            log.warning(
                "%s is held by another process: no local admin channel", self.data_dir / LOCK_NAME
            )
            return
        if len(os.fsencode(self.path)) > 100:
            log.warning(
                "the data folder's path is too long for a Unix socket: no local admin "
                "channel (stop the server to use kassa store unlock/set-pin)"
            )
            return
        try:
            self.path.unlink()  # a crashed server's socket; we hold the lock, so it is not live
        except FileNotFoundError:
            pass
        self.server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_LINE
        )
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.server = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if _peer_uid(writer.get_extra_info("socket")) != os.geteuid():
                out: dict = {
                    "error": {
                        "code": Local.REFUSED,
                        "message": "only the store server's own account may",
                    }
                }
            else:
                try:
                    line = await asyncio.wait_for(reader.readline(), 10)
                    req = _parse(line)
                    if req[0] == "handover":  # a new server process takes the store over
                        from actors.handover import release

                        out = {"ok": True, **await release(self.handler)}
                    else:
                        out = {"ok": True, **await self.handler(*req)}
                except KassaError as exc:
                    out = {"error": exc.to_dict()}
                except (TimeoutError, ValueError, asyncio.LimitOverrunError):
                    out = {"error": {"code": Local.BAD_REQUEST, "message": "bad request"}}
            writer.write(json.dumps(out).encode() + b"\n")
            await writer.drain()
        except Exception:  # one bad client never stops the channel
            log.exception("local admin channel")
        finally:
            writer.close()


# ---------------------------------------------------------------- the command's side


def _ask_server(path: Path, req: dict, timeout: float = 60.0) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(json.dumps(req).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    if not buf:
        raise KassaError(Local.NO_ANSWER, "the store server closed the channel")
    return json.loads(buf)


def journal_directly(data_dir: Path, op: str, staff: str, pin: str, reason: str) -> dict:
    """Commit the recovery event to the journal of a stopped server (the caller holds the lock)."""
    import msgspec

    from actors.ledger import Ledger, Request, command_hash
    from actors.staff import load_pin_key, sealed_pin
    from domain.staff import StaffPinChanged, StaffUnlocked

    path = Path(data_dir) / "journal.sqlite"
    if not path.exists():
        raise KassaError(Local.NO_JOURNAL, f"no journal in {data_dir}")
    if op == "set_pin":
        body: Any = StaffPinChanged(staff, sealed_pin(load_pin_key(data_dir), staff, pin))
    else:
        body = StaffUnlocked(staff, reason or "unlocked on the store PC")
    ledger = Ledger(path)
    try:
        ack = ledger.submit(
            Request(str(uuid.uuid4()), command_hash(f"local.{op}", [staff]), body, "", "", LOCAL_IP)
        )
    finally:
        ledger.journal.close()
    return {
        "seq": ack.seq,
        "event": ack.kind,
        "staff": staff,
        "server": "stopped",
        "result": {k: v for k, v in msgspec.to_builtins(ack.body).items() if k != "pin_hash"},
    }


def recover(data_dir: Path, op: str, staff: str, pin: str = "", reason: str = "") -> dict:
    """Unlock ``staff`` or set their PIN, through the running server or, if none runs, directly.
    Raises ``KassaError`` with the refusal."""
    data_dir = Path(data_dir)
    _parse(json.dumps({"op": op, "staff": staff, "pin": pin, "reason": reason}).encode())
    req = {"op": op, "staff": staff, "pin": pin, "reason": reason}
    try:
        out = _ask_server(data_dir / SOCKET_NAME, req)
    except (FileNotFoundError, ConnectionRefusedError):
        pass  # no server listening: journal it ourselves, if no server holds the folder
    else:
        if "error" in out:
            from domain.errors import error_from_dict

            raise error_from_dict(out["error"])
        return out
    if not data_dir.is_dir():
        raise KassaError(Local.NO_JOURNAL, f"no data folder {data_dir}")
    fd = _take_lock(data_dir / LOCK_NAME)
    if fd is None:
        raise KassaError(
            Local.SERVER_BUSY,
            "a store server holds this data folder but its "
            "local admin channel does not answer; stop it and try again",
        )
    try:
        return journal_directly(data_dir, op, staff, pin, reason)
    finally:
        os.close(fd)
