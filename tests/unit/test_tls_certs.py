"""The store's own CA and server certificate (actors/tls.py): what they say, how long they last,
where they are written and who may read the keys. No server, no network."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from actors import tls

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName), [
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    ]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ca_is_a_p256_ca_for_twenty_years_that_signs_only_end_certificates():
    key, ca = tls.make_ca("kassa store S1 CA", now=NOW)
    assert isinstance(key.curve, ec.SECP256R1)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)  # self-signed
    assert ca.not_valid_before_utc <= NOW
    assert ca.not_valid_after_utc - NOW >= dt.timedelta(days=20 * 365)


def test_the_server_certificate_names_what_it_was_given_plus_localhost_and_is_signed_by_the_ca():
    ca_key, ca = tls.make_ca("CA", now=NOW)
    _, cert = tls.make_server_cert(
        ca_key, ca, ["Store-PC.local", "kasse"], ["192.168.1.10", "fd00::10"], now=NOW
    )
    dns, ips = sans(cert)
    assert dns == ["store-pc.local", "kasse", "localhost"]
    assert ips == ["192.168.1.10", "fd00::10", "127.0.0.1"]
    cert.verify_directly_issued_by(ca)
    assert cert.issuer == ca.subject
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage
    ).value == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    assert cert.not_valid_before_utc <= NOW
    assert cert.not_valid_after_utc - NOW >= dt.timedelta(days=10 * 365 - 1)
    # never valid beyond the CA that vouches for it
    _, longer = tls.make_server_cert(ca_key, ca, [], [], days=100 * 365, now=NOW)
    assert longer.not_valid_after_utc == ca.not_valid_after_utc
    assert sans(longer) == (["localhost"], ["127.0.0.1"])


def test_a_bad_address_is_refused():
    ca_key, ca = tls.make_ca("CA", now=NOW)
    with pytest.raises(ValueError):
        tls.make_server_cert(ca_key, ca, [], ["192.168.1.300"])


def test_the_fingerprint_is_the_sha256_of_the_ca_certificate_as_openssl_prints_it():
    _, ca = tls.make_ca("CA", now=NOW)
    der = ca.public_bytes(serialization.Encoding.DER)
    want = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert tls.fingerprint(ca) == tls.fingerprint(der) == want
    assert tls.fingerprint(ca.public_bytes(serialization.Encoding.PEM)) == want
    from kiosk.client import ca_fingerprint  # the till computes the same thing

    assert ca_fingerprint(der) == want


def test_enable_writes_owner_only_keys_records_them_and_keeps_the_ca_when_run_again(tmp_path):
    data = tmp_path / "store"
    first = tls.enable(data, ["store-pc.local"], ["192.168.1.10"])
    f = tls.TlsFiles.of(data)
    assert first["new_ca"] and first["enabled"]
    assert mode(f.ca_key) == 0o600 and mode(f.key) == 0o600 and mode(f.dir) == 0o700
    doc = orjson.loads((data / "store.json").read_bytes())
    assert doc["tls"] == {"cert": "tls/server.pem", "key": "tls/server.key"}
    assert tls.files(data) == (f.cert, f.key)
    assert {"store-pc.local", "localhost", "192.168.1.10", "127.0.0.1"} <= set(first["names"])
    # the chain file is the server's certificate, then the CA's (what a till pins from)
    chain = x509.load_pem_x509_certificates(f.cert.read_bytes())
    assert [c.subject for c in chain] == [chain[0].subject, chain[1].issuer]
    assert tls.fingerprint(chain[1]) == first["ca_fingerprint"]
    assert tls.server_context(data) is not None

    old_key = f.key.read_bytes()
    again = tls.enable(data, ["store-pc.local"], [])
    assert not again["new_ca"] and again["ca_fingerprint"] == first["ca_fingerprint"]
    assert f.key.read_bytes() != old_key and mode(f.key) == 0o600
    assert "192.168.1.10" not in again["names"]  # the names given this time, no others

    rotated = tls.enable(data, None, [], new_ca=True)
    assert rotated["new_ca"] and rotated["ca_fingerprint"] != first["ca_fingerprint"]
    assert mode(f.ca_key) == 0o600


def test_disable_turns_tls_off_keeps_the_ca_and_the_other_settings(tmp_path):
    data = tmp_path / "store"
    on = tls.enable(data, ["s"], [])
    from actors.server import update_store_json

    update_store_json(data, auth={"max_failures": 3})
    assert tls.disable(data) and not tls.disable(data)
    doc = orjson.loads((data / "store.json").read_bytes())
    assert "tls" not in doc and doc["auth"] == {"max_failures": 3}
    assert tls.files(data) is None and tls.server_context(data) is None
    assert tls.TlsFiles.of(data).ca_key.exists()
    assert tls.enable(data, ["s"], [])["ca_fingerprint"] == on["ca_fingerprint"]


def test_a_store_told_to_use_tls_does_not_start_in_clear_without_its_files(tmp_path):
    data = tmp_path / "store"
    tls.enable(data, ["s"], [])
    tls.TlsFiles.of(data).key.unlink()
    with pytest.raises(OSError):
        tls.server_context(data)


def test_the_till_pin_survives_a_restart_and_a_damaged_pin_refuses_rather_than_pairs(tmp_path):
    from kiosk.client import ApiError, StorePin

    _, ca = tls.make_ca("CA", now=NOW)
    pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    pin = StorePin(tmp_path / "pin.json")
    assert not pin.pinned
    pin.set(pem)
    again = StorePin(tmp_path / "pin.json")
    assert again.fingerprint == tls.fingerprint(ca) and not again.paired_now
    doc = orjson.loads((tmp_path / "pin.json").read_bytes())
    doc["ca_sha256"] = "00" + doc["ca_sha256"][2:]
    (tmp_path / "pin.json").write_bytes(orjson.dumps(doc))
    damaged = StorePin(tmp_path / "pin.json")
    assert damaged.pinned  # it does not count as "never paired"
    with pytest.raises(ApiError) as exc:
        damaged.context("127.0.0.1", 9, 1.0)  # refused before any connection is tried
    assert exc.value.code == "tls.untrusted"
    damaged.forget()
    assert not (tmp_path / "pin.json").exists() and not damaged.pinned
