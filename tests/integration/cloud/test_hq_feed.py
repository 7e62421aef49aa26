"""The product feed over real HTTP on loopback: the example feed program (a separate process,
stdlib only) posts a supplier's file with a bad row → good rows staged, the bad row reported,
master data and every store's catalogue unchanged until HQ approves → after approval the
subscribed store's catalogue has the products and the other store's does not. The feed's
credential is refused on every other route (HQ's and another feed's); a file dropped into the
inbox folder is processed once; the same file twice changes nothing; a too large file is refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from cloud.hqauth import PUBLIC, permission
from cloud.hqusers import HqUsers
from cloudkit import Cloud, wait_for
from domain.catalogue_bundle import unpack
from domain.ports import ManualClock

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "feed-test-password-1"
EXAMPLE = ROOT / "examples" / "feed" / "supplier_feed.py"


def _example(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=120
    )


def _path(canonical: str) -> str:
    return canonical.replace("{name}", "acme").replace("{", "x").replace("}", "")


async def _post(s: aiohttp.ClientSession, url: str, headers: dict, **kw) -> tuple[int, dict]:
    async with s.post(url, headers=headers, **kw) as r:
        return r.status, await r.json()


async def _login(s: aiohttp.ClientSession, url: str, user: str) -> dict[str, str]:
    async with s.post(f"{url}/v1/hq/login", json={"user": user, "password": PASSWORD}) as r:
        assert r.status == 200
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def _get(s: aiohttp.ClientSession, url: str, headers: dict) -> tuple[int, dict]:
    async with s.get(url, headers=headers) as r:
        return r.status, await r.json()


def test_feed_file_staged_reviewed_approved_for_its_stores_only(tmp_path, monkeypatch) -> None:
    from cloud.feed import DESK
    from cloud.master import MASTER
    from cloud.publish import PUBLISHER

    monkeypatch.setenv("KASSA_FEED_POLL_S", "0.1")
    clock = ManualClock()

    async def main() -> None:
        for store in ("S001", "S002"):
            Cloud.register(tmp_path, store)
        users = HqUsers(tmp_path, clock)
        users.add("cat", "catalogue", PASSWORD, "cli")
        users.add("fin", "finance", PASSWORD, "cli")
        users.close()
        cloud = await Cloud(tmp_path, clock).start()
        app = cloud.app
        assert app is not None
        master, publisher = app[MASTER], app[PUBLISHER]
        hq = cloud.hq
        try:
            async with aiohttp.ClientSession() as s:
                st, made = await _post(
                    s, cloud.url + "/v1/hq/feeds", hq, json={"name": "acme", "stores": ["S001"]}
                )
                assert st == 200, made
                cred = made["credential"]
                st, beta = await _post(
                    s, cloud.url + "/v1/hq/feeds", hq, json={"name": "beta", "stores": ["S002"]}
                )
                assert st == 200
                mine = {"Authorization": f"Bearer {cred}"}
                # HQ publishes once before the feed, so "unchanged" has something to compare
                before = await asyncio.to_thread(publisher.publish, ["S001", "S002"], "hq")

                # the example program, a separate process, posts the supplier's file
                done = await asyncio.to_thread(
                    _example, "--cloud", cloud.url, "--feed", "acme", "--credential", cred
                )
                assert done.returncode == 0, done.stdout + done.stderr
                assert "row 5 barcodes: feed.bad_barcode" in done.stderr

                st, review = await _get(s, cloud.url + "/v1/hq/feeds/acme/staged", hq)
                assert st == 200
                assert sorted(r["sku"] for r in review["new"]) == [
                    "SUP-1001",
                    "SUP-1002",
                    "SUP-1003",
                    "SUP-1005",
                    "SUP-1006",
                ]
                new = {r["sku"]: r for r in review["new"]}
                assert new["SUP-1003"]["price"] == 104900  # "1.049,00" in minor units
                assert new["SUP-1001"]["names"] == {"en": "Jasmine green tea", "th": "ชาเขียวมะลิ"}
                bad = review["files"][0]["bad_rows"]
                assert [(b["row"], b["field"], b["code"]) for b in bad] == [
                    (5, "barcodes", "feed.bad_barcode")
                ]
                # nothing reached master data or a catalogue
                assert master.product("SUP-1001") is None
                assert master.products_for_store("S001", clock.now_us()) == []
                assert publisher.versions("S001") == [before]

                # the same file again: a no-op
                again = await asyncio.to_thread(
                    _example, "--cloud", cloud.url, "--feed", "acme", "--credential", cred
                )
                assert '"duplicate": true' in again.stdout
                # a too large file is refused before it is read
                app[DESK].max_bytes = 2000
                st, big = await _post(s, cloud.url + "/v1/feed/acme/files", mine, data=b"x" * 4000)
                assert (st, big["code"]) == (413, "feed.too_large")
                app[DESK].max_bytes = 16 * 1024 * 1024

                # the feed's credential: its own route only
                refused = 0
                for route in list(app.router.routes()):
                    canonical = route.resource.canonical if route.resource else ""
                    if (
                        canonical == "/v1/feed/{name}/files"
                        or permission(canonical) == PUBLIC  # answers anyone, e.g. /v1/health
                        or route.method in ("HEAD", "OPTIONS")
                    ):
                        continue
                    url = cloud.url + _path(canonical)
                    async with s.request(route.method, url, headers=mine, data=b"{}") as r:
                        assert r.status in (400, 401, 403), (route.method, canonical, r.status)
                        refused += 1
                assert refused >= 10
                st, other = await _post(s, cloud.url + "/v1/feed/beta/files", mine, data=b"sku\n")
                assert (st, other["code"]) == (401, "feed.bad_credential")
                st, _ = await _post(s, cloud.url + "/v1/feed/acme/files", hq, data=b"sku\n")
                assert st == 401  # not even HQ's token posts as a feed

                # a catalogue editor approves (finance may not even look): master data has the
                # products, for the subscribed store only
                cat, fin = [await _login(s, cloud.url, who) for who in ("cat", "fin")]
                st, _ = await _get(s, cloud.url + "/v1/hq/feeds/acme/staged", fin)
                assert st == 403
                st, _ = await _post(s, cloud.url + "/v1/hq/feeds/acme/approve", fin)
                assert st == 403 and master.product("SUP-1001") is None
                st, ok = await _post(s, cloud.url + "/v1/hq/feeds/acme/approve", cat)
                assert st == 200, ok
                audit = master.audit_log(what="feed.approve")
                assert [(a["who"], a["detail"]["count"]) for a in audit] == [("cat", 5)]
                assert ok["count"] == 5 and ok["stores"] == ["S001"] and ok["published"] > before
                assert master.product("SUP-1001")["source"] == "feed:acme"
                assert master.product("SUP-1004") is None  # the bad row never got in
                s1 = {p["sku"]: p for p in master.products_for_store("S001", clock.now_us())}
                assert sorted(s1) == ["SUP-1001", "SUP-1002", "SUP-1003", "SUP-1005", "SUP-1006"]
                assert s1["SUP-1006"]["unit"] == "kg" and s1["SUP-1001"]["tax_class"] == "std"
                assert master.products_for_store("S002", clock.now_us()) == []
                assert publisher.versions("S002") == [before]
                key = (tmp_path / "licence" / "hq_ed25519.pub").read_text().strip()
                bundle = unpack(publisher.export("S001"), key, store="S001")
                assert "SUP-1002" in str(bundle.payload)
                st, review = await _get(s, cloud.url + "/v1/hq/feeds/acme/staged", hq)
                assert review["staged"] == 0

                # the inbox: a file dropped is processed once
                inbox = tmp_path / "feeds" / "beta" / "inbox"
                await asyncio.to_thread(_example, "--inbox", str(inbox), "--file-name", "d1.csv")
                done_dir = inbox.parent / "done"
                await wait_for(lambda: len(list(done_dir.glob("*d1.csv.report.json"))) == 1, 60)
                st, review = await _get(s, cloud.url + "/v1/hq/feeds/beta/staged", hq)
                assert review["staged"] == 5 and review["files"][0]["via"] == "inbox"
                await asyncio.to_thread(_example, "--inbox", str(inbox), "--file-name", "d2.csv")
                await wait_for(lambda: len(list(done_dir.glob("*d2.csv.report.json"))) == 1, 60)
                assert list(inbox.iterdir()) == []
                reports = sorted(done_dir.glob("*.report.json"))
                assert '"duplicate": true' in reports[-1].read_text()
                st, review = await _get(s, cloud.url + "/v1/hq/feeds/beta/staged", hq)
                assert review["staged"] == 5 and len(review["files"]) == 1
                assert beta["name"] == "beta"
        finally:
            await cloud.stop()

    asyncio.run(main())
