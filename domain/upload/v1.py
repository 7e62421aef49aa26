"""Version 1 of the batch: one JSON header line of columns, then the event bodies concatenated.

    {"v":1,"store":"S001","first":101,"n":3,"hb":8,"last":"<64 hex>",
     "id":[...],"ts":[t0, t1-t0, ...],"kind":[...],"ver":[...],"staff":[...],"till":[...],
     "ip":[...],"agg":[...],"h":["<2*hb hex>", ...],"len":[...]}\\n
    <body 1><body 2>...<body n>

Events are consecutive seqs ``first .. first+n-1``; ``ts`` is delta-encoded; ``h`` holds the first
``hb`` bytes of each event's chain hash and ``last`` the full hash of the last event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain.journal_format import Envelope, Record
from domain.upload.batch import Batch, ProtocolError, bad, check_types, missing_hash, ts_deltas

__all__ = ["encode_batch", "decode_v1"]

_COLS = ("id", "ts", "kind", "ver", "staff", "till", "ip", "agg", "h", "len")


def encode_batch(store: str, envs: Sequence[Envelope], hash_bytes: int = 8) -> bytes:
    """The uncompressed version-1 batch for consecutive envelopes."""
    ts = ts_deltas(envs)
    head = {
        "v": 1,
        "store": store,
        "first": envs[0].seq,
        "n": len(envs),
        "hb": hash_bytes,
        "last": envs[-1].hash.hex(),
        "id": [e.id for e in envs],
        "ts": ts,
        "kind": [e.kind for e in envs],
        "ver": [e.v for e in envs],
        "staff": [e.staff for e in envs],
        "till": [e.till for e in envs],
        "ip": [e.ip for e in envs],
        "agg": [e.agg for e in envs],
        "h": [e.hash[:hash_bytes].hex() for e in envs],
        "len": [len(e.body) for e in envs],
    }
    return orjson.dumps(head) + b"\n" + b"".join(e.body for e in envs)


def decode_v1(h: dict[str, Any], raw: bytes, pos: int) -> Batch:
    """The batch whose header ``h`` was read; its bodies start at ``raw[pos]``."""
    try:
        store, first, n, hb = str(h["store"]), int(h["first"]), int(h["n"]), int(h["hb"])
        cols = [h[k] for k in _COLS]
        last = bytes.fromhex(h["last"])
    except Exception as exc:
        raise bad(f"bad header: {exc}") from None
    if n < 1 or first < 1 or not 4 <= hb <= 32 or any(len(c) != n for c in cols):
        raise bad("inconsistent header")
    ids, tss, kinds, vers, staffs, tills, ips, aggs, hs, lens = cols
    rows: list[Record] = []
    prefixes: list[bytes] = []
    t = 0
    mv = memoryview(raw)
    try:
        for i in range(n):
            t += tss[i]
            ln = lens[i]
            body = bytes(mv[pos : pos + ln])
            if len(body) != ln:
                raise bad("truncated bodies")
            pos += ln
            rows.append(
                (
                    first + i,
                    ids[i],
                    t,
                    kinds[i],
                    vers[i],
                    staffs[i],
                    tills[i],
                    ips[i],
                    aggs[i],
                    body,
                )
            )
            prefixes.append(bytes.fromhex(hs[i]))
    except ProtocolError:
        raise
    except Exception as exc:
        raise bad(f"bad columns: {exc}") from None
    if pos != len(raw):
        raise bad("trailing bytes after the bodies")
    if len(last) != 32 or any(len(p) != hb for p in prefixes):
        raise missing_hash()
    check_types(rows)
    return Batch(store, rows, prefixes, last)
