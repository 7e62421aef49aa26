"""TLS on the shop LAN: the store's own certificate authority, its server certificate, fingerprints.

``kassa store tls enable --data DIR`` makes (once) a CA for this store — an ECDSA P-256 key and
a self-signed certificate valid for 20 years — and a server certificate signed by it for the names
and addresses the tills use (plus ``localhost`` and ``127.0.0.1``). The files live in ``DIR/tls/``
(a folder only the store's account may open; both keys 0600) and ``store.json`` records them as
``"tls": {"cert": "tls/server.pem", "key": "tls/server.key"}``; the next start of the store server
serves HTTPS on its usual port and nothing in clear.

Tills trust the CA, not a list of names: at their first pairing they pin the CA certificate's
SHA-256 fingerprint (``fingerprint``), which ``kassa store tls fingerprint`` prints on the store PC
for the person to compare. Enabling again issues a new server key and certificate from the same CA
(tills stay paired); ``new_ca=True`` replaces the CA too (every till must pair again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from actors.files import atomic_write

__all__ = [
    "CA_DAYS",
    "SERVER_DAYS",
    "TlsFiles",
    "make_ca",
    "make_server_cert",
    "fingerprint",
    "enable",
    "disable",
    "files",
    "server_context",
    "client_context",
    "describe",
]

CA_DAYS = 20 * 365  # the anchor every till pins: it should outlive the store PC
SERVER_DAYS = 10 * 365  # re-issued by `tls enable` (same CA, tills stay paired)
TLS_DIR = "tls"


@dataclass(frozen=True)
class TlsFiles:
    """Where a store's TLS files are (paths inside its data folder)."""

    dir: Path
    ca_cert: Path
    ca_key: Path
    cert: Path  # the server certificate followed by the CA's (the chain a till sees)
    key: Path

    @classmethod
    def of(cls, data_dir: Path) -> TlsFiles:
        d = Path(data_dir) / TLS_DIR
        return cls(d, d / "ca.pem", d / "ca.key", d / "server.pem", d / "server.key")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def make_ca(
    common_name: str, days: int = CA_DAYS, now: dt.datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA key (ECDSA P-256) and its self-signed certificate, for signing server certificates
    only (path length 0)."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kassa"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _san(names: list[str], ips: list[str]) -> x509.SubjectAlternativeName:
    dns = list(dict.fromkeys([*(n.strip().lower() for n in names if n.strip()), "localhost"]))
    addrs = list(
        dict.fromkeys(
            [
                *(ipaddress.ip_address(i.strip()) for i in ips if i.strip()),
                ipaddress.ip_address("127.0.0.1"),
            ]
        )
    )
    return x509.SubjectAlternativeName(
        [*(x509.DNSName(n) for n in dns), *(x509.IPAddress(a) for a in addrs)]
    )


def make_server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: list[str],
    ips: list[str],
    days: int = SERVER_DAYS,
    now: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server key and certificate signed by the CA, naming ``names`` and ``ips`` plus
    localhost and 127.0.0.1; never valid beyond the CA. A bad IP raises ValueError."""
    now = now or _now()
    san = _san(names, ips)
    key = ec.generate_private_key(ec.SECP256R1())
    first = (san.get_values_for_type(x509.DNSName) or ["localhost"])[0]
    end = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kassa"),
                    x509.NameAttribute(NameOID.COMMON_NAME, first[:64]),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(end)
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()  # type: ignore[arg-type]  # our CA key is EC P-256
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def fingerprint(cert: x509.Certificate | bytes) -> str:
    """SHA-256 of the certificate (DER, or PEM text), as ``AB:CD:…`` — what
    ``openssl x509 -noout -fingerprint -sha256`` prints."""
    if isinstance(cert, x509.Certificate):
        der = cert.public_bytes(serialization.Encoding.DER)
    elif cert.lstrip().startswith(b"-----"):
        der = x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
    else:
        der = cert
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_dir(d: Path) -> None:
    """The TLS folder: only the store's account may enter it, so a key is never readable by
    anyone else, not even for the moment between writing it and setting its mode."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    atomic_write(path, _key_pem(key))
    os.chmod(path, 0o600)


def _store_json(data_dir: Path) -> dict:
    from actors.store_file import load_config

    load_config(data_dir)  # a first `tls enable` before any start creates the default file
    return orjson.loads((Path(data_dir) / "store.json").read_bytes())


def enable(
    data_dir: Path,
    names: list[str] | None = None,
    ips: list[str] | None = None,
    new_ca: bool = False,
    days: int = SERVER_DAYS,
) -> dict:
    """Make the CA (if there is none, or ``new_ca``) and a fresh server key and certificate, and
    record them in store.json. Returns what ``describe`` says about them, plus ``new_ca``."""
    from actors.store_file import update_store_json

    data_dir = Path(data_dir)
    if names is None:
        host = socket.gethostname()
        names = [host, f"{host}.local"] if host and "." not in host else [host]
    _san(names, ips or [])  # a bad address is refused before anything is written
    doc = _store_json(data_dir)
    f = TlsFiles.of(data_dir)
    _private_dir(f.dir)
    made_ca = new_ca or not (f.ca_cert.exists() and f.ca_key.exists())
    if made_ca:
        ca_key, ca_cert = make_ca(f"kassa store {doc.get('store_id', '')} CA")
        _write_key(f.ca_key, ca_key)
        atomic_write(f.ca_cert, _pem(ca_cert))
    else:
        ca_cert = x509.load_pem_x509_certificate(f.ca_cert.read_bytes())
        loaded = serialization.load_pem_private_key(f.ca_key.read_bytes(), None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{f.ca_key} is not an ECDSA key")
        ca_key = loaded
    key, cert = make_server_cert(ca_key, ca_cert, names, ips or [], days)
    _write_key(f.key, key)
    atomic_write(f.cert, _pem(cert) + _pem(ca_cert))
    update_store_json(
        data_dir, tls={"cert": f"{TLS_DIR}/server.pem", "key": f"{TLS_DIR}/server.key"}
    )
    return {**describe(data_dir), "new_ca": made_ca}


def disable(data_dir: Path) -> bool:
    """Serve plain HTTP from the next start. The CA stays, so enabling again keeps the tills'
    pins. Returns whether TLS was on."""
    from actors.store_file import update_store_json

    doc = _store_json(data_dir)
    if "tls" not in doc:
        return False
    update_store_json(Path(data_dir), tls=None)
    return True


def files(data_dir: Path) -> tuple[Path, Path] | None:
    """(certificate chain, key) from store.json's ``tls``, or None when TLS is off."""
    try:
        doc = orjson.loads((Path(data_dir) / "store.json").read_bytes())
    except (OSError, ValueError):
        return None
    tls = doc.get("tls")
    if not isinstance(tls, dict):
        return None
    return Path(data_dir) / tls["cert"], Path(data_dir) / tls["key"]


def server_context(data_dir: Path) -> ssl.SSLContext | None:
    """The gateway's TLS context, or None when TLS is off. Missing or unreadable files raise:
    a store that was told to use TLS never falls back to serving in clear."""
    paths = files(data_dir)
    if paths is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths[0], paths[1])
    return ctx


def client_context(data_dir: Path) -> ssl.SSLContext:
    """For tools on the store PC (status, the demo, tests): trust this store's CA, check names."""
    return ssl.create_default_context(cafile=str(TlsFiles.of(data_dir).ca_cert))


def describe(data_dir: Path) -> dict:
    """The CA's fingerprint and the server certificate's names and validity (for the CLI)."""
    f = TlsFiles.of(data_dir)
    ca = x509.load_pem_x509_certificate(f.ca_cert.read_bytes())
    out: dict = {
        "enabled": files(data_dir) is not None,
        "ca_fingerprint": fingerprint(ca),
        "ca_until": ca.not_valid_after_utc.isoformat(),
        "ca_file": str(f.ca_cert),
    }
    if f.cert.exists():
        cert = x509.load_pem_x509_certificate(f.cert.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        out["names"] = [
            *san.get_values_for_type(x509.DNSName),
            *map(str, san.get_values_for_type(x509.IPAddress)),
        ]
        out["until"] = cert.not_valid_after_utc.isoformat()
    return out
