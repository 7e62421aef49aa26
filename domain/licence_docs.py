"""The licence's signed documents: HQ's Ed25519 keys (as text, with a short id), the canonical
encoding, the licence file (``Licence``, ``sign_licence``, ``read_licence``, ``check_for_store``)
and the cloud's check result (``CheckResult``, ``sign_result``, ``read_result``), each signed
in its own context so that one can never pass for the other. Pure, no I/O."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import Conflict, InvalidInput

__all__ = [
    "STATUSES",
    "Licence",
    "CheckResult",
    "canonical",
    "key_id",
    "public_key_from",
    "public_key_text",
    "private_key_from",
    "private_key_text",
    "new_private_key",
    "sign_licence",
    "read_licence",
    "licence_from_doc",
    "check_for_store",
    "sign_result",
    "read_result",
]

STATUSES = ("ok", "revoked", "unknown")

_LICENCE_CTX = b"kassa-licence-v1\n"
_RESULT_CTX = b"kassa-licence-check-v1\n"

# ---------------------------------------------------------------- keys


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_text(key: Ed25519PrivateKey) -> str:
    return key.private_bytes_raw().hex()


def private_key_from(text: str | bytes) -> Ed25519PrivateKey:
    try:
        raw = bytes.fromhex(text.decode() if isinstance(text, bytes) else text.strip())
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("licence.bad_key", f"not an Ed25519 private key: {exc}") from None


def public_key_text(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes_raw().hex()


def public_key_from(key: str | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """HQ's public key from a key object, its 64 hex digits, or its 32 raw bytes."""
    if isinstance(key, Ed25519PublicKey):
        return key
    try:
        if isinstance(key, bytes) and len(key) == 32:
            raw = key
        else:
            text = key.decode() if isinstance(key, bytes) else key
            raw = bytes.fromhex(text.strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("licence.bad_key", f"not an Ed25519 public key: {exc}") from None


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """A short fingerprint of HQ's public key, written beside signatures for humans."""
    return hashlib.sha256(bytes.fromhex(public_key_text(key))).hexdigest()[:16]


def canonical(doc: dict[str, Any]) -> bytes:
    """The one byte string a document is signed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: Any, code: str) -> bytes:
    try:
        if not isinstance(s, str):
            raise ValueError("not a string")
        return base64.b64decode(s, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput(code, "the signature is not base64") from None


# ---------------------------------------------------------------- the licence


@dataclass(frozen=True, slots=True)
class Licence:
    licence_id: str
    store_id: str
    valid_from: int  # UTC microseconds
    valid_until: int  # UTC microseconds, exclusive
    grace_days: int
    tills: int
    features: tuple[str, ...] = ()
    issued_at: int = 0  # UTC microseconds, HQ's clock
    # HQ must approve the licence on one install (``domain.licence_activation``); licences issued
    # before activation existed lack the key and need none
    activation: bool = False

    def __post_init__(self) -> None:
        if not self.licence_id or not self.store_id:
            raise InvalidInput("licence.malformed", "a licence needs a licence id and a store id")
        if self.valid_until <= self.valid_from:
            raise InvalidInput("licence.malformed", "valid_until must come after valid_from")
        if self.grace_days < 0 or self.tills < 1:
            raise InvalidInput("licence.malformed", "grace days >= 0 and tills >= 1")

    def to_doc(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = sorted(set(self.features))
        if not self.activation:
            del d["activation"]  # the licence as it was signed before activation existed
        return d

    def has(self, feature: str) -> bool:
        return feature in self.features


_INT_FIELDS = ("valid_from", "valid_until", "grace_days", "tills", "issued_at")


def licence_from_doc(doc: Any) -> Licence:
    """Type-check a licence document (the part that is signed)."""
    if not isinstance(doc, dict):
        raise InvalidInput("licence.malformed", "the licence is not an object")
    try:
        for k in ("licence_id", "store_id"):
            if not isinstance(doc[k], str):
                raise InvalidInput("licence.malformed", f"{k} must be text")
        for k in _INT_FIELDS:
            if type(doc[k]) is not int:
                raise InvalidInput("licence.malformed", f"{k} must be an integer")
        feats = doc.get("features", [])
        if not isinstance(feats, list) or not all(isinstance(f, str) for f in feats):
            raise InvalidInput("licence.malformed", "features must be a list of names")
        activation = doc.get("activation", False)
        if not isinstance(activation, bool):
            raise InvalidInput("licence.malformed", "activation must be true or false")
        return Licence(
            doc["licence_id"],
            doc["store_id"],
            doc["valid_from"],
            doc["valid_until"],
            doc["grace_days"],
            doc["tills"],
            tuple(feats),
            doc["issued_at"],
            activation,
        )
    except KeyError as exc:
        raise InvalidInput("licence.malformed", f"the licence lacks {exc.args[0]}") from None


def sign_licence(lic: Licence, key: Ed25519PrivateKey) -> dict[str, Any]:
    """HQ's side: the licence file (a JSON object) for ``lic``."""
    doc = lic.to_doc()
    sig = key.sign(_LICENCE_CTX + canonical(doc))
    return {
        "format": "kassa-licence",
        "v": 1,
        "licence": doc,
        "alg": "Ed25519",
        "key_id": key_id(key),
        "sig": _b64(sig),
    }


def read_licence(data: bytes | str | dict[str, Any], public_key: Any) -> Licence:
    """Parse a licence file and verify HQ's signature over exactly what it contains."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("licence.malformed", "the licence file is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("licence"), dict):
        raise InvalidInput("licence.malformed", "not a kassa licence file")
    doc = data["licence"]
    sig = _unb64(data.get("sig"), "licence.bad_signature")
    try:
        public_key_from(public_key).verify(sig, _LICENCE_CTX + canonical(doc))
    except (InvalidSignature, ValueError, TypeError):
        raise InvalidInput(
            "licence.bad_signature",
            "the licence signature does not match: the file was changed or was not "
            "issued by this HQ",
        ) from None
    return licence_from_doc(doc)


def check_for_store(
    lic: Licence, store_id: str, now_us: int, revoked: frozenset[str] | set[str] = frozenset()
) -> None:
    """May this (genuine) licence be installed on ``store_id`` now?"""
    if lic.store_id != store_id:
        raise Conflict(
            "licence.wrong_store",
            f"this licence is for store {lic.store_id}, not for {store_id}",
            licence_store=lic.store_id,
            store=store_id,
        )
    if lic.licence_id in revoked:
        raise Conflict("licence.revoked", "HQ has revoked this licence", licence=lic.licence_id)
    if now_us >= lic.valid_until:
        raise Conflict(
            "licence.expired",
            "this licence has already ended",
            licence=lic.licence_id,
            valid_until=lic.valid_until,
        )


# ---------------------------------------------------------------- check results


@dataclass(frozen=True, slots=True)
class CheckResult:
    store_id: str
    licence_id: str
    status: str  # ok | revoked | unknown
    server_time: int  # UTC microseconds, the cloud's clock
    nonce: str  # echoed from the store's request
    reason: str = ""

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


def sign_result(res: CheckResult, key: Ed25519PrivateKey) -> dict[str, Any]:
    if res.status not in STATUSES:
        raise InvalidInput("licence.bad_result", f"unknown status {res.status!r}")
    doc = res.to_doc()
    return {
        "result": doc,
        "key_id": key_id(key),
        "sig": _b64(key.sign(_RESULT_CTX + canonical(doc))),
    }


def read_result(
    data: Any, public_key: Any, *, store_id: str, licence_id: str, nonce: str
) -> CheckResult:
    """The store's side: verify a check result is signed by HQ and answers *this* request."""
    if not isinstance(data, dict) or not isinstance(data.get("result"), dict):
        raise InvalidInput("licence.bad_result", "the cloud's answer is not a check result")
    doc = data["result"]
    sig = _unb64(data.get("sig"), "licence.bad_result")
    try:
        public_key_from(public_key).verify(sig, _RESULT_CTX + canonical(doc))
    except (InvalidSignature, ValueError, TypeError):
        raise InvalidInput("licence.bad_result", "the check result is not signed by HQ") from None
    try:
        res = CheckResult(
            str(doc["store_id"]),
            str(doc["licence_id"]),
            str(doc["status"]),
            doc["server_time"],
            str(doc["nonce"]),
            str(doc.get("reason", "")),
        )
    except KeyError as exc:
        raise InvalidInput("licence.bad_result", f"the check result lacks {exc.args[0]}") from None
    if type(res.server_time) is not int or res.status not in STATUSES:
        raise InvalidInput("licence.bad_result", "malformed check result")
    if res.nonce != nonce:
        raise InvalidInput(
            "licence.bad_result",
            "the check result answers another request (nonce mismatch: replayed?)",
        )
    if res.store_id != store_id or res.licence_id != licence_id:
        raise InvalidInput("licence.bad_result", "the check result is for another store or licence")
    return res
