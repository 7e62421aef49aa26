"""Repeat scans of the same item: which line one more goes on (``domain.basket.repeat_line``), the
scan handler's use of it, the product's and the store's setting, and the item grid's read."""

from __future__ import annotations

from dataclasses import replace

from domain.basket import Basket, apply_basket, decide_add, repeat_line
from domain.catalogue import CatalogueIndex, EmbeddedRules, decode_scan, product_from_dict
from domain.events import LineAdded, LineDiscounted, QuantityChanged
from domain.store import StoreConfig
from domain.till_commands import AddSku, Scan
from domain.till_handlers import Counter, handle_add, handle_scan
from tests.unit.conftest import MILK_EAN, ean, make_config, sample_products

RULES = EmbeddedRules(("20",), ("23",))
CAT = CatalogueIndex(sample_products())
MILK, APPLE = CAT.by_sku["MILK-1L"], CAT.by_sku["APPLE"]


def basket_of(*events: object) -> Basket:
    b = Basket("B1", "T1")
    for ev in events:
        b = apply_basket(b, ev)
    return b


def test_a_counted_item_merges_into_its_newest_line_only_when_alike():
    scan = decode_scan(MILK_EAN, RULES)
    b = basket_of()
    b = apply_basket(b, decide_add(b, MILK, 700, scan))
    line = repeat_line(b, MILK, scan)
    assert line is not None and line.line_id == "L1"
    assert repeat_line(b, MILK, scan, merge=False) is None  # turned off
    assert repeat_line(b, replace(MILK, price=4600), scan) is None  # repriced since
    by_sku = decode_scan("MILK-1L", RULES)
    assert repeat_line(b, MILK, by_sku) is None  # another code: a line of its own
    b = apply_basket(b, LineDiscounted(basket="B1", line_id="L1", kind="pct", value=1000))
    assert repeat_line(b, MILK, scan) is None  # a line with its own discount stays as it is


def test_weighed_and_labelled_items_never_merge():
    b = basket_of()
    weighed = decode_scan(ean("230004201500"), RULES)
    b = apply_basket(b, decide_add(b, APPLE, 0, weighed))
    assert repeat_line(b, APPLE, weighed) is None
    priced = decode_scan(ean("200004200999"), RULES)
    b = apply_basket(b, decide_add(b, APPLE, 0, priced))
    assert repeat_line(b, APPLE, priced) is None


def counter(basket: Basket | None, cat: CatalogueIndex = CAT, **cfg: object) -> Counter:
    baskets = {basket.basket_id: basket} if basket else {}
    return Counter("T1", basket, baskets, make_config(**cfg), cat)


def test_the_scan_handler_adds_one_to_the_line_unless_told_not_to():
    first = handle_scan(Scan(code=MILK_EAN), counter(None))
    assert isinstance(first, LineAdded)
    b = basket_of(first)
    again = handle_scan(Scan(code=MILK_EAN), counter(b))
    assert isinstance(again, QuantityChanged) and (again.line_id, again.qty) == ("L1", 2)
    # a quantity typed with the scan is a line of its own
    assert isinstance(handle_scan(Scan(code=MILK_EAN, qty=3), counter(b)), LineAdded)
    # the store turns merging off; a product's own setting wins over the store's
    assert isinstance(
        handle_scan(Scan(code=MILK_EAN), counter(b, merge_repeat_scans=False)), LineAdded
    )
    own = CatalogueIndex([replace(MILK, merge=False), *sample_products()[1:]])
    assert isinstance(handle_scan(Scan(code=MILK_EAN), counter(b, own)), LineAdded)
    on = CatalogueIndex([replace(MILK, merge=True), *sample_products()[1:]])
    assert isinstance(
        handle_scan(Scan(code=MILK_EAN), counter(b, on, merge_repeat_scans=False)), QuantityChanged
    )


def test_a_repeat_tap_on_the_item_grid_merges_too():
    b = basket_of(handle_add(AddSku(sku="MILK-1L"), counter(None)))
    again = handle_add(AddSku(sku="MILK-1L"), counter(b))
    assert isinstance(again, QuantityChanged) and again.qty == 2
    assert isinstance(handle_add(AddSku(sku="APPLE", weight_g=500), counter(b)), LineAdded)


def test_settings_round_trip():
    assert StoreConfig().merge_repeat_scans is True
    cfg = StoreConfig.from_dict({"merge_repeat_scans": False})
    assert StoreConfig.from_dict(cfg.to_dict()).merge_repeat_scans is False
    p = replace(MILK, favourite=True, image="milk.png", merge=False)
    assert product_from_dict(p.to_dict()) == p
    assert product_from_dict(MILK.to_dict()).merge is None


def test_the_item_grid_lists_categories_and_favourites():
    cat = CatalogueIndex([replace(MILK, favourite=True), *sample_products()[1:]])
    cats, favs = cat.grid()
    assert cats == sorted({p.category for p in sample_products() if p.category})
    assert [p.sku for p in favs] == ["MILK-1L"]
    _, dairy = cat.grid("dairy")
    assert [p.sku for p in dairy] == ["MILK-1L", "CHEESE"]
