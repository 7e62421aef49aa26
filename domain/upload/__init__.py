"""The upload protocol between a store and HQ, one definition for the store's uploader and the
cloud's ingest endpoint. Pure Python (hashlib, hmac, lzma, orjson, msgspec, zstandard).

``POST /v1/ingest`` carries a signed request (``domain.upload.request``: store, timestamp, nonce,
HMAC-SHA256 signature; ``X-Kassa-Encoding`` zstd or xz, ``domain.upload.compression``) whose body is
a batch of consecutive journal events: version 1 (``domain.upload.v1``: columns and bodies, a hash
prefix per event) or version 2 (``domain.upload.v2``: fewer bytes for a slow line — skeletons and
value columns, only the last hash), or the JSON form (``domain.upload.codec.decode_json``). Each
decodes to a ``Batch`` (``domain.upload.batch``); every event is a record of
``domain.journal_format``, whose chain hash the cloud recomputes from the chain it holds
(``chain_hash``), so a wrong decoding can only be refused, never stored.

A holdings query is ``POST /v1/holdings``, signed like an upload, with the small JSON body
``{"q":"holdings","store":"S001"}``; the answer is ``{"ok": true, "ack": <held>, "head": "<hash of
event ack, hex>"}``. The uploader asks it before resending after an answer it never got.

The answer to an upload is JSON: ``{"ok": true, "ack": <highest contiguous seq held>, "accepted":
k, "duplicates": d}`` (200), or ``{"ok": false, "code": "...", "message": "...", "ack": ...}`` with
400 (malformed), 401 (unknown store, bad signature, clock outside the window: ``auth.stale`` with
``skew_s``), 403 (body names another store), 409 (``auth.replay``, ``ingest.gap``,
``ingest.conflict``, ``ingest.chain_broken``). A batch without its full ``last`` hash, or a
version-1 or JSON batch whose events lack their hashes, is refused whole (400
``ingest.missing_hash``).
"""

from domain.upload.batch import Batch, ProtocolError
from domain.upload.codec import decode_batch, decode_json
from domain.upload.compression import XZ_FILTERS, compress, compress_xz, decompress
from domain.upload.request import (
    BATCH_TYPE,
    H_ENC,
    H_NONCE,
    H_SIG,
    H_STORE,
    H_TS,
    HOLDINGS_TYPE,
    JSON_TYPE,
    MAX_BODY,
    MAX_RAW,
    WINDOW_S,
    holdings_body,
    is_holdings,
    sign,
    signed_headers,
    valid_nonce,
    verify_signature,
)
from domain.upload.v1 import encode_batch
from domain.upload.v2 import encode_batch_v2

__all__ = [
    "BATCH_TYPE",
    "JSON_TYPE",
    "HOLDINGS_TYPE",
    "H_STORE",
    "H_TS",
    "H_SIG",
    "H_ENC",
    "H_NONCE",
    "WINDOW_S",
    "MAX_BODY",
    "MAX_RAW",
    "XZ_FILTERS",
    "sign",
    "signed_headers",
    "verify_signature",
    "valid_nonce",
    "encode_batch",
    "encode_batch_v2",
    "decode_batch",
    "decode_json",
    "compress",
    "compress_xz",
    "decompress",
    "Batch",
    "ProtocolError",
    "holdings_body",
    "is_holdings",
]
