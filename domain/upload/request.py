"""A signed request to HQ: its headers, signature, nonce, time window and size limits.

    X-Kassa-Store:      S001                       the store id, as registered at HQ
    X-Kassa-Timestamp:  1767225600                 Unix seconds (UTC) when the request was signed
    X-Kassa-Nonce:      9f1c2a...                  16 random bytes, hex: each request is unique
    X-Kassa-Signature:  hex(HMAC-SHA256(secret, "kassa-v1\\n" + store + "\\n"
                            + timestamp + "\\n" + nonce + "\\n" + body))
    Content-Type:       application/vnd.kassa.batch  (or application/json, or the holdings query)
    X-Kassa-Encoding:   zstd | xz                  (optional; the body as sent is what is signed)

HQ refuses a request signed more than ``WINDOW_S`` from its clock, a nonce it has seen from that
store within the window (a replay, however the body is re-encoded), and bodies over ``MAX_BODY``.
The holdings query (``POST /v1/holdings``) is signed the same way; its body is ``holdings_body``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

import orjson

__all__ = [
    "BATCH_TYPE",
    "JSON_TYPE",
    "HOLDINGS_TYPE",
    "H_STORE",
    "H_TS",
    "H_SIG",
    "H_NONCE",
    "H_ENC",
    "WINDOW_S",
    "MAX_BODY",
    "MAX_RAW",
    "sign",
    "verify_signature",
    "signed_headers",
    "valid_nonce",
    "holdings_body",
    "is_holdings",
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

_HEX_SIG = re.compile(r"[0-9a-fA-F]{64}")
_NONCE = re.compile(r"[0-9A-Za-z_-]{16,64}")


def _msg(store: str, ts: int | str, nonce: str, body: bytes) -> bytes:
    return (
        b"kassa-v1\n"
        + store.encode()
        + b"\n"
        + str(ts).encode()
        + b"\n"
        + nonce.encode()
        + b"\n"
        + body
    )


def sign(secret: bytes, store: str, ts: int | str, nonce: str, body: bytes) -> str:
    return hmac.new(secret, _msg(store, ts, nonce, body), hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, store: str, ts: str, nonce: str, body: bytes, sig: str) -> bool:
    """The signature header is exactly 64 hex digits (either case; nothing else); the bytes are
    compared in constant time. Replays are caught by the signed nonce, not by the signature's
    spelling (HQ remembers each store's nonces for the window)."""
    if _HEX_SIG.fullmatch(sig) is None:
        return False
    want = hmac.new(secret, _msg(store, ts, nonce, body), hashlib.sha256).digest()
    return hmac.compare_digest(want, bytes.fromhex(sig))


def valid_nonce(nonce: str) -> bool:
    """A nonce is 16 to 64 letters, digits, - or _."""
    return _NONCE.fullmatch(nonce) is not None


def signed_headers(
    secret: bytes,
    store: str,
    now_s: int,
    body: bytes,
    content_type: str = BATCH_TYPE,
    encoding: str | None = "zstd",
    nonce: str | None = None,
) -> dict[str, str]:
    nonce = nonce if nonce is not None else os.urandom(16).hex()
    h = {
        H_STORE: store,
        H_TS: str(now_s),
        H_NONCE: nonce,
        H_SIG: sign(secret, store, now_s, nonce, body),
        "Content-Type": content_type,
    }
    if encoding:
        h[H_ENC] = encoding
    return h


def holdings_body(store: str) -> bytes:
    return orjson.dumps({"q": "holdings", "store": store})


def is_holdings(raw: bytes, store: str) -> bool:
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return isinstance(d, dict) and d.get("q") == "holdings" and d.get("store") == store
