"""The uploader's view of the line: batches sized to the measured rate (``_prepare``), the
encoding chosen by speed, and what a failure or a lost answer teaches (``_backoff``, ``_fail``,
``_lost``, ``_learn``). A mixin of ``actors.uploader.Uploader``, which sets these attributes."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from actors.upload_source import Source
from actors.upload_transport import TransportError
from domain.upload import compress, compress_xz, encode_batch, encode_batch_v2

__all__ = ["ERROR_KINDS", "LineMixin"]


@dataclass(slots=True)
class _Prepared:
    after: int
    last: int
    count: int
    body: bytes
    raw_bytes: int
    last_hash: bytes = b""
    encoding: str = "zstd"


ERROR_KINDS = {
    "connect": "HQ unreachable",
    "stalled": "slow line",
    "no_reply": "answer lost",
    "cut": "connection cut",
    "bad_reply": "bad answer",
}


class LineMixin:
    source: Source
    transport: Any
    store: str
    max_events: int
    max_bytes: int
    level: int
    hash_bytes: int
    backoff_base_s: float
    backoff_cap_s: float
    rng: random.Random
    target_s: float
    min_bytes: int
    batch_bytes: float
    bytes_per_event: float | None
    line_Bps: float | None
    rtt_s: float
    slow_Bps: float
    failures: int
    last_error: str | None
    last_error_kind: str | None
    next_delay_s: float
    _probe: bool
    _prepared: _Prepared | None

    @property
    def slow(self) -> bool:
        return self.line_Bps is None or self.line_Bps < self.slow_Bps

    # ------------------------------------------------------------ one attempt
    async def _prepare(self, after: int) -> _Prepared | None:
        want = self.max_events
        if self.bytes_per_event:
            want = max(1, min(want, int(self.batch_bytes / self.bytes_per_event)))
        else:
            want = max(1, min(want, int(self.batch_bytes / 150)))
        envs = await self.source.read(after, want)
        if not envs:
            return None
        if envs[0].seq != after + 1:
            raise RuntimeError(f"the journal does not continue after seq {after}")
        size, n = 0, 0
        for e in envs:
            size += len(e.body) + 160
            n += 1
            if size > self.max_bytes and n > 1:
                n -= 1
                break
        envs = envs[:n]
        if self.slow:
            raw = encode_batch_v2(self.store, envs)
            # LZMA2 lets go of the GIL: the loop keeps timing the request in flight meanwhile
            body, enc = await asyncio.to_thread(compress_xz, raw), "xz"
        else:
            raw = encode_batch(self.store, envs, self.hash_bytes)
            body, enc = compress(raw, self.level), "zstd"
        return _Prepared(after, envs[-1].seq, len(envs), body, len(raw), envs[-1].hash, enc)

    def _backoff(self) -> float:
        hi = min(self.backoff_cap_s, self.backoff_base_s * (2 ** min(self.failures, 30)))
        return self.rng.uniform(self.backoff_base_s, max(hi, self.backoff_base_s))

    def _fail(self, why: str, kind: str | None = None) -> str:
        self.failures += 1
        self.last_error = why
        self.last_error_kind = kind
        self.next_delay_s = self._backoff()
        return "failed"

    def _lost(self, exc: TransportError, p: _Prepared | None = None) -> str:
        """A request whose answer never came: adapt the batch to what it says about the line."""
        kind = getattr(exc, "kind", "cut")
        sent_all = getattr(exc, "sent_all", True)
        if kind in ("stalled", "no_reply"):  # too much for this line: a quarter of it next time
            self.batch_bytes = max(self.min_bytes, self.batch_bytes / 4)
            if self.line_Bps:
                self.line_Bps /= 2
        elif kind == "cut" and not sent_all:
            self.batch_bytes = max(self.min_bytes, self.batch_bytes * 0.7)
        if sent_all and kind != "connect":
            self._probe = True  # the cloud may hold it: ask before sending again
        # nothing left this PC: the same batch may go again; otherwise it is built anew
        self._prepared = p if kind == "connect" else None
        res = self._fail(str(exc), ERROR_KINDS.get(kind, kind))
        if kind in ("cut", "no_reply") and self.failures <= 3:
            self.next_delay_s = 0.0  # the line is up, just lossy: again at once, a few times
        return res

    def _learn(self, p: _Prepared, elapsed_s: float) -> None:
        """A batch got its answer in ``elapsed_s`` (pauses for priority traffic excluded)."""
        size = len(p.body)
        bpe = size / p.count
        self.bytes_per_event = (
            bpe if self.bytes_per_event is None else 0.7 * self.bytes_per_event + 0.3 * bpe
        )
        rate = size / max(elapsed_s - self.rtt_s, 0.01)
        self.line_Bps = rate if self.line_Bps is None else 0.7 * self.line_Bps + 0.3 * rate
        self.batch_bytes = max(
            self.min_bytes, min(self.batch_bytes * 2, self.line_Bps * self.target_s, self.max_bytes)
        )
        if hasattr(self.transport, "rate_Bps"):
            self.transport.rate_Bps = self.line_Bps
