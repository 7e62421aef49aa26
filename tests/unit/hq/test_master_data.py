"""HQ's master data (``cloud.master.MasterData``) on a tmp folder: the price in force, versions,
audit, all-or-nothing product changes, feeds reaching only their subscribers."""

from __future__ import annotations

import stat

import pytest

from cloud.master import MasterData
from domain.catalogue import ean_check_digit, product_from_dict
from domain.errors import InvalidInput, KassaError, NotFound
from domain.ports import ManualClock

T0 = 1_767_225_600_000_000


def ean(n: int) -> str:
    body = f"885{n:09d}"
    return body + ean_check_digit(body)


def prod(sku: str, price: int = 1000, **kw):
    return {"sku": sku, "names": {"en": f"Item {sku}", "th": f"สินค้า {sku}"}, "price": price, **kw}


@pytest.fixture
def md(tmp_path):
    m = MasterData(tmp_path / "hq", ManualClock(T0))
    yield m
    m.close()


def test_the_file_is_private_and_a_second_reader_sees_every_change(tmp_path, md):
    path = tmp_path / "hq" / "master.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    md.upsert_products([prod("A1")], "ann")
    other = MasterData(tmp_path / "hq", ManualClock(T0))  # the CLI, another process
    other.upsert_products([prod("A1", 1200)], "cli")
    assert md.product("A1")["price"] == 1200
    assert md.version() == other.version() == 2
    other.close()


def test_the_price_in_force_changes_exactly_at_from_us(md):
    md.upsert_products([prod("A1", 1000), prod("B2", 500)], "ann")
    md.put_store_profile({"id": "S001", "group": "north"}, "ann")
    at = T0 + 3_600_000_000
    md.add_price({"sku": "A1", "group": "north", "price": 900, "from_us": at}, "ann")
    md.add_price({"sku": "A1", "group": "south", "price": 700, "from_us": T0}, "ann")

    def price(store: str, t: int) -> int:
        return {p["sku"]: p["price"] for p in md.products_for_store(store, t)}["A1"]

    assert price("S001", at - 1) == 1000  # one microsecond before: the base price
    assert price("S001", at) == 900  # at exactly from_us: the new price
    assert price("S002", at) == 1000  # S002 has no profile: group "default"
    # a later change for every group wins over an earlier one for the group; ties: the last made
    md.add_price({"sku": "A1", "group": "*", "price": 800, "from_us": at + 10}, "ann")
    md.add_price({"sku": "A1", "group": "north", "price": 850, "from_us": at + 10}, "ann")
    assert price("S001", at + 9) == 900
    assert price("S001", at + 10) == 850
    assert price("S002", at + 10) == 800
    assert md.price_at("A1", "south", T0) == 700
    assert md.scheduled_prices("S001", at - 1) == [
        {"sku": "A1", "price": 900, "from_us": at},
        {"sku": "A1", "price": 800, "from_us": at + 10},
        {"sku": "A1", "price": 850, "from_us": at + 10},
    ]
    assert md.scheduled_prices("S001", at) == md.scheduled_prices("S001", at - 1)[1:]


def test_products_for_a_store_are_what_the_store_reads(md):
    md.upsert_products(
        [
            prod(
                "A1",
                barcodes=[ean(1)],
                brand="Acme",
                spec="330 ml",
                tags=["cold"],
                category=" Drinks / Soft drinks ",
            )
        ],
        "ann",
    )
    (p,) = md.products_for_store("S001", T0)
    assert product_from_dict(p).barcodes == (ean(1),)
    assert (p["brand"], p["spec"], p["tags"], p["category"]) == (
        "Acme",
        "330 ml",
        ["cold"],
        "Drinks/Soft drinks",
    )
    assert md.categories() == [
        {
            "name": "Drinks",
            "path": "Drinks",
            "count": 1,
            "children": [
                {"name": "Soft drinks", "path": "Drinks/Soft drinks", "count": 1, "children": []}
            ],
        }
    ]


def test_every_change_bumps_the_version_and_is_audited_in_the_same_step(md):
    clock = md.clock
    v1 = md.upsert_products([prod("A1"), prod("B2")], "ann")
    clock.advance(1)
    assert md.upsert_products([prod("A1")], "bob") == v1  # nothing changed: same version
    v2 = md.upsert_products([prod("A1", 1100)], "bob")
    v3 = md.delete_product("B2", "ann")
    assert (v1, v2, v3) == (1, 2, 3)
    log = md.audit_log()
    assert [(a["who"], a["what"], a["version"]) for a in log] == [
        ("ann", "products.upsert", 1),
        ("bob", "products.upsert", 2),
        ("ann", "product.delete", 3),
    ]
    assert log[1]["detail"]["skus"] == ["A1"] and log[1]["at_us"] == T0 + 1_000_000
    assert [h["version"] for h in md.history("A1")] == [1, 2]
    assert md.history("B2")[-1] == {"version": 3, "doc": None}
    assert md.audit_log(what="product.") == [log[2]] and md.audit_log(who="bob") == [log[1]]
    # others log their actions without a change of master data
    md.audit("carol", "publish", {"stores": ["S001"]})
    assert md.version() == 3 and md.audit_log(who="carol")[0]["version"] == 3


def test_a_bad_row_changes_nothing_and_every_bad_row_is_reported(md):
    md.upsert_products([prod("OLD", barcodes=[ean(9)])], "ann")
    rows = [
        prod("A1"),
        prod("A2", barcodes=["8850999220018"]),  # wrong check digit
        prod("A3", price=12.5),
        prod("A1"),  # the same SKU twice
        prod("A5", barcodes=[ean(9)]),  # another product's barcode
        {**prod("A6"), "names": {}},
    ]
    with pytest.raises(InvalidInput) as err:
        md.upsert_products(rows, "ann")
    assert err.value.code == "import.bad_rows"
    assert [(r["row"], r["code"]) for r in err.value.details["rows"]] == [
        (2, "product.bad_barcode"),
        (3, "product.bad_price"),
        (4, "import.duplicate_sku"),
        (5, "master.barcode_taken"),
        (6, "product.no_name"),
    ]
    assert err.value.details["bad_rows"] == 5
    with pytest.raises(InvalidInput) as err2:
        md.upsert_products([prod("A1"), prod("A5", barcodes=[ean(9)])], "ann")
    assert err2.value.details["rows"] == [
        {"row": 2, "code": "master.barcode_taken", "message": f"barcode {ean(9)} belongs to OLD"}
    ]
    assert md.version() == 1 and md.product("A1") is None


def test_an_edit_on_a_stale_version_is_refused(md):
    v = md.upsert_products([prod("A1")], "ann")
    md.put_product(prod("A1", 1100), "ann", if_version=v)
    with pytest.raises(KassaError) as err:
        md.put_product(prod("A1", 1200), "bob", if_version=v)
    assert err.value.code == "master.edit_conflict"
    assert md.product("A1")["price"] == 1100


def test_feed_products_reach_only_subscribed_stores(md):
    md.upsert_products([prod("A1")], "ann")
    md.upsert_products([prod("F1")], "feed:acme", source="acme")
    md.subscribe("S002", "acme")
    assert [p["sku"] for p in md.products_for_store("S001", T0)] == ["A1"]
    assert [p["sku"] for p in md.products_for_store("S002", T0)] == ["A1", "F1"]
    assert md.subscribers("acme") == ["S002"]


def test_profiles_fields_templates_and_prices_are_checked(md):
    with pytest.raises(InvalidInput) as err:
        md.put_store_profile({"id": "S001", "zone": "Mars/Olympus"}, "ann")
    assert err.value.code == "master.bad_profile"
    v = md.put_store_profile({"id": "S001", "name": "Silom", "zone": "Asia/Bangkok"}, "ann")
    assert md.store_profile("S001")["opening_hours"] == {"open": "08:00", "close": "22:00"}
    assert md.store_fields() == ["favourite", "low_stock", "image"]
    assert md.put_store_fields(["price", "favourite"], "ann") == v + 1
    assert md.store_fields() == ["favourite", "price"]
    with pytest.raises(InvalidInput):
        md.put_store_fields(["names"], "ann")
    with pytest.raises(NotFound):
        md.add_price({"sku": "NOPE", "group": "default", "price": 1, "from_us": T0}, "ann")
    md.upsert_products([prod("A1")], "ann")
    for bad in ({"price": 9.5}, {"price": -1}, {"from_us": "today"}, {"group": "a b"}):
        with pytest.raises(InvalidInput):
            md.add_price({"sku": "A1", "group": "default", "price": 1, "from_us": T0, **bad}, "a")
    md.put_staff_templates(
        {
            "roles": {"cashier": ["sale.ring"]},
            "staff": [{"id": "1", "name": "A", "role": "cashier"}],
        },
        "ann",
    )
    assert md.staff_templates()["roles"] == {"cashier": ["sale.ring"]}
