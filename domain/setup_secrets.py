"""The secrets a setup bundle carries to a new store PC, sealed with a one-time setup code.

A setup bundle (``domain.catalogue_bundle``, kind ``setup``) travels on a USB stick or by mail.
Its catalogue may be read by anyone who holds the stick, but the store's upload secret, its first
manager's PIN and anything else secret are sealed: ``seal(secrets, code)`` derives a key from the
setup code (scrypt) and encrypts with ChaCha20-Poly1305; HQ tells the installer the code apart from
the stick (phone, printed slip). ``open_sealed`` refuses a wrong code or a changed box with
``setup.bad_code``.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from domain.errors import InvalidInput

__all__ = ["new_setup_code", "seal", "open_sealed"]

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
_N, _R, _P = 2**15, 8, 1


def new_setup_code(groups: int = 4) -> str:
    """A code like ``7KQ2-M9XD-4HTR-PW3B`` (80 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(groups))


def _key(code: str, salt: bytes) -> bytes:
    norm = code.replace("-", "").replace(" ", "").upper().encode()
    return Scrypt(salt=salt, length=32, n=_N, r=_R, p=_P).derive(norm)


def seal(data: dict[str, Any], code: str) -> dict[str, str]:
    salt, nonce = os.urandom(16), os.urandom(12)
    box = ChaCha20Poly1305(_key(code, salt)).encrypt(nonce, orjson.dumps(data), b"kassa-setup")
    enc = base64.b64encode
    return {
        "kdf": "scrypt",
        "salt": enc(salt).decode(),
        "nonce": enc(nonce).decode(),
        "box": enc(box).decode(),
    }


def open_sealed(sealed: dict[str, str], code: str) -> dict[str, Any]:
    try:
        salt = base64.b64decode(sealed["salt"])
        nonce = base64.b64decode(sealed["nonce"])
        box = base64.b64decode(sealed["box"])
        out = orjson.loads(ChaCha20Poly1305(_key(code, salt)).decrypt(nonce, box, b"kassa-setup"))
    except (InvalidTag, KeyError, ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput(
            "setup.bad_code", "the setup code is wrong, or the setup file was changed"
        ) from None
    if not isinstance(out, dict):
        raise InvalidInput(
            "setup.bad_code", "the setup code is wrong, or the setup file was changed"
        )
    return out
