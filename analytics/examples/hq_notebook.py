"""HQ notebook: the common questions over the warehouse, with Polars and with DuckDB.

Run it as a script (``python -m analytics.examples.hq_notebook [WAREHOUSE_DIR]``) or cell by cell in
Jupyter. Without a directory it builds a small demo warehouse from three generated stores.
"""

# %% setup
from __future__ import annotations

import sys
import tempfile
from datetime import date

import polars as pl

from analytics.flatten import flatten
from analytics.generate import Shop, generate
from analytics.hq import Warehouse, write_partitioned


def demo_warehouse(root: str, days: int = 10) -> None:
    """Three stores' generated journals, flattened and written in the warehouse layout."""
    for i, sid in enumerate(("S001", "S002", "S003")):
        h = generate(
            days=days,
            seed=100 + i,
            start=date(2024, 3, 4),
            shop=Shop(store_id=sid, orders_per_day=120 + 60 * i),
        )
        write_partitioned(flatten(h.envelopes, sid, h.shop.zone), root)


def main(root: str | None = None) -> dict[str, pl.DataFrame]:
    if root is None:
        root = tempfile.mkdtemp(prefix="kassa-warehouse-")
        demo_warehouse(root)
    wh = Warehouse(root)
    out: dict[str, pl.DataFrame] = {}

    # %% Polars: every table as a LazyFrame, in one call
    t = wh.lazy()
    out["polars_revenue_by_store_day"] = (
        t["orders"]
        .group_by("store_id", "business_day")
        .agg(pl.len().alias("orders"), pl.col("total").sum().alias("sales"))
        .join(
            t["refunds"]
            .group_by("store_id", "business_day")
            .agg(pl.col("amount").sum().alias("refunds")),
            on=["store_id", "business_day"],
            how="left",
        )
        .with_columns(pl.col("refunds").fill_null(0))
        .with_columns((pl.col("sales") - pl.col("refunds")).alias("revenue"))
        .sort("store_id", "business_day")
        .collect()
    )

    # %% DuckDB: one view per table on the same files
    con = wh.duckdb()
    rows = con.execute("""
        SELECT store_id, kind AS tender, sum(amount)::BIGINT AS paid
        FROM payments GROUP BY ALL ORDER BY store_id, tender""").fetchall()
    out["duckdb_paid_by_store_tender"] = pl.DataFrame(
        rows, schema=["store_id", "tender", "paid"], orient="row"
    )

    # %% the library's answers
    out["revenue_by_store_day_tender"] = wh.revenue(("store_id", "business_day", "tender"))
    out["revenue_by_category"] = wh.revenue(("store_id", "category"), engine="polars")
    out["anomalies"] = wh.anomalies()
    out["bought_together"] = wh.bought_together(min_orders=5, top=10)
    out["top_categories_pairs"] = wh.bought_together(min_orders=5, top=10, by="category")
    return out


if __name__ == "__main__":
    results = main(sys.argv[1] if len(sys.argv) > 1 else None)
    with pl.Config(tbl_rows=12, tbl_width_chars=160):
        for name, df in results.items():
            print(f"\n## {name}\n{df}")
