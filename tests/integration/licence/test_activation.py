"""Licence activation end to end over real HTTP on loopback: HQ's cloud (``kassa cloud serve``)
and a real store server (``kassa store serve``) with a licence HQ issued for 2 tills and the
``wallet`` feature only.

The store asks HQ on its own (every second here: ``KASSA_ACTIVATION_POLL_S``); its day does not
open until HQ approves; then it does. A second install of the same licence is refused, a forged
activation is refused, a third till is refused, the big screen (not licensed) is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from actors.licence import HttpTransport, LicenceKeeper
from actors.process import StoreProcess, free_port
from actors.server import update_store_json
from actors.store_file import load_public_key
from domain.licence import new_private_key
from domain.licence_activation import Activation, sign_activation
from domain.ports import SystemClock
from gwkit import error_code, new_id, sign_in
from storekit import kassa, wait_for

pytestmark = pytest.mark.timeout(900)


class Cloud:
    def __init__(self, hq: Path) -> None:
        self.hq, self.port = hq, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(hq.parent / "cloud.log", "ab")  # noqa: SIM115 - the process keeps it
        cmd = [sys.executable, "-m", "kassa_cli.main", "cloud", "serve", "--data", str(hq)]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT
        )
        wait_for(self._up, 120, "the cloud")
        self.token = (hq / "hq_token").read_text().strip()

    def _up(self) -> bool:
        try:
            return requests.get(self.url + "/v1/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def call(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return requests.request(method, self.url + path, json=body, headers=headers, timeout=60)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def _health(srv: StoreProcess) -> dict:
    return requests.get(srv.url + "/v1/health", timeout=60).json()["licence"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("act")
    data, hq = root / "shop", root / "shop-hq"
    demo = StoreProcess(data, products=300).start(timeout=300)  # staff, T1 open, HQ's key
    demo.stop()
    cloud = Cloud(hq)
    update_store_json(data, cloud_url=cloud.url)
    lic = root / "two.licence"
    out = kassa(
        *("admin", "licence", "create", "--store", "S001", "--days", "30", "--tills", "2"),
        *("--features", "wallet", "--id", "LIC-S001-TWO", "--out", str(lic), "--hq", str(hq)),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    out = kassa("store", "licence", "install", str(lic), "--data", str(data))
    assert out.returncode == 0 and "licence.not_activated" in out.stdout, out.stdout
    old = os.environ.get("KASSA_ACTIVATION_POLL_S")
    os.environ["KASSA_ACTIVATION_POLL_S"] = "1"
    try:
        srv = StoreProcess(data, port=demo.port, demo=False).start(timeout=300)
    finally:
        if old is None:
            os.environ.pop("KASSA_ACTIVATION_POLL_S")
        else:
            os.environ["KASSA_ACTIVATION_POLL_S"] = old
    try:
        yield {"srv": srv, "cloud": cloud, "data": data, "hq": hq, "root": root}
    finally:
        srv.stop()
        cloud.stop()


def _pending(cloud: Cloud) -> list[dict]:
    r = cloud.call("GET", "/v1/hq/activations?status=pending")
    assert r.status_code == 200, r.text
    return r.json()["activations"]


def test_pending_refuses_the_day_then_hq_approves_and_it_opens(shop):
    srv, cloud = shop["srv"], shop["cloud"]
    lic = wait_for(lambda: (h := _health(srv)).get("code") != "licence.starting" and h, 120)
    assert lic["ok"] is False and lic["code"] == "licence.not_activated", lic
    install = lic["install_id"]
    assert len(install) == 19
    m2 = sign_in(srv.url, "m1", "T2")
    r = m2.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 409 and error_code(r) == "day.licence_refused", r.text
    details = r.json()["error"]["details"]
    assert details["licence_code"] == "licence.not_activated"
    assert install in r.json()["error"]["message"]  # says which PC HQ must approve
    # the store asked HQ by itself; HQ sees the request with the same install id
    (req,) = wait_for(lambda: _pending(cloud), 120, "the store's activation request")
    assert req["install_id"] == install and req["licence_id"] == "LIC-S001-TWO"
    r = requests.post(cloud.url + f"/v1/hq/activations/{req['id']}/approve", timeout=60)
    assert r.status_code == 401  # HQ's routes need HQ's credentials
    r = cloud.call("POST", f"/v1/hq/activations/{req['id']}/approve", {"note": "new shop"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    wait_for(lambda: _health(srv)["ok"], 120, "the store to get its activation")
    assert _health(srv)["activation"] == "approved"
    r = m2.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 200, r.text


def test_a_third_till_is_refused_on_a_two_till_licence(shop):
    srv = shop["srv"]
    wait_for(lambda: _health(srv)["ok"], 120, "an activated licence")
    t3 = sign_in(srv.url, "m1", "T3")  # T1 (the demo's) and T2 hold the two places
    r = t3.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 409 and error_code(r) == "licence.too_many_tills", r.text
    assert r.json()["error"]["details"]["tills"] == 2


def test_an_unlicensed_feature_is_refused_and_a_licensed_one_works(shop):
    srv = shop["srv"]
    m = sign_in(srv.url, "m1", "T1")
    r = m.get("/v1/bigscreen/summary")
    assert r.status_code == 403 and error_code(r) == "licence.feature_not_licensed", r.text
    assert r.json()["error"]["details"]["feature"] == "bigscreen"
    r = m.post("/v1/members", {"id": new_id(), "member": "M-ACT-1", "name": "Ana"})
    assert r.status_code == 200, r.text  # "wallet" is licensed


def test_a_second_install_of_the_same_licence_is_refused(shop):
    srv, cloud, data, root = shop["srv"], shop["cloud"], shop["data"], shop["root"]
    wait_for(lambda: _health(srv)["ok"], 120, "an activated licence")
    copy = root / "copied-to-another-pc"
    shutil.copytree(data / "licence", copy / "licence")
    shutil.copy(data / "install_id", copy / "install_id")  # the same seed, another machine
    secret = bytes.fromhex((data / "cloud_secret").read_text().strip())
    other = LicenceKeeper(
        copy,
        "S001",
        load_public_key(data),
        HttpTransport(cloud.url, secret=secret),
        SystemClock(),
        None,
        machine_id="another-pc",
    )
    assert other.install_id != _health(srv)["install_id"]
    assert asyncio.run(other.may_open_day())["code"] == "licence.not_activated"
    res = asyncio.run(other.activate_once())
    assert res["code"] == "activation.pending", res
    (req,) = [r for r in _pending(cloud) if r["install_id"] == other.install_id]
    r = cloud.call("POST", f"/v1/hq/activations/{req['id']}/approve")
    assert r.status_code == 409 and r.json()["code"] == "activation.licence_in_use", r.text
    assert asyncio.run(other.activate_once())["code"] == "activation.pending"
    assert _health(srv)["ok"]  # the first install keeps it


def test_a_linked_store_must_sign_its_request(shop):
    cloud, data = shop["cloud"], shop["data"]
    request = {
        "store_id": "S001",
        "install_id": "AAAA-BBBB-CCCC-DDDD",
        "nonce": "0123456789abcdef0123",
        "licence": json.loads((data / "licence" / "licence.json").read_text()),
    }
    r = requests.post(cloud.url + "/v1/licence/activate", json=request, timeout=60)
    assert r.status_code == 401 and r.json()["code"] == "auth.missing", r.text


def test_a_forged_activation_is_refused(shop):
    srv, data, root = shop["srv"], shop["data"], shop["root"]
    install = _health(srv)["install_id"]
    forged = sign_activation(
        Activation("LIC-S001-TWO", "S001", install, time.time_ns() // 1000), new_private_key()
    )
    (root / "forged.json").write_text(json.dumps(forged))
    out = kassa(
        "store",
        "licence",
        "activate",
        "--data",
        str(data),
        "--answer-file",
        str(root / "forged.json"),
    )
    assert out.returncode == 1 and "activation.bad_signature" in out.stdout, out.stdout


def test_a_role_without_the_right_cannot_approve(shop):
    cloud = shop["cloud"]
    if cloud.call("POST", "/v1/hq/login", {"user": "x", "password": "x"}).status_code == 404:
        pytest.skip("HQ user accounts (the hqmaster part) are not on this branch yet")
    r = cloud.call(
        "POST",
        "/v1/hq/users",
        {"user": "fin1", "password": "a long passphrase 1", "role": "finance"},
    )
    assert r.status_code in (200, 201), r.text
    r = requests.post(
        cloud.url + "/v1/hq/login",
        json={"user": "fin1", "password": "a long passphrase 1"},
        timeout=60,
    )
    token = r.json()["token"]
    assert cloud.call("GET", "/v1/hq/licences", token=token).status_code == 200
    r = cloud.call("POST", "/v1/hq/activations/A-00000000/approve", token=token)
    assert r.status_code == 403, r.text
