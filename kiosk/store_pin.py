"""The till's trust in an https:// store (``StorePin``): at the first connection it records the
store CA's certificate and SHA-256 fingerprint (trust on first use) and from then on accepts only a
server whose certificate chain leads to that CA. Re-exported by ``kiosk.client``."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import ssl
import threading
import time
from pathlib import Path

from domain.error_codes import Tls
from kiosk.api_errors import ApiError, Offline

__all__ = ["StorePin", "ca_fingerprint"]

log = logging.getLogger("kiosk.client")  # the logger's name from before the split


def ca_fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate (DER) as ``AB:CD:…``, as ``kassa store tls fingerprint``
    prints."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def _peer_chain(sock: ssl.SSLSocket) -> list[bytes]:
    """The certificates the server sent (DER), leaf first, before any verification."""
    chain = getattr(sock, "get_unverified_chain", None)  # Python 3.13+
    if chain is not None:
        return [bytes(c) for c in chain() or ()]
    obj = sock._sslobj  # type: ignore[attr-defined]  # 3.10–3.12: the same call, not yet public
    return [
        c.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        for c in obj.get_unverified_chain() or ()
    ]


class StorePin:
    """The store CA this till trusts, kept in the till's folder (``path``; None: this run only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.ca_pem = ""
        self.fingerprint = ""
        self.paired_now = False  # paired during this run: show the fingerprint to compare
        self._lock = threading.Lock()
        if path is not None and path.exists():
            try:
                doc = json.loads(path.read_text())
                ca_pem, fp = str(doc["ca_pem"]), str(doc["ca_sha256"])
                ok = ca_fingerprint(ssl.PEM_cert_to_DER_cert(ca_pem)) == fp
            except (OSError, ValueError, KeyError, TypeError):
                ok, ca_pem, fp = False, "", ""
            # a damaged pin refuses the store rather than pairing again with whoever answers
            self.ca_pem, self.fingerprint = (ca_pem, fp) if ok else ("", "damaged")

    @property
    def pinned(self) -> bool:
        return bool(self.fingerprint)

    def context(self, host: str, port: int, timeout: float) -> ssl.SSLContext:
        """A TLS context that trusts only the pinned CA, pairing first if nothing is pinned."""
        with self._lock:
            if not self.pinned:
                self.set(self._first_contact(host, port, timeout))
                self.paired_now = True
                log.warning(
                    "paired with the store at %s:%d, CA fingerprint %s",
                    host,
                    port,
                    self.fingerprint,
                )
            if not self.ca_pem:
                raise ApiError(
                    Tls.UNTRUSTED,
                    f"this till's saved store key ({self.path}) is "
                    "damaged: forget it and pair again",
                    0,
                )
        return self._trusting(self.ca_pem)

    def set(self, ca_pem: str) -> None:
        """Pin ``ca_pem`` (also for pairing from a CA file copied off the store PC)."""
        self.ca_pem = ca_pem
        self.fingerprint = ca_fingerprint(ssl.PEM_cert_to_DER_cert(ca_pem))
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(
                json.dumps(
                    {
                        "ca_sha256": self.fingerprint,
                        "ca_pem": ca_pem,
                        "paired_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    indent=1,
                )
            )
            os.replace(tmp, self.path)

    def forget(self) -> None:
        self.ca_pem = self.fingerprint = ""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    @staticmethod
    def _trusting(ca_pem: str) -> ssl.SSLContext:
        # the pinned CA signs only this store's certificates, so it (not a name the store PC may
        # lose with a new address) is what is checked
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = False
        ctx.load_verify_locations(cadata=ca_pem)
        return ctx

    def _first_contact(self, host: str, port: int, timeout: float) -> str:
        """The CA certificate the store sends at the end of its chain; its signature on the
        server's certificate is checked by a second handshake that trusts only it."""
        bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        bare.check_hostname, bare.verify_mode = False, ssl.CERT_NONE
        try:
            with socket.create_connection((host, port), timeout) as raw, bare.wrap_socket(raw) as s:
                chain = _peer_chain(s)
            if len(chain) < 2:
                raise ApiError(Tls.NO_CA, "the store sent no CA certificate to pair with")
            ca_pem = ssl.DER_cert_to_PEM_cert(chain[-1])
            with (
                socket.create_connection((host, port), timeout) as raw,
                self._trusting(ca_pem).wrap_socket(raw),
            ):
                pass
        except ssl.SSLCertVerificationError as exc:
            raise ApiError(
                Tls.UNTRUSTED, f"the store's chain does not hold together: {exc.verify_message}"
            ) from None
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
            raise Offline(str(exc)) from None
        except ssl.SSLError as exc:
            raise ApiError(Tls.FAILED, f"no TLS from the store: {exc.reason}") from None
        except OSError as exc:
            raise Offline(str(exc)) from None
        return ca_pem
