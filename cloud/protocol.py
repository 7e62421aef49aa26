"""The upload wire protocol, shared by the store's uploader and the cloud's ingest endpoint.

Pure Python (hashlib, hmac, orjson, zstandard): the store imports it without aiohttp.

A request is ``POST /v1/ingest`` with

    X-Kassa-Store:      S001                       the store id, as registered at HQ
    X-Kassa-Timestamp:  1767225600                 Unix seconds (UTC) when the request was signed
    X-Kassa-Nonce:      9f1c2a...                  16 random bytes, hex: each request is unique
    X-Kassa-Signature:  hex(HMAC-SHA256(secret,
                            "kassa-v1\\n" + store + "\\n" + timestamp + "\\n" + nonce + "\\n" + body))
    Content-Type:       application/vnd.kassa.batch   (or application/json, see below)
    X-Kassa-Encoding:   zstd | xz                  (optional; the body as sent is what is signed)

The batch (after zstd decompression) is one JSON header line, then the event bodies concatenated::

    {"v":1,"store":"S001","first":101,"n":3,"hb":8,"last":"<64 hex>",
     "id":[...],"ts":[t0, t1-t0, ...],"kind":[...],"ver":[...],"staff":[...],"till":[...],
     "ip":[...],"agg":[...],"h":["<2*hb hex>", ...],"len":[...]}\\n
    <body 1><body 2>...<body n>

Events are consecutive seqs ``first .. first+n-1``; ``ts`` is delta-encoded; ``h`` holds the first
``hb`` bytes of each event's chain hash and ``last`` the full hash of the last event. The cloud
recomputes every hash from the chain it holds (``domain.events.chain_hash``), so a truncated hash per
event is enough to find the first event that does not chain; column-wise layout lets zstd compress
repeated kinds, tills and staff to almost nothing.

Version 2 (``"v":2``, what the uploader sends on a slow line) carries the same events in fewer bytes:

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
  order; a string equal to the event's ``agg`` is written as ``"\u0001"``). Bodies that do not
  reproduce exactly travel as they are (``bs`` -1, after the binary columns, lengths in ``"len"``).

The cloud rebuilds each body and recomputes its hash, so a wrong rebuild can only be refused, never
stored.

A holdings query is ``POST /v1/holdings``, signed like an upload, with the small JSON body
``{"q":"holdings","store":"S001"}``; the answer is ``{"ok": true, "ack": <held>, "head": "<hash of
event ack, hex>"}``. The uploader asks it before resending after an answer it never got.

``application/json`` (uncompressed or zstd) is also accepted for simple clients and the benchmark's
baseline: ``{"store": "S001", "events": [Envelope.to_wire(), ...]}``.

The answer is JSON: ``{"ok": true, "ack": <highest contiguous seq held>, "accepted": k,
"duplicates": d}`` (200), or ``{"ok": false, "code": "...", "message": "...", "ack": ...}`` with 400
(malformed), 401 (unknown store, bad signature, clock outside the window), 403 (body names another
store), 409 (``auth.replay``, ``ingest.gap``, ``ingest.conflict``, ``ingest.chain_broken``). A batch
without its full ``last`` hash, or a version-1 or JSON batch whose events lack their hashes, is
refused whole (400 ``ingest.missing_hash``).
"""

from __future__ import annotations

import hashlib
import hmac
import lzma
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

import msgspec
import orjson
import zstandard

from domain.events import Envelope

__all__ = [
    "BATCH_TYPE", "JSON_TYPE", "H_STORE", "H_TS", "H_SIG", "H_ENC", "H_NONCE", "WINDOW_S", "MAX_BODY", "MAX_RAW",
    "sign", "signed_headers", "verify_signature", "encode_batch", "decode_batch", "decode_json",
    "compress", "compress_xz", "decompress", "Batch", "ProtocolError", "encode_batch_v2",
    "HOLDINGS_TYPE", "holdings_body", "is_holdings",
]

BATCH_TYPE = "application/vnd.kassa.batch"
JSON_TYPE = "application/json"
HOLDINGS_TYPE = "application/vnd.kassa.holdings"
H_STORE = "X-Kassa-Store"
H_TS = "X-Kassa-Timestamp"
H_SIG = "X-Kassa-Signature"
H_NONCE = "X-Kassa-Nonce"
# not Content-Encoding: HTTP servers would decode that before the signature could be checked
H_ENC = "X-Kassa-Encoding"
WINDOW_S = 300  # a request signed more than this far from the cloud's clock is refused
MAX_BODY = 64 * 1024 * 1024  # bytes on the wire
MAX_RAW = 256 * 1024 * 1024  # bytes after decompression

_cctx: dict[int, zstandard.ZstdCompressor] = {}


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _msg(store: str, ts: int | str, nonce: str, body: bytes) -> bytes:
    return (b"kassa-v1\n" + store.encode() + b"\n" + str(ts).encode() + b"\n" + nonce.encode()
            + b"\n" + body)


def sign(secret: bytes, store: str, ts: int | str, nonce: str, body: bytes) -> str:
    return hmac.new(secret, _msg(store, ts, nonce, body), hashlib.sha256).hexdigest()


_HEX_SIG = re.compile(r"[0-9a-fA-F]{64}")


def verify_signature(secret: bytes, store: str, ts: str, nonce: str, body: bytes, sig: str) -> bool:
    """The signature header is exactly 64 hex digits (either case; nothing else); the bytes are
    compared in constant time. Replays are caught by the signed nonce, not by the signature's
    spelling (``cloud.registry.Registry.remember_nonce``)."""
    if _HEX_SIG.fullmatch(sig) is None:
        return False
    want = hmac.new(secret, _msg(store, ts, nonce, body), hashlib.sha256).digest()
    return hmac.compare_digest(want, bytes.fromhex(sig))


def signed_headers(secret: bytes, store: str, now_s: int, body: bytes,
                   content_type: str = BATCH_TYPE, encoding: str | None = "zstd",
                   nonce: str | None = None) -> dict[str, str]:
    nonce = nonce if nonce is not None else os.urandom(16).hex()
    h = {H_STORE: store, H_TS: str(now_s), H_NONCE: nonce,
         H_SIG: sign(secret, store, now_s, nonce, body), "Content-Type": content_type}
    if encoding:
        h[H_ENC] = encoding
    return h


def compress(raw: bytes, level: int = 3) -> bytes:
    c = _cctx.get(level)
    if c is None:
        c = _cctx[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return c.compress(raw)


# ``X-Kassa-Encoding: xz``: raw LZMA2 with these fixed settings (a 1 MiB window: bounded memory on
# both sides, and a sender cannot pick another); about 6 % smaller than zstd -19 on a slow line's
# batches, for CPU the store has to spare there
XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20, "preset": 9 | lzma.PRESET_EXTREME,
               "lc": 4, "lp": 0, "pb": 0}]


def compress_xz(raw: bytes) -> bytes:
    return lzma.compress(raw, format=lzma.FORMAT_RAW, filters=XZ_FILTERS)


def decompress(data: bytes, limit: int = MAX_RAW, encoding: str = "zstd") -> bytes:
    if encoding == "xz":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=XZ_FILTERS)
        try:
            out = d.decompress(data, max_length=limit + 1)
        except lzma.LZMAError as exc:
            raise ProtocolError("ingest.bad_encoding", f"not an LZMA2 stream: {exc}") from None
        if len(out) > limit:
            raise ProtocolError("ingest.too_large", "the batch is too large once decompressed")
        if not d.eof or d.unused_data:
            raise ProtocolError("ingest.bad_encoding", "a truncated or padded LZMA2 stream")
        return out
    try:
        params = zstandard.get_frame_parameters(data)
        if params.content_size > limit:
            raise ProtocolError("ingest.too_large", "the batch is too large once decompressed")
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=limit)
    except zstandard.ZstdError as exc:
        raise ProtocolError("ingest.bad_encoding", f"not a zstd frame: {exc}") from None


# ---------------------------------------------------------------- batch codec

def _ts_deltas(envs: Sequence[Envelope]) -> list[int]:
    """Each event's time as the difference from the one before (the first from 0)."""
    if not envs:
        raise ValueError("an empty batch")
    return [e.ts - (envs[i - 1].ts if i else 0) for i, e in enumerate(envs)]


def encode_batch(store: str, envs: Sequence[Envelope], hash_bytes: int = 8) -> bytes:
    """The uncompressed batch for consecutive envelopes (see the module doc)."""
    ts = _ts_deltas(envs)
    head = {
        "v": 1, "store": store, "first": envs[0].seq, "n": len(envs), "hb": hash_bytes,
        "last": envs[-1].hash.hex(),
        "id": [e.id for e in envs], "ts": ts, "kind": [e.kind for e in envs],
        "ver": [e.v for e in envs], "staff": [e.staff for e in envs],
        "till": [e.till for e in envs], "ip": [e.ip for e in envs], "agg": [e.agg for e in envs],
        "h": [e.hash[:hash_bytes].hex() for e in envs], "len": [len(e.body) for e in envs],
    }
    return orjson.dumps(head) + b"\n" + b"".join(e.body for e in envs)


@dataclass(slots=True)
class Batch:
    store: str
    rows: list[tuple]  # (seq, id, ts, kind, v, staff, till, ip, agg, body) in seq order
    # per event, the first ``hb`` bytes of its hash (version 1 and JSON); empty for version 2,
    # which proves its events by ``last`` alone
    prefixes: list[bytes]
    last: bytes  # full hash of the last event (always given)

    @property
    def first(self) -> int:
        return self.rows[0][0]

    @property
    def last_seq(self) -> int:
        return self.rows[-1][0]


def _bad(msg: str) -> ProtocolError:
    return ProtocolError("ingest.bad_batch", msg)


def _missing_hash() -> ProtocolError:
    return ProtocolError("ingest.missing_hash",
                         "every event must carry its chain hash (and the batch its last full hash)")


def decode_batch(raw: bytes) -> Batch:
    nl = raw.find(b"\n")
    if nl < 0:
        raise _bad("no header line")
    try:
        h = orjson.loads(raw[:nl])
        if h.get("v") == 2:
            return _decode_v2(h, raw, nl + 1)
        if h.get("v") != 1:
            raise _bad("unknown batch version")
        store, first, n, hb = str(h["store"]), int(h["first"]), int(h["n"]), int(h["hb"])
        cols = [h[k] for k in ("id", "ts", "kind", "ver", "staff", "till", "ip", "agg", "h", "len")]
        last = bytes.fromhex(h["last"])
    except ProtocolError:
        raise
    except Exception as exc:
        raise _bad(f"bad header: {exc}") from None
    if n < 1 or first < 1 or not 4 <= hb <= 32 or any(len(c) != n for c in cols):
        raise _bad("inconsistent header")
    ids, tss, kinds, vers, staffs, tills, ips, aggs, hs, lens = cols
    rows: list[tuple] = []
    prefixes: list[bytes] = []
    pos, t = nl + 1, 0
    mv = memoryview(raw)
    try:
        for i in range(n):
            t += tss[i]
            ln = lens[i]
            body = bytes(mv[pos:pos + ln])
            if len(body) != ln:
                raise _bad("truncated bodies")
            pos += ln
            rows.append((first + i, ids[i], t, kinds[i], vers[i], staffs[i], tills[i], ips[i],
                         aggs[i], body))
            prefixes.append(bytes.fromhex(hs[i]))
    except ProtocolError:
        raise
    except Exception as exc:
        raise _bad(f"bad columns: {exc}") from None
    if pos != len(raw):
        raise _bad("trailing bytes after the bodies")
    if len(last) != 32 or any(len(p) != hb for p in prefixes):
        raise _missing_hash()
    _check_types(rows)
    return Batch(store, rows, prefixes, last)


def _check_types(rows: list[tuple]) -> None:
    for r in rows:
        if not (isinstance(r[1], str) and isinstance(r[2], int) and isinstance(r[3], str)
                and isinstance(r[4], int) and all(isinstance(x, str) for x in r[5:9])):
            raise _bad("a column has the wrong type")


# ---------------------------------------------------------------- version 2: fewer bytes

_AGG = "\x01"


def _shred(obj: Any, path: str, agg: str, cols: dict[str, list]) -> Any:
    """The skeleton of ``obj`` (values replaced by None); its values appended to ``cols``."""
    if isinstance(obj, dict):
        return {k: _shred(v, f"{path}.{k}", agg, cols) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shred(v, path + "[", agg, cols) for v in obj]
    if obj == _AGG:
        raise ValueError("a value collides with the agg marker")
    cols.setdefault(path, []).append(_AGG if obj == agg and isinstance(obj, str) else obj)
    return None


def _build(skel: Any, path: str, agg: str, cols: dict[str, Any]) -> Any:
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
    """The uncompressed version-2 batch (see the module doc): slower to build than version 1,
    about half its size once compressed; for slow lines. No per-event hashes: ``last`` only."""
    ts = _ts_deltas(envs)
    skels: dict[bytes, int] = {}
    cols: dict[str, list] = {}
    bs, raw_bodies = [], []
    for e in envs:
        try:
            obj = orjson.loads(e.body)
            if orjson.dumps(obj) != e.body:
                raise ValueError("not reproducible")
            mine: dict[str, list] = {}
            sk = orjson.dumps(_shred(obj, e.kind, e.agg, mine))
        except (ValueError, TypeError, orjson.JSONDecodeError):
            bs.append(-1)
            raw_bodies.append(e.body)
            continue
        for k, v in mine.items():
            cols.setdefault(k, []).extend(v)
        bs.append(skels.setdefault(sk, len(skels)))
    ids = _uuid_bytes([e.id for e in envs])
    metas: dict[tuple, int] = {}
    aggs: dict[str, int] = {}
    head = {
        "v": 2, "store": store, "first": envs[0].seq, "n": len(envs),
        "last": envs[-1].hash.hex(), "ts": ts,
        "mi": [metas.setdefault((e.kind, e.v, e.staff, e.till, e.ip), len(metas)) for e in envs],
        "ai": [aggs.setdefault(e.agg, len(aggs)) for e in envs],
        "idb": ids is not None, "sk": [orjson.loads(k) for k in skels], "bs": bs, "cols": cols,
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


def _pick(table: list, idx: list, n: int) -> list:
    """``table[i]`` for each index (an index outside the table is malformed, not wrapped)."""
    if len(idx) != n or any(not isinstance(i, int) or not 0 <= i < len(table) for i in idx):
        raise _bad("an index outside its table")
    return [table[i] for i in idx]


def _decode_v2(h: dict, raw: bytes, pos: int) -> Batch:
    try:
        store, first, n = str(h["store"]), int(h["first"]), int(h["n"])
        last = bytes.fromhex(h["last"])
        tss, bs, skels, lens = list(h["ts"]), list(h["bs"]), list(h["sk"]), list(h["len"])
        if n < 1 or first < 1 or "hb" in h or "h" in h or len(tss) != n or len(bs) != n:
            raise _bad("inconsistent header")
        if any(type(b) is not int or not -1 <= b < len(skels) for b in bs):
            raise _bad("a body index is out of range")
        metas = [tuple(m) for m in h["meta"]]
        if any(len(m) != 5 for m in metas):
            raise _bad("inconsistent header")
        kinds, vers, staffs, tills, ips = zip(*_pick(metas, h["mi"], n))
        if h["idb"]:
            ids = [str(uuid.UUID(bytes=raw[pos + 16 * i:pos + 16 * i + 16])) for i in range(n)]
            pos += 16 * n
        else:
            ids = list(h["id"])
            if len(ids) != n:
                raise _bad("inconsistent header")
        if "aggs" in h:
            table = list(h["aggs"])
        else:
            na = int(h["na"])
            if not 0 < na <= n:
                raise _bad("inconsistent header")
            table = [str(uuid.UUID(bytes=raw[pos + 16 * i:pos + 16 * i + 16])) for i in range(na)]
            pos += 16 * na
        aggs = _pick(table, h["ai"], n)
        cols = {k: iter(v) for k, v in h["cols"].items()}
        rows, t, r = [], 0, 0
        for i in range(n):
            t += tss[i]
            if bs[i] == -1:
                body = raw[pos:pos + lens[r]]
                pos += lens[r]
                r += 1
            else:
                body = orjson.dumps(_build(skels[bs[i]], kinds[i], aggs[i], cols))
            rows.append((first + i, ids[i], t, kinds[i], vers[i], staffs[i], tills[i], ips[i],
                         aggs[i], body))
        if pos != len(raw) or r != len(lens) or any(next(c, cols) is not cols
                                                     for c in cols.values()):
            raise _bad("the columns and bodies do not add up")
        if len(last) != 32:
            raise _missing_hash()
    except ProtocolError:
        raise
    except Exception as exc:  # anything malformed in an untrusted body
        raise _bad(f"bad version-2 batch: {type(exc).__name__}") from None
    _check_types(rows)
    return Batch(store, rows, [], last)


def holdings_body(store: str) -> bytes:
    return orjson.dumps({"q": "holdings", "store": store})


def is_holdings(raw: bytes, store: str) -> bool:
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return isinstance(d, dict) and d.get("q") == "holdings" and d.get("store") == store


def decode_json(raw: bytes) -> Batch:
    """The simple form: ``{"store": ..., "events": [Envelope.to_wire(), ...]}``."""
    try:
        d = orjson.loads(raw)
        store = str(d["store"])
        rows, prefixes = [], []
        for e in d["events"]:
            body = e["body"]
            body = body.encode() if isinstance(body, str) else msgspec.json.encode(body)
            rows.append((int(e["seq"]), str(e["id"]), int(e["ts"]), str(e["kind"]), int(e["v"]),
                         str(e["staff"]), str(e["till"]), str(e["ip"]), str(e["agg"]), body))
            prefixes.append(bytes.fromhex(e["hash"]))
    except Exception as exc:
        raise _bad(f"bad JSON batch: {exc}") from None
    if not rows:
        raise _bad("no events")
    if any(len(p) != 32 for p in prefixes):
        raise _missing_hash()
    return Batch(store, rows, prefixes, prefixes[-1])


def envelope_rows(envs: Sequence[Envelope]) -> list[dict[str, Any]]:
    return [e.to_wire() for e in envs]
