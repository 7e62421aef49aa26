"""``kassa admin store create / publish / bundle export`` on an HQ folder: the setup file carries
a signed catalogue and profile, and sealed secrets only the printed code opens; nothing in HQ's
folder or the file holds the code or the PIN in clear."""

from __future__ import annotations

import re

from cloud.licence import LicenceAuthority
from cloud.master import MasterData
from cloud.registry import Registry
from domain.catalogue_bundle import unpack
from domain.licence import read_licence
from domain.setup_secrets import open_sealed
from kassa_cli.main import main


def _products(hq) -> None:
    m = MasterData(hq)
    try:
        m.upsert_products(
            [
                {"sku": f"A{i}", "names": {"en": f"P{i}", "th": "ไทย"}, "price": 100 + i}
                for i in range(5)
            ],
            "test",
        )
    finally:
        m.close()


def test_store_create_writes_a_sealed_setup_bundle(tmp_path, capsys) -> None:
    hq = tmp_path / "hq"
    _products(hq)
    out = tmp_path / "S009.setup"
    rc = main(
        ["admin", "store", "create", "--id", "S009", "--name", "Riverside", "--zone",
         "Asia/Bangkok", "--currency", "THB", "--group", "north", "--tills", "2", "--days", "30",
         "--cloud-url", "http://127.0.0.1:9", "--manager-name", "Somchai", "--manager-lang", "th",
         "--out", str(out), "--hq", str(hq)]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    code = re.search(r"setup code.*: (\S+)", text)
    assert code is not None and "m1" in text
    auth = LicenceAuthority(hq)
    b = unpack(out.read_bytes(), auth.public_key_text(), store="S009")
    assert b.kind == "setup" and len(b.products) == 5
    p = b.payload
    assert p["profile"]["zone"] == "Asia/Bangkok" and p["profile"]["group"] == "north"
    assert p["cloud_url"] == "http://127.0.0.1:9"
    assert p["hq_public_key"] == auth.public_key_text()
    secrets_ = open_sealed(p["sealed"], code.group(1))
    reg = Registry(hq)
    try:
        entry = reg.store("S009")
    finally:
        reg.close()
    assert entry is not None and bytes.fromhex(secrets_["upload_secret"]) == entry.secret
    lic = read_licence(secrets_["licence"], auth.key.public_key())
    assert (lic.store_id, lic.tills) == ("S009", 2)
    manager = secrets_["first_manager"]
    assert (manager["id"], manager["name"], manager["lang"]) == ("m1", "Somchai", "th")
    assert re.fullmatch(r"\d{6}", manager["pin"])
    for path in [out, *hq.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert code.group(1).encode() not in data, path
            assert f'"pin":"{manager["pin"]}"'.encode() not in data, path
    # a second create of the same store is refused and changes nothing
    assert main(["admin", "store", "create", "--id", "S009", "--name", "x", "--cloud-url", "u",
                 "--out", str(tmp_path / "again"), "--hq", str(hq)]) == 1  # fmt: skip
    assert not (tmp_path / "again").exists()


def test_publish_preview_and_export(tmp_path, capsys) -> None:
    hq = tmp_path / "hq"
    _products(hq)
    m = MasterData(hq)
    m.put_store_profile({"id": "S001", "name": "One", "zone": "UTC", "currency": "THB"}, "t")
    m.close()
    assert main(["admin", "publish", "--preview", "--hq", str(hq)]) == 0
    assert "S001: since nothing published: 5 added" in capsys.readouterr().out
    assert main(["admin", "publish", "--note", "first", "--hq", str(hq)]) == 0
    assert "published catalogue version 1 to S001" in capsys.readouterr().out
    m = MasterData(hq)
    m.upsert_products([{"sku": "A1", "names": {"en": "P1", "th": "ไทย"}, "price": 999}], "t")
    m.close()
    assert main(["admin", "publish", "--preview", "--store", "S001", "--hq", str(hq)]) == 0
    assert "~ A1  price: 101 -> 999" in capsys.readouterr().out
    assert main(["admin", "publish", "--hq", str(hq)]) == 0
    usb = tmp_path / "usb" / "S001.bundle"
    assert main(["admin", "bundle", "export", "--store", "S001", "--out", str(usb), "--full",
                 "--hq", str(hq)]) == 0  # fmt: skip
    b = unpack(usb.read_bytes(), LicenceAuthority(hq).public_key_text(), store="S001")
    assert (b.kind, b.version, len(b.products)) == ("full", 2, 5)
    assert main(["admin", "bundle", "export", "--store", "S404", "--out", str(usb),
                 "--hq", str(hq)]) == 1  # fmt: skip
    assert "catalogue.none_published" in capsys.readouterr().err
