"""Bounded values: a store's limits on prices, quantities and amounts at every entry point, the
ledger's own check, and read models that quarantine what they cannot hold instead of stalling."""

from __future__ import annotations

import msgspec
import pytest

from actors.catalogue import Catalogue
from actors.ledger import Ledger, Request
from actors.till import Till
from analytics.flatten import PoisonEvent, flatten
from analytics.store import StoreAnalytics
from domain.basket import Basket, apply_basket, check_pay, decide_add, decide_quantity
from domain.book import Book, BookRules, check_bounds
from domain.catalogue import Product, check_product, decode_scan, product_from_dict
from domain.day import DayOpened
from domain.errors import InvalidInput, Unavailable
from domain.events import (
    LineAdded,
    OrderCompleted,
    Payment,
    StockReceived,
    WalletToppedUp,
)
from domain.money import CEILING, DEFAULT_LIMITS, Limits
from domain.store import StoreConfig
from kiosk.importer import check_rows
from orderkit import one_line_order
from tests.unit.conftest import Shop, ean, make_config

POISON = 2**63
MILK = Product("MILK", {"en": "Milk"}, 4500)
APPLE = Product("APPLE", {"en": "Apples"}, 8000, unit="kg", plu="00042")
TV = Product("TV", {"en": "Television"}, DEFAULT_LIMITS.max_unit_price)


def code_of(call) -> str:
    with pytest.raises(InvalidInput) as exc:
        call()
    return exc.value.code


# ------------------------------------------------------------------ the settings


def test_default_limits_suit_thb_in_satang():
    lim = StoreConfig().limits
    assert lim.max_unit_price == 10_000_000_00 and lim.max_order_total == 10_000_000_00
    assert lim.max_line_qty == 10_000 and lim.max_line_weight_g == 1_000_000


def test_limits_come_from_store_json_and_go_back_to_it():
    cfg = StoreConfig.from_dict(
        {"currency": "THB", "limits": {"max_unit_price": 500_00, "max_topup": 1_000_00}}
    )
    assert (cfg.limits.max_unit_price, cfg.limits.max_topup) == (500_00, 1_000_00)
    assert cfg.limits.max_line_qty == DEFAULT_LIMITS.max_line_qty
    assert StoreConfig.from_dict(cfg.to_dict()).limits == cfg.limits


@pytest.mark.parametrize("bad", [0, -1, CEILING + 1, POISON, "100", 1.5, True])
def test_a_limit_beyond_the_ceiling_or_not_a_whole_number_is_refused(bad):
    assert (
        code_of(lambda: StoreConfig.from_dict({"limits": {"max_unit_price": bad}}))
        == "store.bad_limit"
    )


# ------------------------------------------------------------------ catalogue and import


@pytest.mark.parametrize("price", [POISON, CEILING + 1, 10**30])
def test_a_product_priced_beyond_any_store_cannot_exist(price):
    assert code_of(lambda: Product("X", {"en": "x"}, price)) == "amount.too_large"


def test_a_price_above_the_store_limit_is_refused_with_its_code():
    p = Product("X", {"en": "x"}, DEFAULT_LIMITS.max_unit_price + 1)
    assert code_of(lambda: check_product(p)) == "amount.too_large"
    assert check_product(TV) is TV
    assert code_of(lambda: check_product(MILK, Limits(max_unit_price=4499))) == "amount.too_large"


def test_low_stock_is_bounded_too():
    assert (
        code_of(
            lambda: product_from_dict(
                {"sku": "X", "names": {"en": "x"}, "price": 1, "low_stock": POISON}
            )
        )
        == "product.bad_low_stock"
    )


def test_import_refuses_the_poison_rows_and_keeps_the_good_ones():
    rows = [
        {"sku": "OK1", "name": "good", "price": "12.50"},
        {"sku": "BIG", "name": "2**63 satang", "price": "92233720368547758.08"},
        {"sku": "OVER", "name": "just over", "price": "10000000.01"},
        {"sku": "MAX", "name": "at the limit", "price": "10000000.00"},
        {"sku": "LOW", "name": "x", "price": "1", "low_stock": "9" * 40},
    ]
    out = check_rows(rows, "THB", {"std": 700})
    assert [(r.row, r.error_code) for r in out] == [
        (2, ""),
        (3, "amount.too_large"),
        (4, "amount.too_large"),
        (5, ""),
        (6, "product.bad_low_stock"),
    ]
    tight = check_rows(rows[:1], "THB", None, {"max_unit_price": 1000})
    assert tight[0].error_code == "amount.too_large"


def test_catalogue_update_names_every_bad_row_and_changes_nothing(tmp_path):
    cat = Catalogue(tmp_path, make_config())
    good = {"sku": "G1", "names": {"en": "good"}, "price": 100}
    with pytest.raises(InvalidInput) as exc:
        cat.prepare_update(
            [
                good,
                {**good, "sku": "P1", "price": POISON},
                {**good, "sku": "P2", "price": DEFAULT_LIMITS.max_unit_price + 1},
                {"sku": "P3"},
            ],
            "test",
        )
    err = exc.value
    assert err.code == "amount.too_large" and err.details["row"] == 2
    assert [(r["row"], r["code"]) for r in err.details["rows"]] == [
        (2, "amount.too_large"),
        (3, "amount.too_large"),
        (4, "product.bad_row"),
    ]
    assert len(cat.index) == 0


def test_a_saved_catalogue_with_a_poison_product_still_loads_the_rest(tmp_path):
    doc = {
        "version": "v1",
        "products": [
            {"sku": "G1", "names": {"en": "good"}, "price": 100},
            {"sku": "P1", "names": {"en": "poison"}, "price": POISON},
        ],
    }
    (tmp_path / "catalogue.json").write_bytes(msgspec.json.encode(doc))
    cat = Catalogue(tmp_path, make_config())
    assert sorted(cat.index.by_sku) == ["G1"]


# ------------------------------------------------------------------ the basket


@pytest.mark.parametrize("qty", [DEFAULT_LIMITS.max_line_qty + 1, 10**9, POISON])
def test_an_absurd_quantity_is_refused(qty):
    assert code_of(lambda: decide_add(Basket("B", "T"), MILK, 700, qty=qty)) == "quantity.too_large"
    b = apply_basket(Basket("B", "T"), decide_add(Basket("B", "T"), MILK, 700))
    assert code_of(lambda: decide_quantity(b, "L1", qty)) == "quantity.too_large"


def test_the_largest_line_is_accepted():
    ev = decide_add(Basket("B", "T"), MILK, 700, qty=DEFAULT_LIMITS.max_line_qty)
    assert ev.qty == DEFAULT_LIMITS.max_line_qty
    ev = decide_add(Basket("B", "T"), APPLE, 700, weight_g=DEFAULT_LIMITS.max_line_weight_g)
    assert ev.qty == 1_000_000


def test_a_weight_over_the_limit_is_refused_typed_or_embedded():
    assert (
        code_of(lambda: decide_add(Basket("B", "T"), APPLE, 700, weight_g=1_000_001))
        == "quantity.too_large"
    )
    scan = decode_scan(ean("230004205000"))  # 5,000 g embedded
    small = Limits(max_line_weight_g=4_999)
    assert (
        code_of(lambda: decide_add(Basket("B", "T"), APPLE, 700, scan, limits=small))
        == "quantity.too_large"
    )


def test_an_embedded_price_over_the_limit_is_refused():
    cheese = Product("CHEESE", {"en": "Cheese"}, 50000, plu="00077")
    scan = decode_scan(ean("200007712345"))  # labelled 123.45
    assert decide_add(Basket("B", "T"), cheese, 700, scan).unit_price == 12345
    assert (
        code_of(
            lambda: decide_add(
                Basket("B", "T"), cheese, 700, scan, limits=Limits(max_unit_price=12344)
            )
        )
        == "amount.too_large"
    )


def test_a_basket_never_grows_past_the_largest_order():
    b = apply_basket(Basket("B", "T"), decide_add(Basket("B", "T"), TV, 700))
    assert code_of(lambda: decide_add(b, TV, 700)) == "amount.too_large"
    assert code_of(lambda: decide_quantity(b, "L1", 2)) == "amount.too_large"
    assert code_of(lambda: decide_add(Basket("B", "T"), TV, 700, qty=2)) == "amount.too_large"


def test_a_tender_above_the_limit_is_refused():
    check_pay(4500, [DEFAULT_LIMITS.max_tender])
    assert code_of(lambda: check_pay(4500, [POISON])) == "amount.too_large"
    assert code_of(lambda: check_pay(4500, [DEFAULT_LIMITS.max_tender + 1])) == "amount.too_large"


def test_the_till_refuses_a_poison_tender_and_journals_nothing(shop):
    shop.do("scan", {"code": "MILK-1L"})
    seq = shop.ledger.journal.seq
    with pytest.raises(InvalidInput) as exc:
        shop.do("pay", {"tenders": [{"kind": "cash", "amount": 10**12}]})
    assert exc.value.code == "amount.too_large"
    with pytest.raises(InvalidInput) as exc:
        shop.do("scan", {"code": "MILK-1L", "qty": POISON})
    assert exc.value.code == "quantity.too_large"
    assert shop.ledger.journal.seq == seq


# ------------------------------------------------------------------ the ledger's own check


def _order(price: int, total: int | None = None) -> OrderCompleted:
    total = price if total is None else total
    return one_line_order("O1", price, (Payment(kind="cash", amount=total),), total=total)


@pytest.mark.parametrize(
    "body",
    [
        LineAdded(
            basket="B",
            line_id="L1",
            sku="X",
            names={"en": "x"},
            unit="each",
            qty=1,
            unit_price=POISON,
            tax_class="std",
            rate_bp=0,
        ),
        LineAdded(
            basket="B",
            line_id="L1",
            sku="X",
            names={"en": "x"},
            unit="each",
            qty=POISON,
            unit_price=1,
            tax_class="std",
            rate_bp=0,
        ),
        _order(POISON),
        _order(DEFAULT_LIMITS.max_order_total + 1),
        WalletToppedUp("M1", DEFAULT_LIMITS.max_topup + 1, "cash"),
        StockReceived("X", POISON),
        DayOpened("T1", "2026-01-01", POISON),
    ],
    ids=["price", "qty", "order", "order-limit", "topup", "stock", "float"],
)
def test_the_book_refuses_an_event_beyond_the_bounds(body):
    assert code_of(lambda: check_bounds(body)) in ("amount.too_large", "quantity.too_large")
    assert code_of(lambda: Book().check(body, "T1")) in ("amount.too_large", "quantity.too_large")


def test_the_ledger_journals_nothing_beyond_the_bounds(shop):
    shop.member("M1")
    seq = shop.ledger.journal.seq
    with pytest.raises(InvalidInput) as exc:
        shop.submit(WalletToppedUp("M1", POISON, "cash"))
    assert exc.value.code == "amount.too_large"
    with pytest.raises(InvalidInput):
        shop.ledger.submit(Request("x" * 36, b"c", _order(POISON), staff="m", till="T1"))
    assert shop.ledger.journal.seq == seq


def test_the_store_limits_reach_the_book(tmp_path, clock, config, catalogue):
    rules = BookRules(limits=Limits(max_topup=100_00))  # as the store's ledger actor gives them
    shop = Shop(
        Ledger(tmp_path / "journal.sqlite", clock=clock, rules=rules), Till("T1", config, catalogue)
    )
    shop.member("M1")
    assert code_of(lambda: shop.submit(WalletToppedUp("M1", 100_01, "cash"))) == "amount.too_large"
    assert shop.submit(WalletToppedUp("M1", 100_00, "cash")).body.balance_after == 100_00


# ------------------------------------------------------------------ read models quarantine


def _wire(seq: int, total: int, ts: int = 1_780_000_000_000_000) -> dict:
    body = msgspec.to_builtins(_order(total))
    body["order_id"] = f"O{seq}"
    return {
        "seq": seq,
        "id": f"id-{seq}",
        "ts": ts + seq,
        "kind": "order.completed",
        "staff": "m1",
        "till": "T1",
        "ip": "",
        "agg": f"O{seq}",
        "body": msgspec.json.encode(body),
    }


def test_flatten_quarantines_the_poison_and_keeps_the_rest():
    events = [_wire(1, 100), _wire(2, POISON), _wire(3, 200), _wire(4, 2**62), _wire(5, 300)]
    with pytest.raises((PoisonEvent, TypeError, OverflowError, ValueError)):
        flatten(events, "S1", "Asia/Bangkok")  # without a quarantine list it refuses
    bad: list[dict] = []
    frames = flatten(events, "S1", "Asia/Bangkok", quarantine=bad)
    assert frames["orders"]["seq"].to_list() == [1, 3, 5]
    assert [(q["seq"], q["kind"]) for q in bad] == [(2, "order.completed"), (4, "order.completed")]
    assert all(q["error"] for q in bad)


def test_flatten_quarantines_a_body_missing_its_fields():
    broken = {**_wire(2, 100), "body": b'{"order_id": "O2"}'}
    bad: list[dict] = []
    frames = flatten([_wire(1, 100), broken], "S1", "UTC", quarantine=bad)
    assert frames["orders"].height == 1 and bad[0]["seq"] == 2


def test_the_analytics_copy_quarantines_and_every_good_order_counts():
    with StoreAnalytics(":memory:", "Asia/Bangkok", "S1") as sa:
        assert sa.ingest([_wire(1, 100), _wire(2, POISON), _wire(3, 200)]) == 3
        assert sa.ingest([_wire(4, 300)]) == 1
        assert sa.last_seq == 4
        day = sa.rows("SELECT min(business_day) d FROM orders")[0]["d"]
        rep = sa.fresh_report("x_report", {"day": day, "till": "T1"}, 4)
        assert rep["totals"]["orders"] == 3 and rep["totals"]["net_sales"] == 600
        assert rep["quarantined"] == 1 and rep["quarantined_events"][0]["seq"] == 2
        assert (rep["as_of_seq"], rep["journal_seq"], rep["lagging"]) == (4, 4, False)


def test_a_report_says_when_it_lags_and_a_strict_one_refuses():
    with StoreAnalytics(":memory:", "UTC", "S1") as sa:
        sa.ingest([_wire(1, 100)])
        day = sa.rows("SELECT min(business_day) d FROM orders")[0]["d"]
        rep = sa.fresh_report("x_report", {"day": day}, 9)
        assert (rep["as_of_seq"], rep["journal_seq"], rep["lagging"]) == (1, 9, True)
        with pytest.raises(Unavailable) as exc:
            sa.fresh_report("z_report", {"day": day}, 9, strict=True)
        assert exc.value.code == "report.lagging"
        assert exc.value.details == {"as_of_seq": 1, "journal_seq": 9}


def test_the_warehouse_quarantines_alerts_and_exports_the_rest(tmp_path):
    import sqlite3

    import polars as pl

    from cloud.registry import Registry
    from cloud.warehouse import Warehouse
    from domain.ports import ManualClock

    store = tmp_path / "stores" / "S1"
    store.mkdir(parents=True)
    con = sqlite3.connect(store / "events.sqlite")
    con.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT, ts INTEGER, kind TEXT, "
        "v INTEGER, staff TEXT, till TEXT, ip TEXT, agg TEXT, body BLOB, hash BLOB)"
    )
    for e in (_wire(1, 100), _wire(2, POISON), _wire(3, 200)):
        con.execute(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                e["seq"],
                e["id"],
                e["ts"],
                e["kind"],
                1,
                e["staff"],
                e["till"],
                e["ip"],
                e["agg"],
                e["body"],
                b"h",
            ),
        )
    con.commit()
    con.close()
    reg = Registry(tmp_path)
    wh = Warehouse(tmp_path, reg, ManualClock())
    assert wh.export_store("S1") == 3
    assert wh.exported("S1") == 3
    files = list((tmp_path / "warehouse" / "orders").rglob("*.parquet"))
    assert sorted(pl.concat([pl.read_parquet(f) for f in files])["seq"].to_list()) == [1, 3]
    assert [(q["seq"], q["kind"]) for q in wh.quarantined("S1")] == [(2, "order.completed")]
    assert [(a["code"], a["seq"]) for a in reg.alerts("S1")] == [("warehouse.quarantined", 2)]


@pytest.mark.parametrize("lang", ["en", "zh", "th", "ar"])
def test_the_manager_is_warned_in_their_language(lang):
    from kiosk import i18n
    from kiosk.screens.manager import report_warning

    i18n.set_language(lang)
    try:
        text = report_warning({"lagging": True, "as_of_seq": 5, "journal_seq": 9, "quarantined": 1})
        assert "5" in text and "9" in text and "1" in text
        assert ("behind the journal" in text) == (lang == "en")
        assert report_warning({"lagging": False, "quarantined": 0}) == ""
    finally:
        i18n.set_language("en")
