"""HQ's catalogue reaches a running store (real server on loopback, real signed bundles with the
HQ key the store trusts): pulled within its interval and sold at the new price while a basket
opened before keeps its scanned price; loaded from a USB bundle with HQ unreachable; tampered and
foreign bundles refused with nothing changed; a pull on demand; the state in the status.

HQ's pull route is a stand-in here (``hqstandin``: it checks the store's signature as the cloud
does); tests/integration/test_hq_to_till.py runs the same path against the real cloud."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from actors.process import StoreProcess
from actors.store_file import update_store_json
from bundlekit import TestHQ, ean, product, tamper
from cloud.licence import LicenceAuthority
from gwkit import Api, error_code, new_id, sign_in
from hqstandin import StandInHQ
from storekit import kassa, wait_for

pytestmark = pytest.mark.ray
STORE = "S001"
PULL_S = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("catsync")
    data = tmp / "store"
    # the demo store: staff, products, HQ's key and a licence from HQ (DATA-hq), T1's day open
    r = kassa("demo", "--no-till", "--data", str(data), "--products", "300", "--exit-after-setup")
    assert r.returncode == 0, r.stdout + r.stderr
    for noise in ("no HQ users yet", "no HQ licence key", "SIGTERM handler"):  # a first run's
        assert noise not in r.stderr, r.stderr  # screen: HQ is prepared before it starts
    # the demo's own HQ published its catalogue and the store applied it; this store starts over
    # with the stand-in HQ below, as a store that never ran an HQ catalogue (its products its own)
    shutil.rmtree(data / "hq_catalogue")
    hq = TestHQ(LicenceAuthority(tmp / "store-hq").key)  # HQ's own key: the store trusts it
    standin = StandInHQ().start()
    standin.secrets[STORE] = bytes.fromhex((data / "cloud_secret").read_text().strip())
    update_store_json(data, cloud_url=standin.url, catalogue_pull_s=PULL_S)
    st = StoreProcess(data, demo=False).start()
    try:
        yield {"tmp": tmp, "data": data, "hq": hq, "standin": standin, "store": st}
    finally:
        st.stop()
        standin.close()


def catalogue_status(m: Api) -> dict:
    return m.ok(m.get("/v1/catalogue/status"))


def applied_versions(m: Api) -> list[dict]:
    """The journal's ``catalogue.version_applied`` events."""
    return m.ok(m.get("/v1/audit", kind="catalogue.version_applied", limit=50))["events"]


def price_of(api: Api, code: str) -> int:
    return api.ok(api.get(f"/v1/products/{code}"))["price"]


def pay(api: Api) -> dict:
    view = api.ok(api.get(f"/v1/tills/{api.till}/basket"))
    total = view["total"]
    tenders = [{"kind": "cash", "amount": total + 10_000}]  # change is given
    return api.ok(api.cmd("pay", {"tenders": tenders}))["order"]


def test_a_published_change_is_pulled_and_sold_while_an_open_basket_keeps_its_price(world):
    url, hq, standin = world["store"].url, world["hq"], world["standin"]
    c1, m1 = sign_in(url, "c1", "T1"), sign_in(url, "m1", "T2")
    # before HQ publishes anything the store asks and hears "nothing yet", without an error
    wait_for(lambda: any(s == STORE for s, _ in standin.asked), 60, "a first pull")
    assert catalogue_status(m1)["error"] is None and catalogue_status(m1)["version"] is None
    applied_before = len(applied_versions(m1))  # the demo HQ's, before this store moved HQ
    demo = next(
        p
        for p in m1.ok(m1.get("/v1/products", q="885", limit=50))
        if p["unit"] == "each" and p["barcodes"] and p["sellable"]
    )
    code, old = demo["barcodes"][0], demo["price"]
    line = c1.ok(c1.cmd("scan", {"code": code}))["view"]["lines"][-1]  # basket open before
    assert line["unit_price"] == old
    # HQ edits that product's price and adds one; the store has not seen it yet
    edited = {**demo, "price": old + 500, "brand": "HQ"}
    new_code = ean(777001)
    fresh = product("HQ-NEW-1", 1234, new_code, favourite=True)
    published = time.monotonic()
    standin.publish(STORE, 1, hq.bundle(STORE, 1, [edited, fresh]))
    st = wait_for(lambda: (s := catalogue_status(m1))["version"] == 1 and s, 60, "the pull")
    took = time.monotonic() - published
    assert took < 60, f"the store took {took:.0f} s to run the published change"
    assert st["source"] == "hq" and st["error"] is None and st["last_ok_us"]
    # a till sells the new product and the edited one at HQ's price
    m1.ok(m1.post("/v1/day/open", {"id": new_id(), "till": "T2", "float": 0}))
    view = m1.ok(m1.cmd("scan", {"code": new_code}))["view"]
    view = m1.ok(m1.cmd("scan", {"code": code}))["view"]
    assert [(x["sku"], x["unit_price"]) for x in view["lines"]] == [
        ("HQ-NEW-1", 1234),
        (demo["sku"], old + 500),
    ]
    assert pay(m1)["total"] == 1234 + old + 500
    # the basket opened before keeps the price it scanned; a new scan there gets the new price
    lines = c1.ok(c1.cmd("scan", {"code": code}))["view"]["lines"]
    assert [x["unit_price"] for x in lines] == [old, old + 500]
    assert pay(c1)["total"] == old + old + 500
    # the store's own products (the demo's 300) were kept; the version is journaled
    assert len(m1.ok(m1.get("/v1/products", q="885", limit=200))) > 50
    assert len(applied_versions(m1)) == applied_before + 1
    # the next pulls hear "you have the newest" and change nothing
    n = len(standin.asked)
    wait_for(lambda: len(standin.asked) > n, 60, "another pull")
    assert standin.asked[-1] == (STORE, 1) and catalogue_status(m1)["version"] == 1


def test_a_usb_bundle_is_loaded_with_hq_unreachable(world):
    url, hq, standin, data = world["store"].url, world["hq"], world["standin"], world["data"]
    m1 = sign_in(url, "m1", "T2")
    standin.stop()  # HQ unreachable from now on
    r = m1.post("/v1/catalogue/pull", {"id": new_id()})  # a pull on demand says so
    assert r.status_code == 503 and error_code(r) == "catalogue.pull_failed", r.text
    st = catalogue_status(m1)
    assert st["error"]["code"] == "catalogue.pull_failed" and st["failures"] >= 1
    usb = world["tmp"] / "usb-v2.bundle"
    usb_code = ean(777002)
    usb.write_bytes(
        hq.bundle(
            STORE,
            2,
            [product("HQ-NEW-1", 1500, ean(777001)), product("HQ-USB-2", 990, usb_code)],
        )
    )
    r = kassa("store", "catalogue", "import", str(usb), "--data", str(data))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "catalogue version 2 applied" in r.stdout and "server running" in r.stdout
    st = catalogue_status(m1)
    assert st["version"] == 2 and st["source"] == "usb"
    view = m1.ok(m1.cmd("scan", {"code": usb_code}))["view"]
    assert view["lines"][-1]["unit_price"] == 990
    assert pay(m1)["total"] == 990
    # kassa store status shows the version and the failing pull
    r = kassa("store", "status", "--data", str(data))
    assert r.returncode == 0, r.stderr
    assert "HQ catalogue     version 2 (from usb" in r.stdout
    assert "pull error     catalogue.pull_failed" in r.stdout


@pytest.mark.parametrize(
    "make, code, words",
    [
        (
            lambda hq: tamper(hq.bundle(STORE, 5, [product("HQ-NEW-1", 1)])),
            "catalogue.bad_signature",
            "This catalogue was changed after HQ signed it",
        ),
        (
            lambda hq: TestHQ().bundle(STORE, 5, [product("HQ-NEW-1", 1)]),
            "catalogue.bad_signature",
            "another HQ signed it",
        ),
        (
            lambda hq: hq.bundle("S002", 5, [product("HQ-NEW-1", 1)]),
            "catalogue.foreign_store",
            "This catalogue is for another store",
        ),
        (
            lambda hq: hq.bundle(STORE, 5, [product("HQ-NEW-1", 1)], base=4),
            "catalogue.delta_base",
            "Load a full catalogue",
        ),
    ],
    ids=["tampered", "other-hq", "other-store", "delta-wrong-base"],
)
def test_a_bad_bundle_is_refused_and_the_catalogue_is_unchanged(world, make, code, words):
    url, data = world["store"].url, world["data"]
    m1 = sign_in(url, "m1", "T2")
    before = catalogue_status(m1)
    price = price_of(m1, ean(777001))
    bad = world["tmp"] / f"bad-{code}.bundle"
    bad.write_bytes(make(world["hq"]))
    r = kassa("store", "catalogue", "import", str(bad), "--data", str(data))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"REFUSED {code}" in r.stderr and words in r.stderr
    assert "nothing was changed" in r.stderr
    after = catalogue_status(m1)
    assert (after["version"], after["sha256"]) == (before["version"], before["sha256"])
    assert price_of(m1, ean(777001)) == price


def test_a_pull_on_demand_needs_a_manager(world):
    c1 = sign_in(world["store"].url, "c1", "T1")
    assert c1.post("/v1/catalogue/pull", {"id": new_id()}).status_code == 403
    assert c1.get("/v1/catalogue/status").status_code == 403


def test_the_store_holds_no_bundle_file_readable_by_others(world):
    folder = Path(world["data"]) / "hq_catalogue"
    for p in [folder, *folder.rglob("*")]:
        assert p.stat().st_mode & 0o077 == 0, p


def test_a_slow_download_neither_pauses_the_uploader_nor_times_out_while_it_moves(tmp_path):
    """The pull holds the line's priority (which pauses the uploader) at most ``priority_s``, and
    not while the body comes; a body that keeps moving may take longer than ``progress_s`` in
    all; one that stops moving for ``progress_s`` fails."""
    import asyncio

    from aiohttp import web

    from actors.catalogue_pull import PullTransport
    from actors.line import Line
    from domain.catalogue_bundle import unpack
    from domain.errors import KassaError
    from hqstandin import ServerThread

    hq = TestHQ()
    data = hq.bundle(STORE, 3, [product(f"P{i}", 100 + i, ean(i)) for i in range(3000)])
    sent = {"bytes": 0, "stall": False}

    async def slow(request: web.Request) -> web.StreamResponse:
        await request.read()
        await asyncio.sleep(3.0)  # HQ takes its time to answer at all
        resp = web.StreamResponse(headers={"Content-Type": "application/vnd.kassa.bundle"})
        resp.content_length = len(data)
        await resp.prepare(request)
        piece = len(data) // 20 + 1
        for i in range(0, len(data), piece):
            await resp.write(data[i : i + piece])
            sent["bytes"] += len(data[i : i + piece])
            await asyncio.sleep(5.0 if sent["stall"] and i else 0.2)
        await resp.write_eof()
        return resp

    def app() -> web.Application:
        a = web.Application()
        a.router.add_post("/v1/catalogue/pull", slow)
        return a

    server = ServerThread(app).start()
    lock = tmp_path / "line.lock"
    try:

        async def pull_watching_the_line() -> tuple[bytes, list[tuple[float, int, bool]]]:
            t = PullTransport(server.url, STORE, b"k" * 32, Line(lock), progress_s=1.5)
            uploader_view = Line(lock)  # what the uploader asks between two writes
            task = asyncio.ensure_future(t.pull(None))
            t0, seen = time.monotonic(), []
            while not task.done():
                seen.append((time.monotonic() - t0, sent["bytes"], uploader_view.busy()))
                await asyncio.sleep(0.05)
            return (await task).body, seen

        body, seen = asyncio.run(pull_watching_the_line())
        assert unpack(body, hq.public, store=STORE).version == 3
        took = seen[-1][0]
        assert took > 4.0  # longer than progress_s in all: the line kept moving
        assert any(busy for at, _, busy in seen if at < 1.0)  # the request went first
        assert not any(busy for at, _, busy in seen if at > 2.5)  # then the uploader went on
        assert not any(busy for _, n, busy in seen if n > 0)  # never while the body came
        sent.update(bytes=0, stall=True)
        with pytest.raises(KassaError) as exc:
            asyncio.run(PullTransport(server.url, STORE, b"k" * 32, progress_s=1.5).pull(None))
        assert exc.value.code == "catalogue.pull_failed"
    finally:
        server.close()
