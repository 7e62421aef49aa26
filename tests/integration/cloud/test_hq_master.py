"""HQ's master data over real HTTP on loopback: edit products, two editors at once, bad input,
import and export with per-row errors, scheduled prices, store profiles, the audit."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from cloud.hqusers import HqUsers
from cloud.master import MASTER
from cloudkit import Cloud
from domain.catalogue import ean_check_digit
from domain.ports import ManualClock

pytestmark = pytest.mark.timeout(300)


def ean(n: int) -> str:
    body = f"885{n:09d}"
    return body + ean_check_digit(body)


def product(sku: str, price: int = 1500, **kw):
    return {"sku": sku, "names": {"en": f"Cola {sku}", "th": f"โคล่า {sku}"}, "price": price, **kw}


def run(tmp_path, body) -> None:
    clock = ManualClock()
    users = HqUsers(tmp_path, clock)
    users.add("ann", "catalogue", "ann-password-1", "cli")
    users.add("bob", "catalogue", "bob-password-1", "cli")
    users.close()

    async def main() -> None:
        cloud = await Cloud(tmp_path, clock).start()
        try:
            async with aiohttp.ClientSession() as s:
                heads = {}
                for name in ("ann", "bob"):
                    async with s.post(
                        f"{cloud.url}/v1/hq/login",
                        json={"user": name, "password": f"{name}-password-1"},
                    ) as r:
                        heads[name] = {"Authorization": f"Bearer {(await r.json())['token']}"}
                await body(s, cloud, clock, heads)
        finally:
            await cloud.stop()

    asyncio.run(main())


async def req(s, method, url, headers, **kw):
    async with s.request(method, url, headers=headers, **kw) as r:
        ctype = r.headers.get("Content-Type", "")
        return r.status, (await r.json() if "json" in ctype else await r.read())


def test_edit_search_and_bad_input(tmp_path):
    async def body(s, cloud, clock, h):
        u = cloud.url + "/v1/hq/products"
        p = product("A1", barcodes=[ean(1)], category="Drinks/Soft drinks", brand="Acme")
        st, js = await req(s, "PUT", f"{u}/A1", h["ann"], json=p)
        assert (st, js) == (200, {"ok": True, "version": 1})
        await req(s, "PUT", f"{u}/B2", h["ann"], json=product("B2", category="Snacks"))
        st, js = await req(s, "GET", f"{u}?q=โคล่า a1&lang=th", h["bob"])
        assert st == 200 and js["total"] == 1 and js["version"] == 2
        assert (js["products"][0]["name"], js["products"][0]["updated_by"]) == ("โคล่า A1", "ann")
        st, js = await req(s, "GET", f"{u}?q={ean(1)}", h["bob"])
        assert [p["sku"] for p in js["products"]] == ["A1"]
        st, js = await req(s, "GET", f"{u}?category=Drinks", h["bob"])
        assert [p["sku"] for p in js["products"]] == ["A1"]
        st, js = await req(s, "GET", cloud.url + "/v1/hq/categories", h["bob"])
        assert [c["path"] for c in js["categories"]] == ["Drinks", "Snacks"]
        # bad input: nothing is written, the version stays
        bad = {
            "bad barcode": (product("C3", barcodes=["8850000000000"]), "product.bad_barcode"),
            "price as a float": (product("C3", price=15.5), "product.bad_price"),
            "price as text": (product("C3", price="15"), "product.bad_price"),
            "no name": ({**product("C3"), "names": {}}, "product.no_name"),
            "unknown field": ({**product("C3"), "colour": "red"}, "input.bad_field"),
            "bad unit": (product("C3", unit="litre"), "product.bad_unit"),
            "taken barcode": (product("C3", barcodes=[ean(1)]), "master.barcode_taken"),
        }
        for what, (doc, code) in bad.items():
            st, js = await req(s, "PUT", f"{u}/C3", h["ann"], json=doc)
            assert (st, js["code"]) == (400, code), what
        st, js = await req(s, "PUT", f"{u}/C3", h["ann"], data=b"{not json")
        assert (st, js["code"]) == (400, "input.bad_json")
        st, js = await req(s, "GET", f"{u}/C3", h["ann"])
        assert (st, js["code"]) == (404, "master.not_found")
        assert cloud.app[MASTER].version() == 2
        st, js = await req(s, "DELETE", f"{u}/B2", h["ann"])
        assert (st, js["version"]) == (200, 3)
        assert (await req(s, "GET", f"{u}/B2", h["ann"]))[0] == 404

    run(tmp_path, body)


def test_two_editors_at_once_both_versions_are_kept_and_audited(tmp_path):
    async def body(s, cloud, clock, h):
        u = cloud.url + "/v1/hq/products/A1"
        await req(s, "PUT", u, h["ann"], json=product("A1", 1000))
        (sa, ja), (sb, jb) = await asyncio.gather(
            req(s, "PUT", u, h["ann"], json=product("A1", 1100)),
            req(s, "PUT", u, h["bob"], json=product("A1", 1200)),
        )
        assert (sa, sb) == (200, 200) and sorted([ja["version"], jb["version"]]) == [2, 3]
        last = 1100 if ja["version"] == 3 else 1200
        assert (await req(s, "GET", u, h["ann"]))[1]["price"] == last
        history = cloud.app[MASTER].history("A1")
        assert sorted(v["doc"]["price"] for v in history) == [1000, 1100, 1200]
        st, js = await req(s, "GET", cloud.url + "/v1/hq/audit?what=products", cloud.hq)
        rows = [(a["who"], a["version"]) for a in js["audit"]]
        assert sorted(rows) == [("ann", 1), ("ann", ja["version"]), ("bob", jb["version"])]
        # an editor who read version 3 and saves after someone else: refused, not overwritten
        st, js = await req(s, "PUT", u, h["bob"], json={**product("A1", 1300), "if_version": 3})
        assert st == 200
        st, js = await req(s, "PUT", u, h["ann"], json={**product("A1", 1400), "if_version": 3})
        assert (st, js["code"]) == (409, "master.edit_conflict")

    run(tmp_path, body)


GOOD_CSV = (
    "sku,name_en,name_th,price,category,barcodes,tags,sellable\n"
    f"A1,Cola,โคล่า,1500,Drinks/Soft drinks,{ean(1)},cold;fizzy,1\n"
    f"A2,Water,น้ำ,700,Drinks/Water,{ean(2)},,yes\n"
)
BAD_CSV = (
    "sku,name_en,price,barcodes,unit\n"
    "A1,Cola,1500,,each\n"
    "A2,Water,12.50,,each\n"
    "A3,Juice,900,8850000000000,each\n"
    ",Nameless,100,,each\n"
    "A5,Soap,100,,box\n"
    "A1,Cola again,1500,,each\n"
)


def test_import_is_all_or_nothing_with_every_bad_row_and_export_round_trips(tmp_path):
    async def body(s, cloud, clock, h):
        u = cloud.url + "/v1/hq/products"
        st, js = await req(s, "POST", f"{u}/import?format=csv", h["ann"], data=BAD_CSV.encode())
        assert (st, js["code"], js["bad_rows"]) == (400, "import.bad_rows", 5)
        assert [(r["row"], r["code"]) for r in js["rows"]] == [
            (3, "product.bad_price"),
            (4, "product.bad_barcode"),
            (5, "product.bad_sku"),
            (6, "product.bad_unit"),
            (7, "import.duplicate_sku"),
        ]
        assert "12.50" in js["rows"][0]["message"]
        assert (await req(s, "GET", u, h["ann"]))[1]["total"] == 0  # nothing imported
        # a dry run checks, says what would change, and writes nothing
        st, js = await req(
            s, "POST", f"{u}/import?format=csv&dry_run=1", h["ann"], data=GOOD_CSV.encode()
        )
        assert (st, js["count"], js["added"], js["version"], js["dry_run"]) == (200, 2, 2, 0, True)
        assert cloud.app[MASTER].version() == 0
        st, js = await req(s, "POST", f"{u}/import?format=csv", h["ann"], data=GOOD_CSV.encode())
        assert (st, js["count"], js["version"]) == (200, 2, 1)
        a1 = (await req(s, "GET", f"{u}/A1", h["ann"]))[1]
        assert (a1["tags"], a1["barcodes"], a1["names"]["th"]) == (
            ["cold", "fizzy"],
            [ean(1)],
            "โคล่า",
        )
        # the export, read back, is the same products: nothing to change
        for fmt in ("csv", "xlsx"):
            st, data = await req(s, "GET", f"{u}/export?format={fmt}", h["bob"])
            assert st == 200 and isinstance(data, bytes)
            st, js = await req(s, "POST", f"{u}/import?format={fmt}&dry_run=1", h["ann"], data=data)
            assert (st, js["count"], js["unchanged"]) == (200, 0, 2), fmt
        st, js = await req(s, "POST", f"{u}/import?format=xlsx", h["ann"], data=b"not a workbook")
        assert (st, js["code"]) == (400, "import.bad_file")
        st, js = await req(s, "GET", cloud.url + "/v1/hq/audit?what=products.import", cloud.hq)
        assert [(a["who"], a["detail"]["count"]) for a in js["audit"]] == [("ann", 2)]

    run(tmp_path, body)


def test_scheduled_prices_profiles_and_what_a_store_gets(tmp_path):
    async def body(s, cloud, clock, h):
        await req(s, "PUT", cloud.url + "/v1/hq/products/A1", h["ann"], json=product("A1", 1000))
        st, js = await req(
            s,
            "PUT",
            cloud.url + "/v1/hq/profiles/S001",
            cloud.hq,
            json={
                "name": "Silom",
                "zone": "Asia/Bangkok",
                "currency": "THB",
                "group": "city",
                "opening_hours": {"open": "07:00", "close": "23:00"},
            },
        )
        assert st == 200
        st, js = await req(s, "PUT", cloud.url + "/v1/hq/profiles/S001", h["ann"], json={})
        assert (st, js["code"]) == (403, "hquser.role_refused")
        at = clock.now_us() + 3_600_000_000
        u = cloud.url + "/v1/hq/prices"
        st, js = await req(
            s, "POST", u, h["ann"], json={"sku": "A1", "group": "city", "price": 900, "from_us": at}
        )
        assert st == 201
        pid = js["id"]
        for bad, code in (
            ({"price": 9.5}, "product.bad_price"),
            ({"group": "no spaces"}, "master.bad_group"),
            ({"sku": "NOPE"}, "master.not_found"),
        ):
            doc = {"sku": "A1", "group": "city", "price": 900, "from_us": at, **bad}
            st, js = await req(s, "POST", u, h["ann"], json=doc)
            assert js["code"] == code, bad
        master = cloud.app[MASTER]
        assert master.products_for_store("S001", at - 1)[0]["price"] == 1000
        assert master.products_for_store("S001", at)[0]["price"] == 900
        assert master.products_for_store("S002", at)[0]["price"] == 1000
        st, js = await req(s, "GET", u + "?sku=A1", h["bob"])
        assert [(p["id"], p["price"], p["created_by"]) for p in js["prices"]] == [(pid, 900, "ann")]
        st, js = await req(s, "DELETE", f"{u}/{pid}", h["ann"])
        assert st == 200 and master.products_for_store("S001", at)[0]["price"] == 1000
        st, js = await req(
            s,
            "PUT",
            cloud.url + "/v1/hq/store-fields",
            cloud.hq,
            json={"fields": ["favourite", "price"]},
        )
        assert st == 200 and master.store_fields() == ["favourite", "price"]

    run(tmp_path, body)
