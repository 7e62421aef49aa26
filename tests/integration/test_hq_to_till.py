"""From HQ to the till, end to end on loopback with the real cloud (``cloud.app`` with master data
and publishing) and a real store server:

* HQ creates a store (``kassa admin store create``): one command on the new store PC with the setup
  bundle (``kassa store setup``) brings up a store that sells within a minute;
* HQ edits a product and schedules a price effective now, publishes; the running store pulls it
  within its interval and a till sells at the new price, while a basket opened before keeps the
  price it scanned; a price scheduled for later comes into force at its time without a publish;
* with the cloud unreachable, a USB bundle (``kassa admin bundle export``) is loaded with ``kassa
  store catalogue import``; a tampered copy is refused and nothing changes.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from actors.process import StoreProcess
from actors.store_file import update_store_json
from bundlekit import ean, tamper
from domain.ports import SystemClock
from gwkit import Api, new_id, sign_in
from hqstandin import ServerThread
from storekit import kassa, wait_for

pytestmark = pytest.mark.ray
STORE = "S001"
PULL_S = 3


def hq_product(i: int, price: int) -> dict[str, Any]:
    return {
        "sku": f"HQ{i:03d}",
        "names": {"en": f"HQ product {i}", "th": f"สินค้า {i}"},
        "price": price,
        "barcodes": [ean(500_000 + i)],
        "category": "Drinks",
        "tax_class": "std",
    }


class Chain:
    def __init__(self, tmp: Path) -> None:
        from cloud.app import AUTH, make_app

        self.tmp = tmp
        self.hq = tmp / "hq"
        self.hq.mkdir(mode=0o700)
        self.cloud = ServerThread(lambda: make_app(self.hq)).start()
        assert self.cloud.app is not None
        self.token = self.cloud.app[AUTH].token
        self.data = tmp / "store"
        self.store: StoreProcess | None = None

    def master(self) -> Any:
        from cloud.master import MasterData

        return MasterData(self.hq, SystemClock())

    def publish(self) -> int:
        r = requests.post(
            self.cloud.url + "/v1/hq/publish",
            json={"stores": [STORE], "note": "test"},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return int(r.json()["version"])


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = Chain(tmp_path_factory.mktemp("chain"))
    m = c.master()
    try:
        m.upsert_products([hq_product(i, 1000 + 10 * i) for i in range(20)], "hq-test")
    finally:
        m.close()
    setup = c.tmp / "S001.setup"
    r = kassa(
        *("admin", "store", "create", "--id", STORE, "--name", "Riverside"),
        *("--zone", "Asia/Bangkok", "--currency", "THB", "--tills", "3", "--days", "30"),
        *("--cloud-url", c.cloud.url, "--manager-id", "boss", "--manager-name", "Boss"),
        *("--out", str(setup), "--hq", str(c.hq)),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    c.code = re.search(r"setup code[^:]*: (\S+)", r.stdout).group(1)  # type: ignore[attr-defined,union-attr]
    c.setup_file = setup  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        if c.store is not None:
            c.store.stop()
        c.cloud.close()


def pay(api: Api) -> dict:
    total = api.ok(api.get(f"/v1/tills/{api.till}/basket"))["total"]
    tenders = [{"kind": "cash", "amount": total + 10_000}]
    return api.ok(api.cmd("pay", {"tenders": tenders}))["order"]


def test_a_new_store_from_a_setup_bundle_sells_within_a_minute(chain):
    bad = kassa(
        *("store", "setup", "--bundle", str(chain.setup_file), "--data", str(chain.data)),
        *("--code", "AAAA-BBBB-CCCC-DDDD"),
    )
    assert bad.returncode == 1 and "REFUSED setup.bad_code" in bad.stderr
    assert not chain.data.exists()  # a refused setup leaves nothing
    t0 = time.monotonic()
    r = kassa(
        *("store", "setup", "--bundle", str(chain.setup_file), "--data", str(chain.data)),
        *("--code", chain.code),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    pin = re.search(r"first manager  boss, PIN (\S+)", r.stdout).group(1)  # type: ignore[union-attr]
    chain.pin = pin
    update_store_json(chain.data, catalogue_pull_s=PULL_S)  # the test's interval (default 60 s)
    chain.store = StoreProcess(chain.data, demo=False).start()
    boss = sign_in(chain.store.url, "boss", "T1", pin=pin)
    boss.ok(boss.post("/v1/day/open", {"id": new_id(), "till": "T1", "float": 0}))
    view = boss.ok(boss.cmd("scan", {"code": ean(500_003)}))["view"]
    assert view["lines"][-1]["sku"] == "HQ003" and view["lines"][-1]["unit_price"] == 1030
    order = pay(boss)
    took = time.monotonic() - t0
    assert order["total"] == 1030
    assert took < 60, f"from the setup bundle to a sale took {took:.0f} s"
    st = boss.ok(boss.get("/v1/catalogue/status"))
    assert st["source"] == "setup" and st["version"] is not None
    again = kassa(
        *("store", "setup", "--bundle", str(chain.setup_file), "--data", str(chain.data)),
        *("--code", chain.code),
    )
    assert again.returncode == 1 and "REFUSED setup.not_empty" in again.stderr


def test_an_hq_edit_published_reaches_the_till_while_an_open_basket_keeps_its_price(chain):
    assert chain.store is not None, "the setup test runs first"
    url = chain.store.url
    t1 = sign_in(url, "boss", "T1", pin=chain.pin)
    t2 = sign_in(url, "boss", "T2", pin=chain.pin)
    t2.ok(t2.post("/v1/day/open", {"id": new_id(), "till": "T2", "float": 0}))
    code = ean(500_005)
    assert t1.ok(t1.cmd("scan", {"code": code}))["view"]["lines"][-1]["unit_price"] == 1050
    # HQ: a new product, a renamed one, a price effective now and another one in 20 s
    m = chain.master()
    try:
        now = SystemClock().now_us()
        m.upsert_products(
            [hq_product(100, 4321), {**hq_product(5, 1050), "names": {"en": "Renamed"}}], "hq"
        )
        m.add_price({"sku": "HQ005", "group": "default", "price": 1290, "from_us": now}, "hq")
        later = now + 20_000_000
        m.add_price({"sku": "HQ006", "group": "default", "price": 999, "from_us": later}, "hq")
    finally:
        m.close()
    published = time.monotonic()
    version = chain.publish()
    st = wait_for(
        lambda: (s := t2.ok(t2.get("/v1/catalogue/status")))["version"] == version and s,
        60,
        "the store to pull the publication",
    )
    assert time.monotonic() - published < 60
    assert st["source"] == "hq" and st["error"] is None and st["scheduled_prices"] >= 1
    lines = t2.ok(t2.cmd("scan", {"code": ean(500_100)}))["view"]["lines"]
    lines = t2.ok(t2.cmd("scan", {"code": code}))["view"]["lines"]
    assert [(x["sku"], x["unit_price"]) for x in lines] == [("HQ100", 4321), ("HQ005", 1290)]
    assert lines[-1]["names"]["en"] == "Renamed"
    assert pay(t2)["total"] == 4321 + 1290
    # the basket opened before keeps the price it scanned
    assert pay(t1)["total"] == 1050
    # the price scheduled for later comes into force at its time, without a publish
    assert t1.ok(t1.get(f"/v1/products/{ean(500_006)}"))["price"] == 1060
    wait_for(
        lambda: t1.ok(t1.get(f"/v1/products/{ean(500_006)}"))["price"] == 999,
        90,
        "the scheduled price",
    )
    assert time.time_ns() // 1000 >= later


def test_a_usb_bundle_with_the_cloud_unreachable_and_a_tampered_one_refused(chain):
    assert chain.store is not None, "the setup test runs first"
    boss = sign_in(chain.store.url, "boss", "T2", pin=chain.pin)
    chain.cloud.stop()
    m = chain.master()
    try:
        m.upsert_products([hq_product(200, 777)], "hq")
    finally:
        m.close()
    r = kassa("admin", "publish", "--store", STORE, "--hq", str(chain.hq))
    assert r.returncode == 0, r.stdout + r.stderr
    usb = chain.tmp / "usb.bundle"
    r = kassa(
        "admin", "bundle", "export", "--store", STORE, "--out", str(usb), "--hq", str(chain.hq)
    )
    assert r.returncode == 0, r.stdout + r.stderr
    before = boss.ok(boss.get("/v1/catalogue/status"))
    bad = chain.tmp / "usb-tampered.bundle"
    bad.write_bytes(tamper(usb.read_bytes()))
    r = kassa("store", "catalogue", "import", str(bad), "--data", str(chain.data))
    assert r.returncode == 1 and "REFUSED catalogue.bad_signature" in r.stderr
    assert boss.get(f"/v1/products/{ean(500_200)}").status_code == 404
    assert boss.ok(boss.get("/v1/catalogue/status"))["version"] == before["version"]
    r = kassa("store", "catalogue", "import", str(usb), "--data", str(chain.data))
    assert r.returncode == 0, r.stdout + r.stderr
    st = boss.ok(boss.get("/v1/catalogue/status"))
    assert st["source"] == "usb" and st["version"] > before["version"]
    view = boss.ok(boss.cmd("scan", {"code": ean(500_200)}))["view"]
    assert view["lines"][-1]["unit_price"] == 777
    assert pay(boss)["total"] == 777
