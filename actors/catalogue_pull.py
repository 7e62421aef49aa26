"""How the store asks HQ for its catalogue: ``POST <cloud>/v1/catalogue/pull``, signed like the
uploads (``domain.upload.signed_headers`` with the store's upload secret), body ``{"have": N}``.

The cloud answers 200 with a bundle (``domain.catalogue_bundle``), 204 when the store runs the
newest version already, or an error as JSON. The pull shares the store's one line to HQ with the
uploader (``actors.line``) and uses it politely: it holds the line's priority only while the small
request goes out and the answer's head comes back, at most ``priority_s`` (2 s), so the uploader
pauses for a moment, never for a whole download; the body is read in pieces with a timeout on
the line *moving* (``progress_s``) and an overall deadline that grows with the answer's size (a
slow line that moves is not a failure); an answer larger than ``max_bytes`` is refused before it
is read.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson

from domain.error_codes.storepull import CatalogueSync as Codes
from domain.errors import Unavailable
from domain.upload import signed_headers

__all__ = ["PULL_PATH", "BUNDLE_TYPE", "PullAnswer", "PullTransport", "MAX_BUNDLE"]

PULL_PATH = "/v1/catalogue/pull"
BUNDLE_TYPE = "application/vnd.kassa.bundle"
MAX_BUNDLE = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PullAnswer:
    status: int  # 200: a bundle in ``body``; 204: nothing newer; 404: nothing published yet
    body: bytes = b""
    code: str = ""


def _unavailable(message: str) -> Unavailable:
    return Unavailable(Codes.PULL_FAILED, message)


class PullTransport:
    def __init__(
        self,
        base_url: str,
        store: str,
        secret: bytes,
        line: Any = None,
        *,
        connect_s: float = 15.0,
        progress_s: float = 30.0,
        min_rate_Bps: float = 1000.0,
        max_bytes: int = MAX_BUNDLE,
        priority_s: float = 2.0,
        reply_s: float = 120.0,
    ) -> None:
        self.url = base_url.rstrip("/") + PULL_PATH
        self.store = store
        self.secret = secret
        self.line = line  # actors.line.Line shared with the uploader
        self.connect_s = connect_s
        self.progress_s = progress_s
        self.min_rate_Bps = min_rate_Bps
        self.max_bytes = max_bytes
        self.priority_s = priority_s  # the longest the uploader pauses for a pull
        self.reply_s = reply_s  # HQ may build a bundle before it answers
        self.clock_offset_s = 0  # learned from the cloud's auth.stale answer
        self.bytes_down = 0

    async def pull(self, have: int | None) -> PullAnswer:
        try:
            answer = await self._pull(have)
        except _Stale as stale:
            self.clock_offset_s -= round(stale.skew_s)
            answer = await self._pull(have)
        return answer

    async def _pull(self, have: int | None) -> PullAnswer:
        import aiohttp

        body = orjson.dumps({"have": have})
        headers = signed_headers(
            self.secret,
            self.store,
            int(time.time()) + self.clock_offset_s,
            body,
            content_type="application/json",
            encoding=None,
        )
        # no read timeout of aiohttp's own: the answer's head may take HQ ``reply_s`` to build,
        # then the body must keep moving (``progress_s``, per piece)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.connect_s, connect=self.connect_s * 2
        )
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                post = asyncio.ensure_future(session.post(self.url, data=body, headers=headers))
                if self.line is not None:
                    async with self.line.priority():  # the request, and the head if it is quick
                        await asyncio.wait([post], timeout=self.priority_s)
                resp = await asyncio.wait_for(post, self.reply_s)
                try:
                    return await self._answer(resp)
                finally:
                    resp.release()
        except TimeoutError:
            raise _unavailable("HQ did not answer in time, or the line stopped moving") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _unavailable(f"cannot reach HQ: {type(exc).__name__}: {exc}") from None

    async def _answer(self, resp: Any) -> PullAnswer:
        size = resp.content_length
        if size is not None and size > self.max_bytes:
            raise _unavailable(f"HQ's answer is {size} bytes, above {self.max_bytes}")
        deadline = self.connect_s + self.progress_s + (size or 0) / self.min_rate_Bps
        chunks: list[bytes] = []
        got = 0
        async with asyncio.timeout(deadline):
            while True:
                chunk = await asyncio.wait_for(resp.content.readany(), self.progress_s)
                if not chunk:
                    break
                got += len(chunk)
                self.bytes_down += len(chunk)
                if got > self.max_bytes:
                    raise _unavailable(f"HQ's answer is above {self.max_bytes} bytes")
                chunks.append(chunk)
        raw = b"".join(chunks)
        if resp.status in (200, 204):
            return PullAnswer(resp.status, raw if resp.status == 200 else b"")
        err = _error_of(raw)
        code = str(err.get("code") or "")
        skew = err.get("skew_s")
        if resp.status == 401 and code == "auth.stale" and isinstance(skew, (int, float)):
            raise _Stale(float(skew))
        if resp.status == 404 and code == "catalogue.none_published":
            return PullAnswer(404, b"", code)
        message = str(err.get("message") or f"HQ answered HTTP {resp.status}")[:300]
        raise _unavailable(f"HQ refused the pull: {code or resp.status}: {message}")


def _error_of(raw: bytes) -> dict[str, Any]:
    """The error in the cloud's JSON answer (``{"code", ...}`` or ``{"error": {...}}``)."""
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    inner = data.get("error")
    return {**data, **inner} if isinstance(inner, dict) else data


class _Stale(Exception):
    def __init__(self, skew_s: float) -> None:
        super().__init__(f"store clock off by {skew_s} s")
        self.skew_s = skew_s
