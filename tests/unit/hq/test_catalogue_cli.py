"""``kassa store catalogue import / status`` with the store server stopped: the command applies a
bundle itself, under the data folder's lock, with the same checks; a refusal changes nothing."""

from __future__ import annotations

from actors.catalogue import Catalogue
from actors.files import atomic_write
from actors.store_file import load_config, public_key_path
from bundlekit import TestHQ, product, tamper
from kassa_cli.main import main


def make_store(tmp_path, hq: TestHQ):
    data = tmp_path / "store"
    load_config(data, store_id="S001")
    atomic_write(public_key_path(data), (hq.public + "\n").encode())
    return data


def prices(data) -> dict[str, int]:
    cat = Catalogue(data, load_config(data))
    return {p.sku: p.price for p in cat.snapshot()[1]}


def test_import_with_the_server_stopped_applies_and_status_shows_it(tmp_path, capsys):
    hq = TestHQ()
    data = make_store(tmp_path, hq)
    f = tmp_path / "v4.bundle"
    f.write_bytes(hq.bundle("S001", 4, [product("A", 100), product("B", 250)]))
    assert main(["store", "catalogue", "import", str(f), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "catalogue version 4 applied (2 products" in out and "server stopped" in out
    assert prices(data) == {"A": 100, "B": 250}
    assert main(["store", "catalogue", "status", "--data", str(data)]) == 0
    assert "HQ catalogue     version 4 (from usb" in capsys.readouterr().out


def test_a_tampered_bundle_is_refused_with_the_registered_words(tmp_path, capsys):
    hq = TestHQ()
    data = make_store(tmp_path, hq)
    f = tmp_path / "v1.bundle"
    f.write_bytes(hq.bundle("S001", 1, [product("A", 100)]))
    assert main(["store", "catalogue", "import", str(f), "--data", str(data)]) == 0
    f.write_bytes(tamper(hq.bundle("S001", 2, [product("A", 1)])))
    assert main(["store", "catalogue", "import", str(f), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "REFUSED catalogue.bad_signature: This catalogue was changed after HQ signed it" in err
    assert prices(data) == {"A": 100}


def test_pull_without_a_cloud_link_says_so(tmp_path, capsys):
    data = make_store(tmp_path, TestHQ())
    assert main(["store", "catalogue", "pull", "--data", str(data)]) == 1
    assert "REFUSED catalogue.not_linked" in capsys.readouterr().err
