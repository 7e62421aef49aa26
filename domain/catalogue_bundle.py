"""HQ's signed catalogue bundles: what HQ publishes and a store pulls, or loads from a USB stick.

A bundle is one file (or one HTTP answer body)::

    KASSA-BUNDLE 1\\n
    <header: one line of JSON>\\n
    <payload: gzip of the payload's JSON>

The header says what the bundle is and for whom, and carries the payload's SHA-256; HQ signs the
header (Ed25519, HQ's licence key) so a store checks the signature over a few hundred bytes and the
hash over the payload, and refuses a bundle that is tampered with, meant for another store or signed
by another key before it reads a single product::

    {"format": 1, "kind": "full" | "delta" | "setup", "store": "S001", "version": 42,
     "base": 41 | null, "created_us": ..., "key_id": "...", "payload_sha256": "...",
     "count": 300000, "sig": "<hex, over the header without sig>"}

(``count``: the products it sends, as rows or as new prices.)

The payload (a dict)::

    full / setup:  {"products": [product dicts], "prices": [scheduled], "store_fields": [...],
                    "profile": {...} | null}
    delta:         the same, "products" holding only products added or changed since ``base``,
                   and "removed": [sku, ...]; HQ repricing: "repriced": [[sku, price], ...] for
                   the products whose price alone changed since ``base`` (not in "products";
                   such a bundle is format 2, which a store before it refuses, as any format it
                   does not read)
    setup:         adds what a new store PC needs: "licence" (a licence file's JSON),
                   "upload_secret", "cloud_url", "hq_public_key", "first_manager"

Product dicts are ``domain.catalogue.product_from_dict``'s (extra HQ keys such as ``brand``,
``spec``, ``tags`` may ride along). ``prices`` are scheduled changes for this store:
``{"sku", "price", "from_us"}`` (UTC microseconds), applied by the store when due.
``store_fields`` names the product fields a store may override locally (HQ's updates never overwrite
a store's own value of such a field).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import InvalidInput

__all__ = [
    "MAGIC",
    "FORMAT",
    "Bundle",
    "pack",
    "unpack",
    "read_header",
    "apply_delta",
]

MAGIC = b"KASSA-BUNDLE 1\n"
FORMAT = 1
FORMATS = (1, 2)  # 2: a delta with "repriced" pairs
MAX_HEADER = 64 * 1024
Kind = Literal["full", "delta", "setup"]
KINDS = ("full", "delta", "setup")


@dataclass(frozen=True, slots=True)
class Bundle:
    kind: Kind
    store: str
    version: int
    base: int | None
    created_us: int
    key_id: str
    payload: dict[str, Any] = field(repr=False)

    @property
    def products(self) -> list[dict[str, Any]]:
        return list(self.payload.get("products") or [])

    @property
    def removed(self) -> list[str]:
        return list(self.payload.get("removed") or [])

    @property
    def prices(self) -> list[dict[str, Any]]:
        return list(self.payload.get("prices") or [])

    @property
    def repriced(self) -> list[list[Any]]:
        """``[sku, price]`` of HQ's products whose price alone changed since ``base``."""
        return list(self.payload.get("repriced") or [])

    @property
    def store_fields(self) -> list[str]:
        return list(self.payload.get("store_fields") or [])


def _key_id(pub: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_part(header: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {k: v for k, v in header.items() if k != "sig"}, option=orjson.OPT_SORT_KEYS
    )


def pack(
    key: Ed25519PrivateKey,
    *,
    kind: Kind,
    store: str,
    version: int,
    payload: dict[str, Any],
    created_us: int,
    base: int | None = None,
    compresslevel: int = 1,
) -> bytes:
    """The signed bundle file's bytes."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}")
    if (kind == "delta") != (base is not None):
        raise ValueError("a delta, and only a delta, has a base version")
    body = gzip.compress(orjson.dumps(payload), compresslevel=compresslevel, mtime=0)
    header: dict[str, Any] = {
        "format": 2 if payload.get("repriced") else FORMAT,
        "kind": kind,
        "store": store,
        "version": int(version),
        "base": base,
        "created_us": int(created_us),
        "key_id": _key_id(key.public_key()),
        "payload_sha256": hashlib.sha256(body).hexdigest(),
        "count": len(payload.get("products") or []) + len(payload.get("repriced") or []),
    }
    header["sig"] = key.sign(_signed_part(header)).hex()
    return MAGIC + orjson.dumps(header) + b"\n" + body


def _bad(code: str, message: str, **ctx: Any) -> InvalidInput:
    return InvalidInput(code, message, **ctx)


def read_header(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header (unverified) and the compressed payload; raises ``catalogue.bad_bundle``."""
    if not data.startswith(MAGIC):
        raise _bad("catalogue.bad_bundle", "this file is not a kassa catalogue bundle")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        raise _bad("catalogue.bad_bundle", "the bundle's header is damaged")
    try:
        header = orjson.loads(data[len(MAGIC) : end])
    except orjson.JSONDecodeError:
        raise _bad("catalogue.bad_bundle", "the bundle's header is damaged") from None
    if not isinstance(header, dict) or header.get("format") not in FORMATS:
        raise _bad("catalogue.bad_bundle", "the bundle's format is not one this store reads")
    return header, data[end + 1 :]


def unpack(data: bytes, public_key_hex: str, *, store: str) -> Bundle:
    """Verify and open a bundle for ``store``. Raises ``InvalidInput``:

    * ``catalogue.bad_bundle`` — not a bundle, or damaged;
    * ``catalogue.bad_signature`` — not signed by HQ's key, or changed after signing (tampered);
    * ``catalogue.foreign_store`` — signed by HQ, but for another store.
    """
    header, body = read_header(data)
    try:
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        pub.verify(bytes.fromhex(str(header.get("sig", ""))), _signed_part(header))
    except (InvalidSignature, ValueError):
        raise _bad(
            "catalogue.bad_signature",
            "the bundle is not signed by this store's HQ, or was changed after signing",
        ) from None
    if hashlib.sha256(body).hexdigest() != header.get("payload_sha256"):
        raise _bad("catalogue.bad_signature", "the bundle's products were changed after signing")
    if header.get("store") != store:
        raise _bad(
            "catalogue.foreign_store",
            f"this bundle is for store {header.get('store')}, not {store}",
            bundle_store=header.get("store"),
        )
    if header.get("kind") not in KINDS:
        raise _bad("catalogue.bad_bundle", "the bundle's kind is unknown")
    try:
        payload = orjson.loads(gzip.decompress(body))
    except (OSError, EOFError, orjson.JSONDecodeError):
        raise _bad("catalogue.bad_bundle", "the bundle's products cannot be read") from None
    if not isinstance(payload, dict):
        raise _bad("catalogue.bad_bundle", "the bundle's products cannot be read")
    return Bundle(
        kind=header["kind"],
        store=header["store"],
        version=int(header["version"]),
        base=None if header.get("base") is None else int(header["base"]),
        created_us=int(header.get("created_us", 0)),
        key_id=str(header.get("key_id", "")),
        payload=payload,
    )


def apply_delta(
    current: dict[str, dict[str, Any]], held_version: int | None, bundle: Bundle
) -> dict[str, dict[str, Any]]:
    """HQ's products (by SKU) after ``bundle``: a full or setup bundle replaces them, a delta
    (its products, removed SKUs and repriced products) must start from the version held
    (``catalogue.delta_base`` otherwise: ask for a full one)."""
    if bundle.kind != "delta":
        return {str(p["sku"]): p for p in bundle.products}
    if bundle.base != held_version:
        raise _bad(
            "catalogue.delta_base",
            f"this update follows version {bundle.base}; the store runs {held_version}",
            base=bundle.base,
            held=held_version,
        )
    out = dict(current)
    for sku in bundle.removed:
        out.pop(sku, None)
    for p in bundle.products:
        out[str(p["sku"])] = p
    for sku, price in bundle.repriced:  # HQ's product until now with its new price
        if sku in out:
            out[sku] = {**out[sku], "price": price}
    return out
