"""The uploader: sends the journal's tail to the cloud, exactly once in effect, through any outage.

A plain class (``actors.remote`` wraps it as an actor). Its mailbox *is* the journal: everything
past ``acked`` — the highest seq the cloud said it holds — is the backlog; nothing is copied to a
second queue. Each attempt reads the next events after ``acked`` from ``source``, bounded by count
and bytes, encodes them (``domain.upload``: column-wise JSON + bodies, zstd), signs them
(HMAC-SHA256 over store, timestamp and body) and posts them. ``acked`` moves only to what the cloud
answers, and is persisted atomically after each change, so a restart of either side loses nothing
and a resend is harmless (the cloud ignores exact repeats). While the cloud is unreachable it backs
off with jitter (capped), forever; it never drops an event.

    source     has ``async read(after, limit) -> list[Envelope]`` and ``async last_seq() -> int``
    transport  has ``async send(headers, body) -> (status, json dict)``; raises ``TransportError``
    state      has ``load() -> dict`` and ``save(dict)`` (``FileState`` or ``MemoryState``)
    clock      has ``now_us()`` (``domain.ports``): timestamps, signatures and ages
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actors.upload_line import LineMixin, _Prepared
from actors.upload_loop import LoopMixin
from actors.upload_source import FileState, JournalFileSource, JournalSource, MemoryState, Source
from actors.upload_transport import FakeTransport, HttpTransport, Transport, TransportError
from domain.journal_format import Envelope
from domain.upload import HOLDINGS_TYPE, compress, encode_batch, holdings_body, signed_headers

__all__ = [
    "Uploader",
    "Source",
    "Transport",
    "TransportError",
    "HttpTransport",
    "FakeTransport",
    "FileState",
    "MemoryState",
    "JournalSource",
    "JournalFileSource",
    "anchor_of",
]

log = logging.getLogger(__name__)


class Uploader(LineMixin, LoopMixin):
    def __init__(
        self,
        source: Source,
        transport: Transport,
        state: Any,
        clock: Any,
        *,
        store: str,
        secret: bytes | str,
        max_events: int = 5000,
        max_bytes: int = 4 * 1024 * 1024,
        level: int = 3,
        hash_bytes: int = 8,
        interval_s: float = 5.0,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 60.0,
        rng: random.Random | None = None,
        prefetch: bool = True,
        linger_s: float = 1.0,
        target_s: float = 6.0,
        start_bytes: int = 16_384,
        min_bytes: int = 1024,
        slow_Bps: float = 256_000,
    ) -> None:
        self.source = source
        self.transport = transport
        self.state = state
        self.clock = clock
        self.store = store
        self.secret = bytes.fromhex(secret) if isinstance(secret, str) else secret
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.level = level
        self.hash_bytes = hash_bytes
        self.interval_s = interval_s
        # once caught up, wait this long before sending what came in meanwhile: while a shop
        # sells, a batch a second instead of one per round trip, for the same freshness at HQ
        self.linger_s = linger_s
        self.caught_up = False
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.rng = rng or random.Random()
        self.prefetch = prefetch
        # the line: batches aim at ``target_s`` seconds each at the measured rate (bytes/s while
        # sending); below ``slow_Bps`` they use the smaller encoding (version 2, LZMA2)
        self.target_s = target_s
        self.min_bytes = min_bytes
        self.batch_bytes = float(start_bytes)  # compressed bytes the next batch aims at
        self.bytes_per_event: float | None = None
        self.line_Bps: float | None = None
        self.rtt_s = 0.0
        self.slow_Bps = slow_Bps
        saved = state.load() or {}
        if saved.get("store") not in (None, store):
            log.warning(
                "uploader state belongs to store %s, not %s: ignored", saved.get("store"), store
            )
            saved = {}
        self.acked: int = int(saved.get("acked", 0))
        # the furthest event HQ ever acknowledged, with its hash: never lowered, so that
        # ``kassa journal verify`` can tell a journal cut short (``anchor_of``)
        self.anchor: dict = saved.get("anchor") or {}
        self.last_success_us: int | None = saved.get("last_success_us")
        self.failures = 0  # consecutive
        self.last_error: str | None = None
        self.last_error_kind: str | None = None
        self.last_attempt_us: int | None = None
        self.next_delay_s = 0.0
        self.sent_batches = 0
        self.sent_events = 0
        self.wire_bytes = 0  # batch bytes put on the line, failed attempts included
        self.holdings_asked = 0
        self.in_flight: dict | None = None
        self._probe = False  # ask the cloud what it holds before sending again
        self._marks: deque[tuple[float, int]] = deque()
        self._prepared: _Prepared | None = None
        self._wake: asyncio.Event | None = None
        # seconds to add to this PC's clock when signing: learned from the cloud when it says our
        # signatures are stale (a shop's PC clock is often minutes or hours off)
        self.clock_offset_s = 0
        self.halted: int | None = None  # the broken seq uploads stopped before, if any

    # ------------------------------------------------------------ progress
    def _save(self) -> None:
        self.state.save(
            {
                "store": self.store,
                "acked": self.acked,
                "last_success_us": self.last_success_us,
                "anchor": self.anchor,
            }
        )

    def _set_acked(self, ack: Any, last_seq: int) -> None:
        if not isinstance(ack, int) or ack < 0:
            return
        if ack > last_seq:
            log.error("the cloud holds seq %d but the journal ends at %d", ack, last_seq)
            ack = last_seq
        if ack != self.acked:
            if ack < self.acked:
                log.warning(
                    "the cloud holds only up to seq %d (we had %d): resending", ack, self.acked
                )
            self.sent_events += max(0, ack - self.acked)
            self.acked = ack
            if self._prepared is not None and self._prepared.after != ack:
                self._prepared = None
            self._save()

    # ------------------------------------------------------------ one attempt
    def _headers(self, body: bytes, **kw: Any) -> dict[str, str]:
        return signed_headers(
            self.secret,
            self.store,
            self.clock.now_us() // 1_000_000 + self.clock_offset_s,
            body,
            **kw,
        )

    def _stale(self, status: int, data: dict) -> bool:
        """The cloud says our clock is off: sign with its time from now on."""
        if (
            status == 401
            and data.get("code") == "auth.stale"
            and isinstance(data.get("skew_s"), (int, float))
        ):
            self.clock_offset_s -= round(data["skew_s"])
            self.last_error = f"auth.stale: store clock off by {data['skew_s']:.0f} s; corrected"
            return True
        return False

    async def _ask_holdings(self, last_seq: int) -> str | None:
        """Ask the cloud what it holds (a small signed request) and move ``acked`` to it; None
        to go on sending, or the step's result if the question itself failed."""
        ask = getattr(self.transport, "holdings", None)
        if ask is None:
            self._probe = False
            return None
        body = holdings_body(self.store)
        t0 = time.monotonic()
        try:
            status, data = await ask(
                self._headers(body, content_type=HOLDINGS_TYPE, encoding=None), body
            )
        except TransportError as exc:
            return self._lost(exc)
        self.holdings_asked += 1
        if self._stale(status, data):
            return "retry"
        self._probe = False
        if status != 200 or not data.get("ok") or not isinstance(data.get("ack"), int):
            return None  # a cloud without holdings: resend from what we believe
        self.rtt_s = time.monotonic() - t0
        ack = min(data["ack"], last_seq)
        if ack > 0:
            envs = await self.source.read(ack - 1, 1)
            if not envs or envs[0].hash.hex() != data.get("head"):
                log.error("the cloud's event %d is not this journal's", ack)
                self.last_error = f"the cloud's event {ack} is not this journal's"
                return None
        self._set_acked(ack, last_seq)
        if ack > int(self.anchor.get("seq", 0)):
            self.anchor = {"seq": ack, "hash": data["head"]}
            self._save()
        return None

    async def step(self) -> str:
        """One attempt. Returns ``idle`` (nothing to send), ``sent`` (the cloud acknowledged
        progress), ``retry`` (resend at once: the cloud asked for another range) or ``failed``."""
        try:
            return await self._step()
        finally:
            self._mark()

    async def _step(self) -> str:
        self.last_attempt_us = self.clock.now_us()
        last_seq = await self.source.last_seq()
        source: Any = self.source  # a journal file source also has broken_at and upto
        broken = source.broken_at() if hasattr(source, "broken_at") else None
        if broken is not None:  # never send a corrupted history: stop before the break, alert
            last_seq = source.upto = min(last_seq, broken - 1)
            if self._prepared is not None and self._prepared.last > last_seq:
                self._prepared = None
            if self.acked >= last_seq:
                if self.halted != broken:
                    log.error(
                        "ALERT: the journal is broken at seq %d: uploads stopped there "
                        "(kassa journal verify)",
                        broken,
                    )
                self.halted = broken
                self.failures, self.next_delay_s = 1, self.interval_s
                self.last_error = (
                    f"journal.broken: the journal is broken at seq {broken}; "
                    "nothing from there on is sent"
                )
                return "failed"
        if self.acked > last_seq:  # the journal is shorter than what we believed acknowledged
            self._set_acked(last_seq, last_seq)
        if self.acked >= last_seq:
            self.failures, self.next_delay_s = 0, 0.0
            return "idle"
        if self._probe:
            before = self.acked
            res = await self._ask_holdings(last_seq)
            if res is not None:
                return res
            if self.acked >= last_seq:  # the lost answer was for the last batch
                self.failures, self.last_error, self.last_error_kind = 0, None, None
                self.caught_up = True
                return "sent" if self.acked > before else "idle"
        p = self._prepared if self._prepared and self._prepared.after == self.acked else None
        if p is None:
            p = await self._prepare(self.acked)
            if p is None:
                return "idle"
        self._prepared = None
        headers = self._headers(p.body, encoding=p.encoding)
        self.wire_bytes += len(p.body)
        self.in_flight = {
            "first": p.after + 1,
            "last": p.last,
            "events": p.count,
            "bytes": len(p.body),
            "since_us": self.clock.now_us(),
        }
        t0 = time.monotonic()
        send = asyncio.ensure_future(self.transport.send(headers, p.body))
        done_at = [0.0]  # when the answer came, not when the prefetch let us look
        send.add_done_callback(lambda _: done_at.__setitem__(0, time.monotonic()))
        nxt: _Prepared | None = None
        try:
            if self.prefetch and p.last < last_seq:
                try:
                    nxt = await self._prepare(p.last)  # built while the request is in flight
                except Exception:  # pragma: no cover - read failure: just don't prefetch
                    nxt = None
            status, data = await send
        except TransportError as exc:
            return self._lost(exc, p)
        except asyncio.CancelledError:
            send.cancel()
            raise
        except Exception as exc:  # a transport bug must not kill the loop
            log.exception("upload transport failed")
            return self._fail(f"{type(exc).__name__}: {exc}")
        finally:
            self.in_flight = None
        elapsed = done_at[0] - t0 - getattr(self.transport, "paused_s", 0.0)
        code = data.get("code", "")
        before = self.acked
        if status == 200 and data.get("ok"):
            self._learn(p, elapsed)
            self._set_acked(data.get("ack"), last_seq)
            if self.acked == p.last and p.last > int(self.anchor.get("seq", 0)):
                self.anchor = {"seq": p.last, "hash": p.last_hash.hex()}
            self.last_success_us = self.clock.now_us()
            self.failures, self.last_error, self.next_delay_s = 0, None, 0.0
            self.last_error_kind = None
            self.sent_batches += 1
            self._save()
            if nxt is not None and nxt.after == self.acked:
                self._prepared = nxt
            if self.acked > before:
                self.caught_up = p.last >= last_seq
                return "sent"
            if self.acked < before:
                return "retry"
            return self._fail("the cloud acknowledged no progress")
        if "ack" in data and status in (400, 409):
            self._set_acked(data.get("ack"), last_seq)
        if self._stale(status, data):
            self._prepared = p
            if abs(data["skew_s"]) > 1 and self.failures < 3:
                self.failures += 1
                self.next_delay_s = 0.0
                return "retry"
            return self._fail(self.last_error or code, "refused")
        if status == 409 and code in ("ingest.gap", "auth.replay"):
            # the cloud holds less than we thought, or a copy of this request got there first
            self.last_error = code
            self.next_delay_s = 0.0
            if nxt is not None and nxt.after == self.acked:
                self._prepared = nxt
            return "retry"
        return self._fail(f"{status} {code or data.get('message', '')}".strip(), "refused")


def wire_sizes(envs: Sequence[Envelope], store: str, level: int = 3) -> tuple[int, int]:
    """(raw, compressed) size of one batch of these events: for benches and docs."""
    raw = encode_batch(store, envs)
    return len(raw), len(compress(raw, level))


def anchor_of(data_dir: Path | str) -> tuple[int, bytes] | None:
    """The (seq, hash) of the furthest event HQ acknowledged for the store in ``data_dir``."""
    a = FileState(Path(data_dir) / "uploader.json").load().get("anchor") or {}
    try:
        return (int(a["seq"]), bytes.fromhex(a["hash"])) if a else None
    except (KeyError, TypeError, ValueError):
        return None
