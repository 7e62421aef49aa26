"""Decoding any batch a store may send: version 1 or 2 (``application/vnd.kassa.batch``), or the
JSON form (``application/json``: ``{"store": "S001", "events": [Envelope.to_wire(), ...]}``,
for simple clients and the benchmark's baseline)."""

from __future__ import annotations

import msgspec
import orjson

from domain.journal_format import Record
from domain.upload.batch import Batch, bad, missing_hash
from domain.upload.v1 import decode_v1
from domain.upload.v2 import decode_v2

__all__ = ["decode_batch", "decode_json"]


def decode_batch(raw: bytes) -> Batch:
    """A decompressed batch of either version; ``ProtocolError`` if it is malformed."""
    nl = raw.find(b"\n")
    if nl < 0:
        raise bad("no header line")
    try:
        h = orjson.loads(raw[:nl])
        v = h.get("v")
    except Exception as exc:
        raise bad(f"bad header: {exc}") from None
    if v == 2:
        return decode_v2(h, raw, nl + 1)
    if v != 1:
        raise bad("unknown batch version")
    return decode_v1(h, raw, nl + 1)


def decode_json(raw: bytes) -> Batch:
    """The simple form: ``{"store": ..., "events": [Envelope.to_wire(), ...]}``."""
    try:
        d = orjson.loads(raw)
        store = str(d["store"])
        rows: list[Record] = []
        prefixes: list[bytes] = []
        for e in d["events"]:
            body = e["body"]
            body = body.encode() if isinstance(body, str) else msgspec.json.encode(body)
            rows.append(
                (
                    int(e["seq"]),
                    str(e["id"]),
                    int(e["ts"]),
                    str(e["kind"]),
                    int(e["v"]),
                    str(e["staff"]),
                    str(e["till"]),
                    str(e["ip"]),
                    str(e["agg"]),
                    body,
                )
            )
            prefixes.append(bytes.fromhex(e["hash"]))
    except Exception as exc:
        raise bad(f"bad JSON batch: {exc}") from None
    if not rows:
        raise bad("no events")
    if any(len(p) != 32 for p in prefixes):
        raise missing_hash()
    return Batch(store, rows, prefixes, prefixes[-1])
