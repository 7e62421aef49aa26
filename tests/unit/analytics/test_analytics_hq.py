"""HQ: the warehouse opens with one call in both engines, and its figures agree with each other."""

from __future__ import annotations

import polars as pl

from analytics.anomaly import score
from analytics.examples import hq_notebook
from analytics.flatten import SCHEMAS, TABLES, flatten
from analytics.hq import Warehouse, write_partitioned


def test_example_notebook_runs_and_engines_agree(tmp_path):
    hq_notebook.demo_warehouse(str(tmp_path), days=6)
    out = hq_notebook.main(str(tmp_path))
    pol = out["polars_revenue_by_store_day"]
    duck = Warehouse(tmp_path).revenue(("store_id", "business_day"))
    assert (
        pol.select("store_id", "business_day", "revenue")
        .sort("store_id", "business_day")
        .equals(duck.select("store_id", "business_day", "revenue"))
    )
    for by in (("store_id", "business_day", "tender"), ("store_id", "category"), ("store_id",)):
        a = Warehouse(tmp_path).revenue(by, engine="duckdb")
        b = Warehouse(tmp_path).revenue(by, engine="polars")
        assert a.equals(b.select(a.columns)), by
    # revenue by tender and by category both total the store revenue
    tot = duck.group_by("store_id").agg(pl.col("revenue").sum()).sort("store_id")
    ten = (
        out["revenue_by_store_day_tender"]
        .group_by("store_id")
        .agg(pl.col("revenue").sum())
        .sort("store_id")
    )
    cat = (
        out["revenue_by_category"]
        .group_by("store_id")
        .agg(pl.col("revenue").sum())
        .sort("store_id")
    )
    assert tot["revenue"].to_list() == cat["revenue"].to_list()
    # tenders include cash rounding (payments = total + rounding)
    assert all(abs(a - b) < 10_000 for a, b in zip(tot["revenue"], ten["revenue"], strict=True))
    assert out["bought_together"].height > 0 and (out["bought_together"]["lift"] > 0).all()
    assert out["anomalies"]["store_id"].n_unique() == 3


def test_one_call_opens_every_table_and_rules_match_per_store(history, tmp_path):
    frames = flatten(history.envelopes, "S001", history.shop.zone)
    write_partitioned(frames, tmp_path)
    wh = Warehouse(tmp_path)
    lazy = wh.lazy()
    assert set(lazy) == set(TABLES)
    for t in TABLES:
        assert lazy[t].collect_schema() == pl.Schema(SCHEMAS[t])
        assert lazy[t].select(pl.len()).collect().item() == frames[t].height
    con = wh.duckdb()
    assert (
        con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]
        == frames["order_lines"].height
    )
    across = wh.anomalies()
    local = score(frames)
    assert set(zip(across["rule"], across["order_id"], strict=True)) == set(
        zip(local["rule"], local["order_id"], strict=True)
    )
    # the layout
    assert (tmp_path / "orders" / "store=S001").is_dir()
    assert any(p.name.startswith("day=") for p in (tmp_path / "orders" / "store=S001").iterdir())
