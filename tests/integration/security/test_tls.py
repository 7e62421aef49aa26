"""TLS on the shop LAN, over a real store server on loopback.

After ``kassa store tls enable`` and a restart the gateway answers HTTPS only, with a certificate
from the store's own CA; a till pins that CA at its first pairing and afterwards refuses any other
server (before a PIN leaves the till) and plain HTTP; sign-in works over TLS and the journal keeps
the till's own address; ``tls disable`` returns the store to HTTP.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from actors import tls
from actors.process import StoreProcess
from gwkit import DEMO, journal_rows, journal_seq, new_id, sign_in
from kiosk.client import ApiError, StoreClient

pytestmark = pytest.mark.ray


def kassa(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", *args], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A demo store that first ran in clear, then had TLS enabled and was restarted."""
    data = tmp_path_factory.mktemp("tls") / "store"
    proc = StoreProcess(data, products=300).start()
    try:
        assert proc.url.startswith("http://")
        assert requests.get(proc.url + "/v1/config", timeout=30).status_code == 200
        proc.stop()
        kassa(
            "store",
            "tls",
            "enable",
            "--data",
            str(data),
            "--name",
            "store-pc.local",
            "--ip",
            "192.168.1.10",
        )
        proc.start()
        yield proc
    finally:
        proc.stop()


class Impostor:
    """A small aiohttp server on loopback that wants the tills' PINs: TLS with a CA of its own,
    and plain HTTP; it records every request that reaches it."""

    def __init__(self, data: Path) -> None:
        tls.enable(data, ["store-pc.local"], ["127.0.0.1"])
        self.data, self.seen, self.ports = data, [], {}
        self.ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True).start()
        assert self.ready.wait(30)

    async def _main(self) -> None:
        from aiohttp import web

        async def record(request: web.Request) -> web.Response:
            self.seen.append((request.method, request.path, await request.text()))
            return web.json_response({"token": "x", "staff": {"staff": "c1"}})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        runner = web.AppRunner(app)
        await runner.setup()
        for scheme, ctx in (("https", tls.server_context(self.data)), ("http", None)):
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
            await site.start()
            self.ports[scheme] = site._server.sockets[0].getsockname()[1]  # type: ignore
        self.ready.set()
        await asyncio.Event().wait()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.ports[scheme]}"


def test_after_tls_enable_and_a_restart_only_https_with_the_stores_ca_answers(store):
    port = store.port
    assert store.url == f"https://127.0.0.1:{port}"
    assert json.loads((store.data / "server.json").read_text())["scheme"] == "https"
    with pytest.raises(requests.ConnectionError):  # nothing answers in clear on the port
        requests.get(f"http://127.0.0.1:{port}/v1/config", timeout=30)
    with pytest.raises(requests.exceptions.SSLError):  # not a certificate the world trusts
        requests.get(store.url + "/v1/config", timeout=30)
    r = requests.get(store.url + "/v1/config", timeout=30, verify=str(store.ca_file))
    assert r.status_code == 200 and r.json()["store_id"]
    # by name too: the certificate names what `tls enable` was given plus localhost
    r = requests.get(f"https://localhost:{port}/v1/config", timeout=30, verify=str(store.ca_file))
    assert r.status_code == 200


def test_the_ca_key_and_the_server_key_are_owner_only(store):
    f = tls.TlsFiles.of(store.data)
    assert stat.S_IMODE(f.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(f.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(f.dir.stat().st_mode) == 0o700


def test_sign_in_over_tls_journals_the_tills_own_address_never_a_forwarded_one(store):
    """A till at 127.0.0.2 says it is 203.0.113.7 in X-Forwarded-For/Forwarded; the audit
    keeps the address the TLS connection came from."""
    after = journal_seq(store.data)
    conn = http.client.HTTPSConnection(
        "127.0.0.1",
        store.port,
        timeout=60,
        source_address=("127.0.0.2", 0),
        context=tls.client_context(store.data),
    )
    body = json.dumps({"id": new_id(), "staff": "c2", "pin": DEMO["c2"], "till": "T7"})
    conn.request(
        "POST",
        "/v1/sessions",
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Forwarded-For": "203.0.113.7",
            "Forwarded": "for=203.0.113.7",
            "X-Real-IP": "203.0.113.7",
        },
    )
    resp = conn.getresponse()
    out = json.loads(resp.read())
    assert resp.status == 200, out
    conn.request(
        "GET",
        "/v1/tills/T7/basket",
        headers={"Authorization": f"Bearer {out['token']}", "X-Forwarded-For": "203.0.113.7"},
    )
    assert conn.getresponse().status == 200
    conn.close()
    rows = [r for r in journal_rows(store.data, after) if r[1] == "auth.signed_in"]
    assert [(r[2], r[3], r[4]) for r in rows] == [("c2", "T7", "127.0.0.2")]


def test_store_status_and_the_test_kit_work_with_tls_on(store):
    out = kassa("store", "status", "--data", str(store.data)).stdout
    assert f"https://127.0.0.1:{store.port}" in out
    fp = kassa("store", "tls", "fingerprint", "--data", str(store.data)).stdout.split()[0]
    assert f"CA {fp}" in out
    api = sign_in(store.url, "c1", "T8", verify=str(store.ca_file))
    assert api.ok(api.get("/v1/tills/T8/basket")) is not None


def test_a_till_pins_the_store_ca_at_first_pairing_and_then_refuses_another(store, tmp_path):
    pin_file = tmp_path / "till" / "store-tls.json"
    till = StoreClient(store.url, "T9", pin_file=pin_file)
    assert till.config()["store_id"]
    fp = kassa("store", "tls", "fingerprint", "--data", str(store.data)).stdout.split()[0]
    assert till.pin.paired_now and till.pin.fingerprint == fp  # what the person compares
    assert json.loads(pin_file.read_text())["ca_sha256"] == fp
    session = till.sign_in("c1", DEMO["c1"])  # sign-in over TLS, through the pinned CA
    assert session.token and session.staff == "c1"

    # the next start of the till reads the pin and does not pair again
    again = StoreClient(store.url, "T9", pin_file=pin_file)
    assert again.health()["store"] and not again.pin.paired_now

    # someone else on the LAN with a CA of their own: refused before the PIN leaves the till
    impostor = Impostor(tmp_path / "impostor")
    fooled = StoreClient(impostor.url("https"), "T9", pin_file=pin_file)
    with pytest.raises(ApiError) as exc:
        fooled.sign_in("c1", DEMO["c1"])
    assert exc.value.code == "tls.untrusted" and "paired with" in exc.value.message
    assert exc.value.details["pinned"] == fp
    # no fallback to plain HTTP either, whatever the address says
    plain = StoreClient(impostor.url("http"), "T9", pin_file=pin_file)
    with pytest.raises(ApiError) as exc:
        plain.sign_in("c1", DEMO["c1"])
    assert exc.value.code == "tls.required"
    assert impostor.seen == []
    assert json.loads(pin_file.read_text())["ca_sha256"] == fp  # the pin did not move

    # an unpaired till meeting the impostor pairs with it — and shows a different fingerprint
    other = StoreClient(impostor.url("https"), "T9", pin_file=tmp_path / "other.json")
    other.config()
    assert other.pin.paired_now and other.pin.fingerprint != fp


def test_tls_disable_returns_the_store_to_http(store, tmp_path):
    pin_file = tmp_path / "store-tls.json"
    StoreClient(store.url, "T9", pin_file=pin_file).config()  # a till paired over TLS
    store.stop()
    kassa("store", "tls", "disable", "--data", str(store.data))
    store.start()
    assert store.url.startswith("http://") and store.ca_file is None
    r = requests.get(store.url + "/v1/config", timeout=30)
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(
            f"https://127.0.0.1:{store.port}/v1/config",
            timeout=30,
            verify=str(tls.TlsFiles.of(store.data).ca_cert),
        )
    # the paired till does not quietly follow the store to plain HTTP ...
    with pytest.raises(ApiError) as exc:
        StoreClient(store.url, "T9", pin_file=pin_file).config()
    assert exc.value.code == "tls.required"
    # ... until it is told to forget the store's key (kassa till --forget-store-key)
    till = StoreClient(store.url, "T9", pin_file=pin_file)
    till.pin.forget()
    assert till.config()["store_id"]
