"""Version 2 of the batch (``"v":2``, what the uploader sends on a slow line): the same events as
version 1 in fewer bytes.

* no hash per event, only ``last``, the full hash of the last event. The cloud recomputes the chain
  from the hash it holds and the events' content and keeps the batch only if it ends exactly at
  ``last``; the request is HMAC-signed, so a hash prefix per event would prove nothing more.
* event ids that are UUIDs travel as 16 raw bytes right after the header line (``"idb": true``).
* an event's kind, version, staff, till and ip are one index (``"mi"``) into the batch's distinct
  tuples (``"meta"``); its ``agg`` one index (``"ai"``) into the batch's distinct aggs (``"na"``
  UUIDs as 16 raw bytes after the ids, else a list ``"aggs"``).
* every JSON body that ``orjson`` reproduces byte for byte is split into a skeleton (its structure
  with every value replaced by ``null``; a table ``"sk"`` with one index per event in ``"bs"``) and
  one column per value path (``"cols"``: ``"<kind>.lines[.sku"`` → all such values of the batch in
  order; a string equal to the event's ``agg`` is written as ``"\\u0001"``). Bodies that do not
  reproduce exactly travel as they are (``bs`` -1, after the binary columns, lengths in ``"len"``).

The cloud rebuilds each body and recomputes its hash, so a wrong rebuild can only be refused, never
stored. Every index is checked against its table, every column must be used up exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from domain.journal_format import Envelope, Record
from domain.upload.batch import (
    Batch,
    ProtocolError,
    bad,
    check_types,
    missing_hash,
    pick,
    ts_deltas,
)

__all__ = ["encode_batch_v2", "decode_v2"]

_AGG = "\x01"


def _shred(obj: Any, path: str, agg: str, cols: dict[str, list[Any]]) -> Any:
    """The skeleton of ``obj`` (values replaced by None); its values appended to ``cols``."""
    if isinstance(obj, dict):
        return {k: _shred(v, f"{path}.{k}", agg, cols) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shred(v, path + "[", agg, cols) for v in obj]
    if obj == _AGG:
        raise ValueError("a value collides with the agg marker")
    cols.setdefault(path, []).append(_AGG if obj == agg and isinstance(obj, str) else obj)
    return None


def _build(skel: Any, path: str, agg: str, cols: dict[str, Iterator[Any]]) -> Any:
    if isinstance(skel, dict):
        return {k: _build(v, f"{path}.{k}", agg, cols) for k, v in skel.items()}
    if isinstance(skel, list):
        return [_build(v, path + "[", agg, cols) for v in skel]
    v = next(cols[path])
    return agg if v == _AGG else v


def _uuid_bytes(ids: Sequence[str]) -> bytes | None:
    out = []
    for i in ids:
        try:
            u = uuid.UUID(i)
        except (ValueError, AttributeError):
            return None
        if str(u) != i:
            return None
        out.append(u.bytes)
    return b"".join(out)


def encode_batch_v2(store: str, envs: Sequence[Envelope]) -> bytes:
    """The uncompressed version-2 batch: slower to build than version 1, about half its size once
    compressed; for slow lines. No per-event hashes: ``last`` only."""
    ts = ts_deltas(envs)
    skels: dict[bytes, int] = {}
    cols: dict[str, list[Any]] = {}
    bs: list[int] = []
    raw_bodies: list[bytes] = []
    for e in envs:
        try:
            obj = orjson.loads(e.body)
            if orjson.dumps(obj) != e.body:
                raise ValueError("not reproducible")
            mine: dict[str, list[Any]] = {}
            sk = orjson.dumps(_shred(obj, e.kind, e.agg, mine))
        except (ValueError, TypeError, orjson.JSONDecodeError):
            bs.append(-1)
            raw_bodies.append(e.body)
            continue
        for k, v in mine.items():
            cols.setdefault(k, []).extend(v)
        bs.append(skels.setdefault(sk, len(skels)))
    ids = _uuid_bytes([e.id for e in envs])
    metas: dict[tuple[str, int, str, str, str], int] = {}
    aggs: dict[str, int] = {}
    head: dict[str, Any] = {
        "v": 2,
        "store": store,
        "first": envs[0].seq,
        "n": len(envs),
        "last": envs[-1].hash.hex(),
        "ts": ts,
        "mi": [metas.setdefault((e.kind, e.v, e.staff, e.till, e.ip), len(metas)) for e in envs],
        "ai": [aggs.setdefault(e.agg, len(aggs)) for e in envs],
        "idb": ids is not None,
        "sk": [orjson.loads(k) for k in skels],
        "bs": bs,
        "cols": cols,
        "len": [len(b) for b in raw_bodies],
    }
    head["meta"] = list(metas)
    agg_bin = _uuid_bytes(list(aggs))
    if agg_bin is None:
        head["aggs"] = list(aggs)
    else:
        head["na"] = len(aggs)
    if ids is None:
        head["id"] = [e.id for e in envs]
    return orjson.dumps(head) + b"\n" + (ids or b"") + (agg_bin or b"") + b"".join(raw_bodies)


def _uuids(raw: bytes, pos: int, n: int) -> list[str]:
    return [str(uuid.UUID(bytes=raw[pos + 16 * i : pos + 16 * i + 16])) for i in range(n)]


def decode_v2(h: dict[str, Any], raw: bytes, pos: int) -> Batch:
    """The batch whose header ``h`` was read; its binary columns start at ``raw[pos]``."""
    try:
        store, first, n = str(h["store"]), int(h["first"]), int(h["n"])
        last = bytes.fromhex(h["last"])
        tss, bs, skels, lens = list(h["ts"]), list(h["bs"]), list(h["sk"]), list(h["len"])
        if n < 1 or first < 1 or "hb" in h or "h" in h or len(tss) != n or len(bs) != n:
            raise bad("inconsistent header")
        if any(type(b) is not int or not -1 <= b < len(skels) for b in bs):
            raise bad("a body index is out of range")
        metas = [tuple(m) for m in h["meta"]]
        if any(len(m) != 5 for m in metas):
            raise bad("inconsistent header")
        kinds, vers, staffs, tills, ips = zip(*pick(metas, h["mi"], n), strict=True)
        if h["idb"]:
            ids = _uuids(raw, pos, n)
            pos += 16 * n
        else:
            ids = list(h["id"])
            if len(ids) != n:
                raise bad("inconsistent header")
        if "aggs" in h:
            table = list(h["aggs"])
        else:
            na = int(h["na"])
            if not 0 < na <= n:
                raise bad("inconsistent header")
            table = _uuids(raw, pos, na)
            pos += 16 * na
        aggs = pick(table, h["ai"], n)
        cols = {k: iter(v) for k, v in h["cols"].items()}
        rows: list[Record] = []
        t, r = 0, 0
        for i in range(n):
            t += tss[i]
            if bs[i] == -1:
                body = raw[pos : pos + lens[r]]
                pos += lens[r]
                r += 1
            else:
                body = orjson.dumps(_build(skels[bs[i]], kinds[i], aggs[i], cols))
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
        if (
            pos != len(raw)
            or r != len(lens)
            or any(next(c, cols) is not cols for c in cols.values())
        ):
            raise bad("the columns and bodies do not add up")
        if len(last) != 32:
            raise missing_hash()
    except ProtocolError:
        raise
    except Exception as exc:  # anything malformed in an untrusted body
        raise bad(f"bad version-2 batch: {type(exc).__name__}") from None
    check_types(rows)
    return Batch(store, rows, [], last)
