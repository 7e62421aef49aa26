"""The uploader's way to the cloud: the ``Transport`` protocol, ``TransportError`` (what became
of a request whose answer never came), ``HttpTransport`` over ``actors.line`` and ``FakeTransport``
for tests, with faults to inject."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, Protocol

from domain.upload import HOLDINGS_TYPE

__all__ = ["Transport", "TransportError", "HttpTransport", "FakeTransport"]


class Transport(Protocol):
    async def send(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]: ...


class TransportError(Exception):
    """The request may or may not have reached the cloud; the answer did not come back.
    ``kind``: connect | stalled | cut | no_reply | bad_reply; ``sent_all``: every byte left."""

    def __init__(self, message: str, kind: str = "cut", sent_all: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.sent_all = sent_all


class HttpTransport:
    """POSTs to ``<base_url>/v1/ingest`` (and ``/v1/holdings``) over ``actors.line.HttpLine``:
    small writes, a timeout per kind of wait, paused while priority traffic holds ``line``. Any
    network failure is a ``TransportError`` saying what happened. Counts every byte it put on the
    line, failed attempts included (``bytes_up``, ``bytes_down``)."""

    def __init__(self, base_url: str, timeout_s: float = 20.0, line: Any = None) -> None:
        from actors.line import HttpLine, Timeouts

        self.http = HttpLine(
            base_url,
            line,
            Timeouts(connect_s=min(15.0, timeout_s), progress_s=timeout_s, reply_s=timeout_s),
        )
        self.bytes_up = self.bytes_down = 0
        self.rate_Bps: float | None = None  # set by the uploader: sizes the socket buffer

    @property
    def bytes_sent(self) -> int:
        return self.bytes_up

    @property
    def sending(self) -> dict | None:
        return self.http.sending

    @property
    def paused_s(self) -> float:
        return self.http.paused_s

    async def _post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        from actors.line import LineError

        try:
            status, raw, up, down = await self.http.post(path, headers, body, self.rate_Bps)
        except LineError as exc:
            self.bytes_up += exc.sent
            raise TransportError(str(exc), exc.kind, exc.sent_all) from None
        self.bytes_up += up
        self.bytes_down += down
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return status, data if isinstance(data, dict) else {}

    async def send(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        return await self._post("/v1/ingest", headers, body)

    async def holdings(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        return await self._post("/v1/holdings", headers, body)

    async def close(self) -> None:
        await self.http.close()


class FakeTransport:
    """Calls a handler in-process (e.g. ``cloud.ingest.Ingestor.handle``), with faults to inject:
    ``down`` (nothing gets through), ``drop_requests`` (n requests lost before the cloud),
    ``drop_replies`` (n replies lost after the cloud handled the request)."""

    def __init__(self, handler: Callable[[dict, bytes], Any]) -> None:
        self.handler = handler
        self.down = False
        self.drop_requests = 0
        self.drop_replies = 0
        self.sent: list[tuple[dict, bytes]] = []

    async def send(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        if self.down:
            raise TransportError("connection refused (fake)", "connect", False)
        if self.drop_requests > 0:
            self.drop_requests -= 1
            raise TransportError("request lost (fake)")
        self.sent.append((headers, body))
        res = self.handler(dict(headers), body)
        if inspect.isawaitable(res):
            res = await res
        status, data = (res.status, res.body) if hasattr(res, "status") else res
        if self.drop_replies > 0:
            self.drop_replies -= 1
            raise TransportError("reply lost (fake)")
        return status, data

    async def holdings(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        return await self.send({**headers, "Content-Type": HOLDINGS_TYPE}, body)


# ---------------------------------------------------------------- uploader
