"""The store's health summary sent to HQ: ``POST <cloud>/v1/health-report``, signed like the
uploads (``domain.upload.signed_headers`` with the store's upload secret; HQ checks it with
``cloud.ingest``'s ``authenticate``). The store sends; HQ never calls the store.

``Reporter.maybe_send`` is called after every measure (``actors.metrics``): it sends when the set
of alerts changed since the last report HQ took, else every ``KASSA_HEALTH_REPORT_S`` seconds
(300). A failure is logged and tried again at the next measure; selling never waits for it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson

from domain.upload import JSON_TYPE, signed_headers

__all__ = ["Reporter", "REPORT_PATH"]

log = logging.getLogger(__name__)
REPORT_PATH = "/v1/health-report"


class Reporter:
    def __init__(
        self, cloud_url: str, store: str, secret: bytes, every_s: float = 300.0, timeout_s=20.0
    ) -> None:
        self.url = cloud_url.rstrip("/") + REPORT_PATH
        self.store = store
        self.secret = secret
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.sent_at = 0.0  # monotonic time of the last report HQ took
        self.sent_alerts: list[str] | None = None
        self.clock_offset_s = 0  # learned from HQ's auth.stale answer
        self.session: Any = None
        self.last_error = ""

    @classmethod
    def for_store(cls, data_dir: Path, config: Any) -> Reporter | None:
        """The reporter of a store linked to HQ (``cloud_url`` and ``cloud_secret``), else None."""
        try:
            secret = bytes.fromhex((Path(data_dir) / "cloud_secret").read_text().strip())
        except (OSError, ValueError):
            return None
        if not config.cloud_url or not secret:
            return None
        every = float(os.environ.get("KASSA_HEALTH_REPORT_S", "300"))
        return cls(config.cloud_url, config.store_id, secret, every)

    async def maybe_send(self, summary: dict[str, Any]) -> bool:
        codes = sorted(a["code"] for a in summary.get("alerts") or [])
        due = time.monotonic() - self.sent_at >= self.every_s
        if not due and codes == self.sent_alerts:
            return False
        if await self.send(summary):
            self.sent_at, self.sent_alerts = time.monotonic(), codes
            return True
        return False

    async def send(self, summary: dict[str, Any]) -> bool:
        import aiohttp

        body = orjson.dumps(summary)
        for _attempt in range(2):
            headers = signed_headers(
                self.secret,
                self.store,
                int(time.time()) + self.clock_offset_s,
                body,
                content_type=JSON_TYPE,
                encoding=None,
            )
            try:
                if self.session is None:
                    self.session = aiohttp.ClientSession(
                        timeout=aiohttp.ClientTimeout(total=self.timeout_s)
                    )
                async with self.session.post(self.url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self._failed(f"{type(exc).__name__}: {exc}")
                return False
            if status == 200:
                self.last_error = ""
                return True
            try:
                err = orjson.loads(raw)
            except orjson.JSONDecodeError:
                err = {}
            skew = err.get("skew_s") if isinstance(err, dict) else None
            if status == 401 and isinstance(skew, (int, float)) and not _attempt:
                self.clock_offset_s -= round(skew)  # the store's clock is off: sign in HQ's time
                continue
            self._failed(f"HQ answered {status}: {raw[:200]!r}")
            return False
        return False

    def _failed(self, why: str) -> None:
        if why != self.last_error:
            log.warning("health report to HQ failed: %s", why)
        self.last_error = why

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
