"""Every route of HQ's cloud has a permission: public (health), store (proved in the request) or HQ
(a bearer token). HQ routes answer 401 without the token or with a wrong one, 200 with it; the cloud
creates its token at the first start and refuses to start with open reads unless told so on purpose.

Over real HTTP on loopback: the cloud app in-process, and ``kassa cloud serve`` as a real
process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from cloud.app import make_app
from cloud.hqauth import FEED, HQ, PUBLIC, STORE, TOKEN_ENV, OpenReadsRefused, permission
from cloudkit import STORE as STORE_ID
from cloudkit import Cloud, Shop, free_port, make_uploader
from domain.ports import ManualClock

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[3]
# values for path parameters
EXAMPLE = {
    "member": "M1",
    "sku": "A1",
    "user": "nobody",
    "store": "S001",
    "id": "1",
    "name": "acme",
    "flag": "f1",
    "code": "NOCOUPON1",
}


def _routes(app) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}


def _readme_table() -> set[tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### HQ's cloud", 1)[1].split("\n### ", 1)[0]
    return {
        (m, p, perm)
        for m, p, perm in re.findall(
            r"^\| `(GET|POST|PUT|DELETE|PATCH) (/\S+)` \| (public|store|hq|feed) \|", section, re.M
        )
    }


@pytest.fixture(scope="module")
def cloud_with_sales(tmp_path_factory):
    """A cloud (its own token, made at the first start) holding a shop's uploaded sales."""
    base = tmp_path_factory.mktemp("auth")
    clock = ManualClock()
    shop = Shop(base / "shop", clock, seed=4)
    shop.member("M1", 30_000)
    shop.trade(5)
    secret = Cloud.register(base / "cloud")
    loop = asyncio.new_event_loop()
    cloud = Cloud(base / "cloud", clock)
    loop.run_until_complete(cloud.start())
    up = make_uploader(shop, cloud.url, secret, base / "shop" / "up.json")
    loop.run_until_complete(up.drain())
    loop.run_until_complete(up.transport.close())
    yield cloud, loop
    loop.run_until_complete(cloud.stop())
    loop.close()
    shop.close()


def _get_all(cloud, loop, headers_by_case: dict[str, dict]) -> dict:
    async def main():
        out = {}
        async with aiohttp.ClientSession() as s:
            for method, path in sorted(_routes(cloud.app)):
                url = cloud.url + path.format(**EXAMPLE)
                for case, headers in headers_by_case.items():
                    async with s.request(method, url, headers=headers, json={}) as r:
                        body = await r.read()  # JSON, or a file (an export)
                        try:
                            out[(method, path, case)] = (r.status, json.loads(body))
                        except ValueError:
                            out[(method, path, case)] = (r.status, body)
        return out

    return loop.run_until_complete(main())


def test_every_route_has_a_permission_listed_in_the_readme(cloud_with_sales):
    cloud, _ = cloud_with_sales
    routes = _routes(cloud.app)
    table = _readme_table()
    assert {(m, p) for m, p, _ in table} == routes, "README's route table and the app differ"
    for m, p, perm in table:
        assert permission(p) == perm, (m, p, perm)
    assert {perm for _, _, perm in table} == {PUBLIC, STORE, HQ, FEED}


def test_hq_routes_need_the_token_and_nothing_else_opens_them(cloud_with_sales):
    cloud, loop = cloud_with_sales
    tok = cloud.token
    cases = {
        "none": {},
        "wrong": {"Authorization": "Bearer " + "x" * len(tok)},
        "prefix": {"Authorization": "Bearer " + tok[:-1]},
        "longer": {"Authorization": "Bearer " + tok + "x"},
        "no scheme": {"Authorization": tok},
        "basic": {"Authorization": "Basic " + tok},
        "query-like": {"X-Kassa-Token": tok},
        "right": {"Authorization": "Bearer " + tok},
    }
    out = _get_all(cloud, loop, cases)
    hq_routes = [(m, p) for m, p in _routes(cloud.app) if permission(p) == HQ]
    assert len(hq_routes) >= 5
    for m, p in hq_routes:
        for case in cases:
            st, js = out[(m, p, case)]
            if case == "right":  # the token opens it (an empty body, a missing record: 4xx)
                assert st not in (401, 403), (p, js)
            else:
                assert st == 401 and js["code"] == "auth.hq_token", (p, case, st, js)
                assert set(js) == {"ok", "code", "message"}, js  # nothing of the answer leaks
    # with the token the answers hold the shop's data (so the 401s above hid something real)
    assert out[("GET", "/v1/revenue", "right")][1]["revenue"]
    assert out[("GET", "/v1/members/{member}/balance", "right")][1]["found"] is True
    assert [s["id"] for s in out[("GET", "/v1/stores", "right")][1]["stores"]] == [STORE_ID]
    # the public and store routes, without credentials: health answers, the others refuse
    assert out[("GET", "/v1/health", "none")][0] == 200
    st, js = out[("POST", "/v1/ingest", "none")]
    assert (st, js["code"]) == (401, "auth.missing")
    st, js = out[("POST", "/v1/licence/check", "none")]
    assert st in (400, 503) and not js.get("ok", False) and "signature" not in js, js
    # an HQ token does not sign an upload
    st, js = out[("POST", "/v1/ingest", "right")]
    assert (st, js["code"]) == (401, "auth.missing")


def test_make_app_refuses_open_reads_unless_asked(tmp_path):
    with pytest.raises(OpenReadsRefused):
        make_app(tmp_path / "a", hq_token="")
    with pytest.raises(OpenReadsRefused):
        make_app(tmp_path / "b", hq_token="   ")
    old = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = ""
    try:
        with pytest.raises(OpenReadsRefused):
            make_app(tmp_path / "c")
    finally:
        if old is None:
            os.environ.pop(TOKEN_ENV)
        else:
            os.environ[TOKEN_ENV] = old


# ---------------------------------------------------------------- the real process


class Serve:
    def __init__(self, data: Path, *extra: str, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = data.parent / f"{data.name}.{self.port}.out"
        e = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
        e.update(env or {})
        with open(self.out, "wb") as fh:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kassa_cli.main",
                    "cloud",
                    "serve",
                    "--data",
                    str(data),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *extra,
                ],
                cwd=ROOT,
                env=e,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )

    def up(self, timeout: float = 60) -> bool:
        import urllib.request

        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/v1/health", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(self.text())

    def get(self, path: str, token: str | None = None) -> int:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def text(self) -> str:
        return self.out.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_the_cloud_process_names_its_auth_mode_and_refuses_to_start_open(tmp_path):
    data = tmp_path / "hq"
    # an empty token, as an older setup used to mean "open": refused, nothing listens
    s = Serve(data, env={TOKEN_ENV: ""})
    assert s.proc.wait(60) == 2
    assert "--insecure-open-reads" in s.text()
    with pytest.raises(OSError):  # nothing listens
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
    # the first real start creates the token, says so once, and HQ reads need it
    s = Serve(data)
    try:
        assert s.up()
        token = (data / "hq_token").read_text().strip()
        assert (data / "hq_token").stat().st_mode & 0o777 == 0o600
        assert "auth: token" in s.text() and token in s.text()
        assert s.get("/v1/revenue") == 401
        assert s.get("/v1/revenue", "not-the-token") == 401
        assert s.get("/v1/revenue", token) == 200
        assert s.get("/v1/stores", token) == 200
    finally:
        s.stop()
    # the second start keeps the token and does not print it again; `kassa cloud token` shows it
    s = Serve(data)
    try:
        assert s.up()
        assert "auth: token" in s.text() and token not in s.text()
        assert s.get("/v1/members/M1/balance", token) == 200
    finally:
        s.stop()
    shown = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "cloud", "token", "--data", str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and shown.stdout.strip().splitlines()[-1] == token
    # a lab may open the reads, on purpose, and the log line says so
    s = Serve(data, "--insecure-open-reads")
    try:
        assert s.up()
        assert "auth: open" in s.text() and "OPEN" in s.text()
        assert s.get("/v1/revenue") == 200
    finally:
        s.stop()
    # rotating replaces the token: the old one stops working after a restart
    rotated = subprocess.run(
        [sys.executable, "-m", "kassa_cli.main", "cloud", "token", "--data", str(data), "--rotate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    new = rotated.stdout.strip().splitlines()[-1]
    assert rotated.returncode == 0 and new != token
    s = Serve(data)
    try:
        assert s.up()
        assert s.get("/v1/stores", token) == 401 and s.get("/v1/stores", new) == 200
    finally:
        s.stop()
