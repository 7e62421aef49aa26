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
import inspect
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from actors.files import atomic_write
from domain.journal_format import COLUMNS, Envelope, envelope_of
from domain.upload import (
    HOLDINGS_TYPE,
    compress,
    compress_xz,
    encode_batch,
    encode_batch_v2,
    holdings_body,
    signed_headers,
)

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


class Source(Protocol):
    async def read(self, after: int, limit: int) -> list[Envelope]: ...

    async def last_seq(self) -> int: ...


class Transport(Protocol):
    async def send(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]: ...


class TransportError(Exception):
    """The request may or may not have reached the cloud; the answer did not come back.
    ``kind``: connect | stalled | cut | no_reply | bad_reply; ``sent_all``: every byte left."""

    def __init__(self, message: str, kind: str = "cut", sent_all: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.sent_all = sent_all


# ---------------------------------------------------------------- progress


class MemoryState:
    def __init__(self, initial: dict | None = None) -> None:
        self.data = dict(initial or {})

    def load(self) -> dict:
        return dict(self.data)

    def save(self, data: dict) -> None:
        self.data = dict(data)


class FileState:
    """A small JSON file replaced atomically (write temp, fsync, rename, fsync the folder)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("uploader state %s unreadable; starting from the cloud's answer", self.path)
            return {}

    def save(self, data: dict) -> None:
        atomic_write(self.path, json.dumps(data).encode())


# ---------------------------------------------------------------- sources


class JournalFileSource:
    """Reads the journal file through its own read-only SQLite connection (WAL lets it read while
    the ledger writes), so batches don't travel through the ledger actor."""

    def __init__(self, path: Path | str) -> None:
        from actors.journal import connect

        self.con = connect(path, readonly=True)
        self.path = Path(path)
        self.upto = 1 << 62  # the uploader's limit: nothing at or past a reported break

    def broken_at(self) -> int | None:
        """The first seq the journal checks (``journal_check.json``) found broken, or None."""
        from actors.journal import broken_at, read_report

        return broken_at(read_report(self.path))

    async def read(self, after: int, limit: int) -> list[Envelope]:
        return [
            envelope_of(r)
            for r in self.con.execute(
                f"SELECT {COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (after, self.upto, limit),
            )
        ]

    async def last_seq(self) -> int:
        return self.con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def close(self) -> None:
        self.con.close()


class JournalSource:
    """A source over an open ``actors.journal.Journal`` (same process), e.g. for a bench."""

    def __init__(self, journal: Any) -> None:
        self.journal = journal

    async def read(self, after: int, limit: int) -> list[Envelope]:
        return self.journal.read(after, limit)

    async def last_seq(self) -> int:
        r = self.journal.con.execute("SELECT max(seq) FROM events").fetchone()
        return r[0] or 0


# ---------------------------------------------------------------- transports


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


class Uploader:
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

    def _mark(self) -> None:
        now = time.monotonic()
        self._marks.append((now, self.sent_events))
        while len(self._marks) > 2 and now - self._marks[1][0] > 120:
            self._marks.popleft()

    def rate_events_s(self) -> float | None:
        """Events delivered per second over the last two minutes or so (failures included)."""
        if len(self._marks) < 2:
            return None
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else None

    # ------------------------------------------------------------ loop
    def notify(self) -> None:
        """New events were committed: wake the loop if it is idle (not while backing off)."""
        if self._wake is not None:
            self._wake.set()

    async def _wait(self, stop: asyncio.Event, timeout: float, wake: bool) -> None:
        waits = [asyncio.ensure_future(stop.wait())]
        if wake and self._wake is not None:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Upload until ``stop`` is set: at once while there is a backlog, then what came in
        during ``linger_s``, then on ``notify()`` or every ``interval_s``; after a failure, after a
        jittered, capped, growing delay."""
        self._wake = asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            try:
                res = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("uploader step failed")
                res = self._fail(f"{type(exc).__name__}: {exc}")
            if res == "sent" and self.caught_up and self.linger_s:
                await self._wait(stop, self.linger_s, wake=False)
                continue
            if res in ("sent", "retry"):
                await asyncio.sleep(0)
                continue
            if res == "idle":
                await self._wait(stop, self.interval_s, wake=True)
            else:
                await self._wait(stop, self.next_delay_s, wake=False)

    async def drain(self, max_steps: int = 1_000_000) -> int:
        """Step until nothing is left or an attempt fails; returns the steps taken (for tests)."""
        for n in range(max_steps):
            res = await self.step()
            if res in ("idle", "failed"):
                return n + 1
        return max_steps

    # ------------------------------------------------------------ status
    async def status(self) -> dict[str, Any]:
        last_seq = await self.source.last_seq()
        backlog = max(0, last_seq - self.acked)
        oldest_age_s = None
        oldest_ts = None
        if backlog:
            envs = await self.source.read(self.acked, 1)
            if envs:
                oldest_ts = envs[0].ts
                oldest_age_s = max(0.0, (self.clock.now_us() - oldest_ts) / 1e6)
        rate = self.rate_events_s()
        flight = dict(self.in_flight) if self.in_flight else None
        sending = getattr(self.transport, "sending", None)
        if flight and sending:
            flight["sent_bytes"] = sending["sent"]
        line = getattr(getattr(self.transport, "http", None), "line", None)
        return {
            "store": self.store,
            "acked": self.acked,
            "journal_seq": last_seq,
            "backlog_events": backlog,
            "oldest_unsent_ts": oldest_ts,
            "oldest_unsent_age_s": oldest_age_s,
            "last_success_us": self.last_success_us,
            "clock_offset_s": self.clock_offset_s,
            "last_attempt_us": self.last_attempt_us,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_error_kind": self.last_error_kind,
            "next_retry_s": self.next_delay_s if self.failures else None,
            "sent_batches": self.sent_batches,
            "sent_events": self.sent_events,
            "wire_bytes": self.wire_bytes,
            "wire_bytes_up": getattr(self.transport, "bytes_up", self.wire_bytes),
            "wire_bytes_down": getattr(self.transport, "bytes_down", 0),
            "rate_events_s": round(rate, 2) if rate is not None else None,
            "eta_s": round(backlog / rate) if rate and backlog else (0 if not backlog else None),
            "line_kbit_s": round(self.line_Bps * 8 / 1000, 1) if self.line_Bps else None,
            "batch_target_bytes": int(self.batch_bytes),
            "in_flight": flight,
            "holdings_asked": self.holdings_asked,
            "halted_at": self.halted,
            "yielding": bool(line is not None and line.busy()),
        }


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
