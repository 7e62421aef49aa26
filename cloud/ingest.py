"""Ingest: authenticate a store's upload, check it continues the store's chain, keep it durably.

Each store has its own SQLite file ``<data>/stores/<id>/events.sqlite`` (WAL, synchronous=FULL),
one row per event keyed by seq, holding exactly what the store's journal holds (including the chain
hash, recomputed here): the events table of ``domain.journal_format``, which the journal shares.
Batches are decoded by ``domain.upload``, the protocol the store's uploader encodes with. The cloud
only ever holds a gap-free prefix ``1..held`` of each store's journal.

Rules for a batch ``first..last``:

* ``first > held + 1`` — a gap: refused with ``ingest.gap`` and ``ack = held``; the uploader resends
  from ``held + 1``. (Out-of-order batches are refused, not parked: the store still has them, so
  holding them here would only duplicate its journal.)
* events at or below ``held`` must be exact repeats (same recomputed hash): ignored and counted as
  duplicates. A different event under an existing seq is refused (``ingest.conflict``) with an
  alert.
* events above ``held`` must chain from the held head: the hash recomputed here must match the one
  the store sent. The valid prefix is kept; at the first break the rest is refused
  (``ingest.chain_broken``) with an alert. A repeat whose sent hash differs from its own is a break
  too.
* the recomputed hash of the batch's last event must equal the full ``last`` hash it carries. A
  version-2 batch carries no hash per event, so there nothing else proves its new events: if the
  chain does not end at ``last``, none of them is kept (``ingest.chain_broken`` at the first new
  seq).
* every version-1 or JSON event must carry its hash, and every batch its full ``last`` (the whole
  batch is refused with ``ingest.missing_hash`` otherwise);
  a request's nonce is remembered per store, so a replay is refused however it is re-encoded.

The answer always carries ``ack``: the highest contiguous seq held after the batch.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud.hqauth import private_dir, private_file
from cloud.registry import Registry, valid_store_id
from domain.journal_format import COLUMNS, GENESIS, chain_hash, events_table_sql
from domain.upload import (
    BATCH_TYPE,
    H_ENC,
    H_NONCE,
    H_SIG,
    H_STORE,
    H_TS,
    HOLDINGS_TYPE,
    JSON_TYPE,
    MAX_BODY,
    WINDOW_S,
    Batch,
    ProtocolError,
    decode_batch,
    decode_json,
    decompress,
    is_holdings,
    valid_nonce,
    verify_signature,
)

__all__ = ["EventLog", "Ingestor", "Reply"]

log = logging.getLogger(__name__)

SCHEMA = (
    events_table_sql()
    + """\
CREATE TABLE IF NOT EXISTS uploads (
    received INTEGER NOT NULL,
    first    INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    accepted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
)


@dataclass(slots=True)
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200


def _refuse(status: int, code: str, message: str, **extra: Any) -> Reply:
    return Reply(status, {"ok": False, "code": code, "message": message, **extra})


class EventLog:
    """One store's events as the cloud holds them. Not thread-safe: the ingestor locks per store."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        private_file(self.path)  # a copy of a store's journal: personal data
        self.con = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.execute("PRAGMA busy_timeout=10000")
        self.con.executescript(SCHEMA)
        row = self.con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self.held: int = row[0] if row else 0
        self.head: bytes = bytes(row[1]) if row else GENESIS
        r = self.con.execute("SELECT max(received) FROM uploads").fetchone()
        self.last_upload_us: int | None = r[0] if r else None

    def close(self) -> None:
        self.con.close()

    def hashes(self, lo: int, hi: int) -> dict[int, bytes]:
        return {
            s: bytes(h)
            for s, h in self.con.execute(
                "SELECT seq, hash FROM events WHERE seq BETWEEN ? AND ?", (lo, hi)
            )
        }

    def read(self, after: int = 0, limit: int = 10_000) -> list[tuple]:
        return self.con.execute(
            f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        ).fetchall()

    def last_event_ts(self) -> int | None:
        r = self.con.execute("SELECT ts FROM events WHERE seq = ?", (self.held,)).fetchone()
        return r[0] if r else None

    @staticmethod
    def _claims(batch: Batch, i: int, h: bytes) -> bool:
        """Event ``i``'s recomputed hash ``h`` agrees with the hash the batch claims for it, if it
        claims one per event (version 2 claims only ``last``, checked after the loop)."""
        if not batch.prefixes:
            return True
        p = batch.prefixes[i]
        return bool(p) and h[: len(p)] == p

    def ingest(self, batch: Batch, now_us: int) -> tuple[str, dict[str, Any]]:
        """Apply a batch; returns (outcome, details), outcome ok | gap | conflict | chain_broken."""
        rows, first = batch.rows, batch.first
        for i, r in enumerate(rows):
            if r[0] != first + i:
                raise ProtocolError("ingest.bad_batch", "seqs in a batch must be consecutive")
        if first > self.held + 1:
            return "gap", {"expected": self.held + 1, "got": first}
        dup = 0
        prev = self.head
        if first <= self.held:  # the part the cloud already holds: exact repeats only
            upto = min(batch.last_seq, self.held)
            stored = self.hashes(first - 1, upto)
            prev = GENESIS if first == 1 else stored[first - 1]
            for i, r in enumerate(rows[: upto - first + 1]):
                h = chain_hash(prev, *r)
                if h != stored[r[0]]:
                    return "conflict", {"seq": r[0]}
                if not self._claims(batch, i, h):  # the same event, but another claimed hash
                    return "chain_broken", {"seq": r[0], "accepted": 0, "duplicates": dup}
                prev = h
                dup += 1
        # every new event: its hash recomputed from its content and the previous hash must be the
        # one the store sent (version 1); the batch's last hash is checked in full (every version)
        new, broken = [], None
        for i in range(dup, len(rows)):
            r = rows[i]
            h = chain_hash(prev, *r)
            if not self._claims(batch, i, h):
                broken = r[0]
                break
            new.append((*r, h))
            prev = h
        if broken is None and prev != batch.last:
            if batch.prefixes:  # the events before the last one are proven by their own hashes
                broken = batch.last_seq
                new = new[:-1]
            else:  # nothing but ``last`` proves them: none of the new events is kept
                broken = new[0][0] if new else batch.last_seq
                new = []
            prev = new[-1][10] if new else self.head
        if new:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                self.con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", new)
                self.con.execute(
                    "INSERT INTO uploads VALUES (?,?,?,?)",
                    (now_us, new[0][0], new[-1][0], len(new)),
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.held, self.head = new[-1][0], prev
        if new or dup:
            self.last_upload_us = now_us
        if broken is not None:
            return "chain_broken", {"seq": broken, "accepted": len(new), "duplicates": dup}
        return "ok", {"accepted": len(new), "duplicates": dup}


@dataclass
class Stats:
    requests: int = 0
    events_accepted: int = 0
    events_duplicate: int = 0
    batches_accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    busy_s: float = 0.0  # time spent decoding, verifying and committing accepted batches

    def to_dict(self) -> dict[str, Any]:
        d = {
            k: getattr(self, k)
            for k in (
                "requests",
                "events_accepted",
                "events_duplicate",
                "batches_accepted",
                "busy_s",
            )
        }
        d["refused"] = dict(self.refused)
        d["ingest_events_per_s"] = (self.events_accepted / self.busy_s) if self.busy_s else 0.0
        return d


class Ingestor:
    """The ingest endpoint without HTTP (thread-safe): ``handle(headers, body) -> Reply``."""

    def __init__(
        self,
        data_dir: Path | str,
        registry: Registry,
        clock: Any,
        window_s: int = WINDOW_S,
        on_accept: Callable[[str, int], None] | None = None,
    ) -> None:
        self.dir = Path(data_dir)
        self.registry = registry
        self.clock = clock
        self.window_s = window_s
        self.on_accept = on_accept
        self.logs: dict[str, EventLog] = {}
        self.locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.stats = Stats()

    def close(self) -> None:
        with self._guard:
            for lg in self.logs.values():
                lg.close()
            self.logs.clear()

    def log_path(self, store: str) -> Path:
        return self.dir / "stores" / store / "events.sqlite"

    def event_log(self, store: str) -> tuple[EventLog, threading.Lock]:
        with self._guard:
            lg = self.logs.get(store)
            if lg is None:
                lg = self.logs[store] = EventLog(self.log_path(store))
                self.locks[store] = threading.Lock()
            return lg, self.locks[store]

    def _count(self, code: str) -> None:
        self.stats.refused[code] = self.stats.refused.get(code, 0) + 1

    def handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        self.stats.requests += 1
        reply = self._handle(headers, body)
        if not reply.ok:
            self._count(reply.body.get("code", "?"))
        return reply

    def _handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        refused = self.authenticate(headers, body)
        if refused is not None:
            return refused
        store, now_us = headers[H_STORE], self.clock.now_us()
        if headers.get("Content-Type", "").split(";")[0].strip() == HOLDINGS_TYPE:
            return self._holdings(store, body)
        return self._batch(store, headers, body, now_us)

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Reply | None:
        """None when the request is signed by the registered store it names, inside the time
        window, with a nonce not seen before; the refusal otherwise. Other store-proven routes
        (a catalogue pull) check their requests with it too."""
        now_us = self.clock.now_us()
        store = headers.get(H_STORE, "")
        ts = headers.get(H_TS, "")
        sig = headers.get(H_SIG, "")
        nonce = headers.get(H_NONCE, "")
        if not store or not ts or not sig or not nonce:
            return _refuse(401, "auth.missing", "the request is not signed")
        if not valid_nonce(nonce):
            return _refuse(401, "auth.bad_nonce", "the nonce is 16 to 64 letters, digits, - or _")
        entry = self.registry.store(store) if valid_store_id(store) else None
        if entry is None or not entry.active:
            return _refuse(401, "auth.unknown_store", "this store is not registered")
        if len(body) > MAX_BODY:
            return _refuse(413, "ingest.too_large", "the request body is too large")
        if not verify_signature(entry.secret, store, ts, nonce, body, sig):
            return _refuse(401, "auth.bad_signature", "the signature does not match")
        try:
            ts_s = int(ts)
        except ValueError:
            return _refuse(401, "auth.bad_timestamp", "the timestamp is not an integer")
        skew = ts_s - now_us / 1_000_000
        if abs(skew) > self.window_s:
            return _refuse(
                401,
                "auth.stale",
                "the request was signed outside the time window",
                skew_s=round(skew, 3),
                window_s=self.window_s,
            )
        if not self.registry.remember_nonce(store, nonce, now_us, self.window_s):
            return _refuse(409, "auth.replay", "this request (its nonce) was already received")
        return None

    def _batch(self, store: str, headers: Mapping[str, str], body: bytes, now_us: int) -> Reply:
        t0 = time.perf_counter()
        try:
            enc = headers.get(H_ENC, "")
            raw = decompress(body, encoding=enc) if enc in ("zstd", "xz") else body
            ctype = headers.get("Content-Type", BATCH_TYPE).split(";")[0].strip()
            batch = decode_json(raw) if ctype == JSON_TYPE else decode_batch(raw)
        except ProtocolError as exc:
            return _refuse(400, exc.code, exc.message)
        if batch.store != store:
            self.registry.alert(
                store,
                "auth.store_mismatch",
                0,
                f"signed as {store} but the batch names {batch.store}",
                now_us,
            )
            return _refuse(403, "auth.store_mismatch", "the batch belongs to another store")
        lg, lock = self.event_log(store)
        with lock:
            try:
                outcome, info = lg.ingest(batch, now_us)
            except ProtocolError as exc:
                return _refuse(400, exc.code, exc.message, ack=lg.held)
            held = lg.held
        dt = time.perf_counter() - t0
        if outcome == "ok":
            self.stats.busy_s += dt
            self.stats.batches_accepted += 1
            self.stats.events_accepted += info["accepted"]
            self.stats.events_duplicate += info["duplicates"]
            if info["accepted"] and self.on_accept:
                self.on_accept(store, held)
            return Reply(200, {"ok": True, "ack": held, **info})
        if outcome == "gap":
            return _refuse(
                409, "ingest.gap", f"expected seq {info['expected']}, got {info['got']}", ack=held
            )
        if outcome == "conflict":
            msg = f"seq {info['seq']} differs from the event already held"
            log.error("store %s: %s", store, msg)
            self.registry.alert(store, "ingest.conflict", info["seq"], msg, now_us)
            return _refuse(409, "ingest.conflict", msg, ack=held, seq=info["seq"])
        msg = f"the hash chain breaks at seq {info['seq']}"
        log.error("store %s: %s", store, msg)
        self.registry.alert(store, "ingest.chain_broken", info["seq"], msg, now_us)
        if info["accepted"] and self.on_accept:
            self.on_accept(store, held)
        return _refuse(
            409, "ingest.chain_broken", msg, ack=held, seq=info["seq"], accepted=info["accepted"]
        )

    def _holdings(self, store: str, body: bytes) -> Reply:
        """What the cloud holds of this store: the uploader asks before resending after a lost
        answer, and checks ``head`` against its own journal."""
        if not is_holdings(body, store):
            return _refuse(400, "ingest.bad_query", "not a holdings query for this store")
        lg, lock = self.event_log(store)
        with lock:
            return Reply(200, {"ok": True, "ack": lg.held, "head": lg.head.hex()})

    def store_status(self, store: str) -> dict[str, Any]:
        lg, lock = self.event_log(store)
        with lock:
            return {
                "store": store,
                "held": lg.held,
                "last_upload_us": lg.last_upload_us,
                "last_event_ts": lg.last_event_ts(),
            }
