"""The merge rules of HQ's catalogue at a store (``domain.catalogue_merge``): HQ's updates never
overwrite what the store owns, never remove the store's own products, and scheduled prices come
into force at their time."""

from __future__ import annotations

from domain.catalogue import product_from_dict
from domain.catalogue_merge import due_prices, effective, price_only, split, with_prices

FIELDS = ["favourite", "low_stock", "image"]


def p(sku: str, price: int, **kw) -> dict:
    return product_from_dict({"sku": sku, "names": {"en": sku}, "price": price, **kw}).to_dict()


def by_sku(rows: list[dict]) -> dict[str, dict]:
    return {r["sku"]: r for r in rows}


def test_a_store_owned_field_the_store_changed_is_kept_and_hq_fields_follow_hq():
    before = {"A": p("A", 100, image="hq.png"), "B": p("B", 200)}
    current = [p("A", 100, image="mine.png", favourite=True), p("B", 200)]
    overrides, local = split(current, before, FIELDS)
    assert overrides == {"A": {"image": "mine.png", "favourite": True}}
    assert local == []
    hq = {"A": p("A", 150, image="hq2.png", names={"en": "A new"}), "B": p("B", 250)}
    out = by_sku(effective(hq, overrides, local, FIELDS))
    assert out["A"]["price"] == 150 and out["A"]["names"] == {"en": "A new"}
    assert out["A"]["image"] == "mine.png" and out["A"]["favourite"] is True
    assert out["B"]["price"] == 250


def test_a_store_owned_field_left_as_hq_sent_it_follows_hq():
    before = {"A": p("A", 100, image="hq.png")}
    overrides, local = split([p("A", 100, image="hq.png")], before, FIELDS)
    assert overrides == {}
    out = by_sku(effective({"A": p("A", 100, image="hq2.png")}, overrides, local, FIELDS))
    assert out["A"]["image"] == "hq2.png"


def test_price_is_the_stores_only_when_hq_says_so():
    before = {"A": p("A", 100)}
    current = [p("A", 90)]  # the franchisee's own price
    hq = {"A": p("A", 120)}
    o1, l1 = split(current, before, FIELDS)
    assert by_sku(effective(hq, o1, l1, FIELDS))["A"]["price"] == 120
    o2, l2 = split(current, before, [*FIELDS, "price"])
    assert by_sku(effective(hq, o2, l2, [*FIELDS, "price"]))["A"]["price"] == 90


def test_the_stores_own_products_are_kept_and_hq_removals_remove_only_hq_products():
    before = {"A": p("A", 100), "B": p("B", 200)}
    current = [p("A", 100), p("B", 200), p("LOCAL-1", 55)]
    overrides, local = split(current, before, FIELDS)
    assert [r["sku"] for r in local] == ["LOCAL-1"]
    out = by_sku(effective({"A": p("A", 100)}, overrides, local, FIELDS))  # HQ dropped B
    assert set(out) == {"A", "LOCAL-1"}
    assert out["LOCAL-1"]["price"] == 55


def test_a_local_product_hq_starts_sending_becomes_hqs_keeping_the_stores_fields():
    local = [p("X", 10, favourite=True, names={"en": "mine"})]
    out = by_sku(effective({"X": p("X", 20, names={"en": "HQ's"})}, {}, local, FIELDS))
    assert out["X"]["price"] == 20 and out["X"]["names"] == {"en": "HQ's"}
    assert out["X"]["favourite"] is True


def test_scheduled_prices_come_due_in_time_order_and_the_latest_wins():
    prices = [
        {"sku": "A", "price": 300, "from_us": 30},
        {"sku": "A", "price": 200, "from_us": 20},
        {"sku": "B", "price": 900, "from_us": 99},
    ]
    due, later = due_prices(prices, 30)
    assert [r["price"] for r in due] == [200, 300]
    assert later == [{"sku": "B", "price": 900, "from_us": 99}]
    hq, changed = with_prices({"A": p("A", 100), "B": p("B", 100)}, due)
    assert hq["A"]["price"] == 300 and hq["B"]["price"] == 100 and changed == ["A"]


def test_a_scheduled_price_for_a_product_hq_dropped_is_ignored():
    hq, changed = with_prices({"A": p("A", 100)}, [{"sku": "GONE", "price": 1, "from_us": 0}])
    assert hq == {"A": p("A", 100)} and changed == []


def test_a_price_only_change_short_cuts_the_merge_with_the_same_rows():
    """HQ repricing: a store row equal to HQ's new row but for its price becomes HQ's new row
    without HQ's rows until now (what the long merge makes of it too); a row with any other
    difference, and every row when the store may own prices, goes the long way."""
    before = {s: p(s, 100, image="hq.png") for s in "ABCD"}
    current = [
        p("A", 100, image="hq.png"),
        p("B", 100, image="mine.png"),  # the store's own picture
        p("C", 100, image="hq.png", favourite=True),  # and a favourite
        p("D", 100, image="hq.png"),
    ]
    hq = {s: p(s, 180, image="hq.png") for s in "ABC"}
    hq["D"] = p("D", 180, image="hq2.png", names={"en": "D new"})
    same, rest = price_only(current, hq, FIELDS)
    assert [r["sku"] for r in same] == ["A"] and [r["sku"] for r in rest] == ["B", "C", "D"]
    overrides, local = split(rest, before, FIELDS)
    fast = same + effective({s: hq[s] for s in "BCD"}, overrides, local, FIELDS)
    overrides, local = split(current, before, FIELDS)
    assert by_sku(fast) == by_sku(effective(hq, overrides, local, FIELDS))
    assert price_only(current, hq, [*FIELDS, "price"]) == ([], current)
