"""The shared schema: every table always present, fixed dtypes, envelopes and wire dicts agree."""

from __future__ import annotations

import polars as pl

from analytics.flatten import SCHEMAS, TABLES, duckdb_ddl, flatten


def _env(seq, kind, body, ts=1_700_000_000_000_000, staff="alice", till="T1"):
    return {
        "seq": seq,
        "id": f"id{seq}",
        "ts": ts,
        "kind": kind,
        "v": 1,
        "staff": staff,
        "till": till,
        "ip": "10.0.0.5",
        "agg": "",
        "body": body,
        "hash": "",
    }


ORDER = {
    "order_id": "O1",
    "number": "T1-000001",
    "currency": "THB",
    "prices_include_tax": True,
    "lines": [
        {
            "line_id": "L1",
            "sku": "A",
            "names": {"en": "Milk"},
            "category": "dairy",
            "unit": "pc",
            "qty": 2,
            "unit_price": 4500,
            "base": 9000,
            "discount": 500,
            "amount": 8500,
            "tax": 556,
            "total": 8500,
            "tax_class": "std",
            "rate_bp": 700,
        }
    ],
    "subtotal": 9000,
    "discount": 500,
    "tax": 556,
    "total": 8500,
    "rounding": 0,
    "payments": [
        {
            "kind": "cash",
            "amount": 8500,
            "tendered": 10000,
            "change": 1500,
            "reference": "",
            "last4": "",
            "member": "",
        }
    ],
    "change": 1500,
    "member": "",
}


def test_every_table_has_its_schema_even_when_empty():
    out = flatten([], "S1", "Asia/Bangkok")
    assert tuple(out) == TABLES
    for t, df in out.items():
        assert df.schema == pl.Schema(SCHEMAS[t])
        assert duckdb_ddl(t).startswith("CREATE TABLE")


def test_order_rows_and_business_day_in_store_zone():
    # 2023-11-14 22:13:20 UTC = 2023-11-15 05:13 in Bangkok
    out = flatten([_env(1, "order.completed", ORDER)], "S1", "Asia/Bangkok")
    o = out["orders"].row(0, named=True)
    assert (o["total"], o["cash"], o["change"], o["tendered"]) == (8500, 8500, 1500, 10000)
    assert str(o["business_day"]) == "2023-11-15"
    assert o["local_ts"].hour == 5
    assert out["order_lines"]["category"].to_list() == ["dairy"]
    assert out["stock_movements"]["delta"].to_list() == [-2]
    out2 = flatten([_env(1, "order.completed", ORDER)], "S1", "Asia/Bangkok", day_start_hour=6)
    assert str(out2["orders"]["business_day"][0]) == "2023-11-14"


def test_day_events_unregistered_kinds_slot_in():
    out = flatten(
        [
            _env(1, "day.opened", {"till": "T1", "float": 200000}),
            _env(
                2,
                "day.closed",
                {"till": "T1", "counted_cash": 250000, "z_report": {"x": 1}},
                till="T9",
            ),
        ],
        "S1",
        "UTC",
    )
    d = out["day_closes"]
    assert d["event"].to_list() == ["opened", "closed"]
    assert d["till"].to_list() == ["T1", "T1"]
    assert d["opening_float"].to_list() == [200000, None]
    assert d["counted_cash"].to_list() == [None, 250000]
