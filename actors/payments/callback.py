"""Providers' callbacks: ``POST /v1/payments/callback/{provider}`` signed with that provider's
secret (``<data>/payments/<provider>.secret``, 32 random bytes as hex, 0600 in a 0700 folder,
made on first use; give the same secret to the provider).

Headers: ``X-Kassa-Timestamp`` (Unix seconds) and ``X-Kassa-Signature`` — the hex HMAC-SHA256 of
``"<timestamp>." + body`` under the secret; a timestamp more than ``WINDOW_S`` away from the
store's clock is refused, so an old message cannot be replayed later. Body:
``{"key": "<the tender's key>", "result": "success" | "fail", "reference": "...", "last4": ""}``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from actors.files import make_private
from actors.staff import _owner_secret
from domain.errors import Forbidden, NotFound

__all__ = ["SIG_HEADER", "TS_HEADER", "WINDOW_S", "provider_secret", "sign", "verify"]

SIG_HEADER, TS_HEADER = "X-Kassa-Signature", "X-Kassa-Timestamp"
WINDOW_S = 300
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def check_provider_name(name: str) -> str:
    if not _NAME.match(name):
        raise NotFound("payment.unknown_provider", "no such payment provider", provider=name[:40])
    return name


def provider_secret(data_dir: Path, provider: str) -> bytes:
    """The provider's callback secret (made on first use, owner-only)."""
    folder = Path(data_dir) / "payments"
    make_private(folder)
    return _owner_secret(folder / f"{check_provider_name(provider)}.secret")


def sign(secret: bytes, ts: int, body: bytes) -> str:
    return hmac.new(secret, str(ts).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, ts_text: str, signature: str, body: bytes, now: float) -> None:
    """Refuse (``payment.bad_signature``, 403) a message not signed with ``secret`` or signed
    more than ``WINDOW_S`` from ``now``."""
    try:
        ts = int(ts_text)
    except ValueError:
        raise Forbidden("payment.bad_signature", "no valid timestamp") from None
    if abs(now - ts) > WINDOW_S:
        raise Forbidden("payment.bad_signature", "the message is too old or too new")
    if not hmac.compare_digest(sign(secret, ts, body), signature.strip().lower()):
        raise Forbidden("payment.bad_signature", "the signature does not match")
