"""Reconciliation end to end without a server: a store journal (card sales, a card refund, an
exchange whose credit moved no money) against a provider's CSV and XLSX statements with planted
mismatches, through ``kassa store reconcile`` and, over the warehouse, ``kassa admin reconcile``;
and the supplier report from goods received."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import xlsxwriter

from analytics.flatten import flatten
from analytics.hq import write_partitioned
from analytics.reconcile_io import mapping_for, read_statement
from domain.commands import RefundOrder
from domain.events import StockReceived
from domain.exchange import ExchangeItem, ExchangeOrder
from kassa_cli.main import main
from tests.unit.conftest import cid

ZONE = ZoneInfo("Asia/Bangkok")


def card(amount: int, ref: str) -> dict:
    return {"kind": "card", "amount": amount, "reference": ref, "last4": "4242"}


def local(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).astimezone(ZONE).strftime("%d/%m/%Y %H:%M:%S")


@pytest.fixture
def store(shop, tmp_path):
    """The shop's journal in a data folder: four card sales, one card refund, one exchange."""
    (tmp_path / "store.json").write_text(json.dumps({"store_id": "S9", "currency": "THB"}))
    orders = []
    for i, (sku, price) in enumerate(
        (("MILK-1L", 4500), ("BREAD", 3500), ("SOAP", 2000), ("WATER", 1000))
    ):
        shop.do("add", {"sku": sku, "qty": 1})
        orders.append(shop.do("pay", {"tenders": [card(price, f"RRN{i}")]})["order"])
        shop.ledger.clock.advance(600)
    shop.submit(RefundOrder(orders[1]["order_id"], cid(), None, cash_increment=25))
    soap = ExchangeItem("SOAP", {"en": "Bar soap"}, "each", 1, 2000, "std", 700, "household")
    line = orders[0]["lines"][0]["line_id"]
    shop.submit(ExchangeOrder(orders[0]["order_id"], cid(), cid(), {line: 1}, (soap,)))
    shop.submit(StockReceived("SOAP", 24, "INV-1", "ACME", 150))
    shop.submit(StockReceived("SOAP", 12, "INV-2", "ACME", 140))
    shop.submit(StockReceived("MILK-1L", 6, "Dairy Co/77"))  # no supplier: the free receipt's
    return tmp_path, orders


def planted_rows(orders: list[dict], ts: list[int]) -> tuple[list[list], set, set, set]:
    """Statement rows: order 0 and the 25.00 its exchange gave back to the card matched (the
    20.00 credit that paid for the new item never reaches the acquirer), order 1 and its refund
    matched, order 2 settled for 1.00 less, order 3 never settled, one row never journaled."""
    rows = [
        ["RRN0", local(ts[0]), "45.00", "0.90"],
        ["RRN0", local(ts[3] + 10**9), "-25.00", "0.00"],
        ["RRN1", local(ts[1]), "35.00", "0.70"],
        ["RRN1", local(ts[1] + 10**9), "-35.00", "0.00"],
        ["RRN2", local(ts[2]), "19.00", "0.40"],
        ["RRN77", local(ts[2]), "12.00", "0.20"],
    ]
    return rows, {orders[2]["order_id"]}, {orders[3]["order_id"]}, {"RRN77"}


def test_store_reconcile_reports_each_planted_case(store, shop, capsys):
    data, orders = store
    ts = [shop.ledger.book.order(o["order_id"]).ts for o in orders]
    rows, differs, missing, extra = planted_rows(orders, ts)
    statement = data / "acq.csv"
    pl.DataFrame(
        rows, schema=["RRN", "Transaction Date", "Gross Amount", "MDR Fee"], orient="row"
    ).write_csv(statement)
    rc = main(["store", "reconcile", "--data", str(data), "--statement", str(statement),
               "--provider", "card-acquirer"])  # fmt: skip
    assert rc == 3  # something to look at
    out = pl.read_csv(data / "acq-reconciled.csv", infer_schema_length=0)
    by = {
        s: out.filter(pl.col("status") == s)
        for s in ("matched", "amount_differs", "missing", "extra")
    }
    assert set(by["amount_differs"]["order_id"]) == differs
    assert by["amount_differs"]["difference"].to_list() == ["-100"]
    assert set(by["missing"]["order_id"]) == missing
    assert set(by["extra"]["reference"]) == extra
    assert by["matched"].height == 4 and out.height == 7
    printed = capsys.readouterr().out
    from domain.money import format_money

    assert f"fees {format_money(220, 'THB')}" in printed


def test_xlsx_with_fee_rows_and_a_user_mapping_at_hq(store, shop, tmp_path):
    data, orders = store
    ts = [shop.ledger.book.order(o["order_id"]).ts for o in orders]
    rows, differs, missing, extra = planted_rows(orders, ts)
    path = tmp_path / "bank.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sh = wb.add_worksheet()
    for c, h in enumerate(("Ref", "When", "Gross", "Kind")):
        sh.write(0, c, h)
    body = [[r[0], r[1], r[2], "SALE"] for r in rows] + [["", local(ts[3]), "-2.20", "FEE"]]
    for i, r in enumerate(body, 1):
        for c, v in enumerate(r):
            sh.write_string(i, c, v)
    wb.close()
    mapping = tmp_path / "mine.json"
    mapping.write_text(json.dumps({"mybank": {
        "reference": "Ref", "amount": "Gross", "date": "When", "kind": "Kind",
        "fee_kinds": ["fee"], "date_format": "%d/%m/%Y %H:%M:%S", "tenders": ["card"],
    }}))  # fmt: skip
    parsed = read_statement(path, mapping_for("mybank", mapping), "THB", "Asia/Bangkok")
    assert [r.fee_only for r in parsed] == [False] * 6 + [True] and parsed[-1].fee == 220
    write_partitioned(flatten(shop.ledger.read(0, 10_000), "S9", "Asia/Bangkok"), tmp_path / "wh")
    rc = main(["admin", "reconcile", "--store", "S9", "--warehouse", str(tmp_path / "wh"),
               "--statement", str(path), "--provider", "mybank", "--mapping", str(mapping),
               "--out", str(tmp_path / "hq.csv")])  # fmt: skip
    assert rc == 3
    out = pl.read_csv(tmp_path / "hq.csv", infer_schema_length=0)
    assert set(out.filter(pl.col("status") == "missing")["order_id"]) == missing
    assert set(out.filter(pl.col("status") == "amount_differs")["order_id"]) == differs
    assert set(out.filter(pl.col("status") == "extra")["reference"]) == extra
    assert out.filter(pl.col("status") == "matched").height == 4
    assert set(out.filter(pl.col("status") != "extra")["store"]) == {"S9"}


def test_an_unknown_provider_is_refused_with_its_code():
    from domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        mapping_for("nobody")
    assert exc.value.code == "reconcile.unknown_provider"


def test_supplier_report(store, capsys):
    data, _ = store
    out = data / "suppliers.csv"
    assert main(["store", "suppliers-report", "--data", str(data), "--out", str(out)]) == 0
    df = pl.read_csv(out)
    # what the store owes: 24 × 1.50 + 12 × 1.40 = 52.80 to ACME
    assert df.rows() == [("(none)", "MILK-1L", 1, 6, 0), ("ACME", "SOAP", 2, 36, 5280)]
    assert "ACME: THB52.80 owed for goods received" in capsys.readouterr().out
