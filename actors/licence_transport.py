"""How the licence keeper reaches the cloud: the ``CheckTransport`` protocol, ``HttpTransport``
(aiohttp, ahead of the uploader on a shared line) and ``FakeTransport`` for tests. Checks go to
``/v1/licence/check``; activation requests to ``/v1/licence/activate``, signed like an upload
(``domain.upload`` headers) when the store holds an upload secret (``secret``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from domain.errors import Unavailable, error_from_dict

__all__ = ["CHECK_PATH", "ACTIVATE_PATH", "CheckTransport", "HttpTransport", "FakeTransport"]

CHECK_PATH = "/v1/licence/check"
ACTIVATE_PATH = "/v1/licence/activate"


class CheckTransport(Protocol):
    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a check request to the cloud; return its JSON answer or raise."""

    async def activate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send an activation request; return the cloud's answer (status, activation) or raise."""


class HttpTransport:
    """POSTs the check request to ``<base_url>/v1/licence/check`` with aiohttp (and activation
    requests to ``/v1/licence/activate``)."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 20.0,
        session: Any = None,
        line: Any = None,
        secret: bytes | None = None,
        clock: Any = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.url = self.base + CHECK_PATH
        self.timeout_s = timeout_s
        self._session = session
        self.line = line  # actors.line.Line: the check goes first, the uploader waits
        self.secret = secret  # the store's upload secret: activation requests are signed with it
        self.clock = clock

    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.line is None:
            return await self._check(request)
        async with self.line.priority():
            return await self._check(request)

    async def activate(self, request: dict[str, Any]) -> dict[str, Any]:
        import orjson

        from domain.upload import JSON_TYPE, signed_headers

        body = orjson.dumps(request)
        headers = {"Content-Type": JSON_TYPE}
        if self.secret:
            now_s = (self.clock.now_us() if self.clock else time.time_ns() // 1000) // 1_000_000
            headers = signed_headers(
                self.secret, str(request["store_id"]), now_s, body, JSON_TYPE, None
            )
        if self.line is None:
            return await self._check(body, self.base + ACTIVATE_PATH, headers)
        async with self.line.priority():
            return await self._check(body, self.base + ACTIVATE_PATH, headers)

    async def _check(
        self, request: Any, url: str | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        import aiohttp  # only the real transport needs it

        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        own = self._session is None
        session = self._session or aiohttp.ClientSession(timeout=timeout)
        kw: dict[str, Any] = (
            {"data": request, "headers": headers} if headers is not None else {"json": request}
        )
        try:
            try:
                async with session.post(url or self.url, timeout=timeout, **kw) as resp:
                    try:
                        data = await resp.json(content_type=None)
                    except ValueError:
                        data = None
                    if resp.status != 200:
                        if isinstance(data, dict) and "code" in data:
                            raise error_from_dict(data)
                        raise Unavailable(
                            "licence.cloud_error", f"the cloud answered HTTP {resp.status}"
                        )
                    if not isinstance(data, dict):
                        raise Unavailable("licence.cloud_error", "the cloud's answer is not JSON")
                    return data
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise Unavailable(
                    "licence.cloud_unreachable",
                    f"cannot reach the cloud: {type(exc).__name__}: {exc}",
                ) from None
        finally:
            if own:
                await session.close()


class FakeTransport:
    """A cloud in a box for tests: ``answer(request) -> dict`` (sync or async); can go offline."""

    def __init__(
        self, answer: Callable[[dict[str, Any]], Any] | None = None, online: bool = True
    ) -> None:
        self.answer = answer
        self.online = online
        self.requests: list[dict[str, Any]] = []
        self.tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # edit answers
        self.activation: Callable[[dict[str, Any]], Any] | None = None  # answers activations

    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if not self.online or self.answer is None:
            raise Unavailable("licence.cloud_unreachable", "the cloud is unreachable (fake)")
        out = self.answer(request)
        if asyncio.iscoroutine(out):
            out = await out
        return self.tamper(out) if self.tamper else out

    async def activate(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if not self.online or self.activation is None:
            raise Unavailable("licence.cloud_unreachable", "the cloud is unreachable (fake)")
        out = self.activation(request)
        return await out if asyncio.iscoroutine(out) else out
