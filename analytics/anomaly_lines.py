"""Anomaly rules over refunds, order lines, voids and stock: refunds by the seller soon after the
sale or of another cashier's sale, and sales that take a SKU's stock below zero; price overrides,
voids and removed lines are in ``analytics.anomaly_scan``. Each appends its flags to ``out``
(see ``analytics.anomaly``).
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out
from analytics.anomaly_scan import _price_override, _removed_lines, _void_outliers


def _refund_rules(
    refunds: pl.LazyFrame,
    orders: pl.LazyFrame | None,
    cfg: RuleConfig,
    want: set[str],
    out: list[pl.LazyFrame],
) -> None:
    """Refunds by the seller, soon after the sale; refunds of another cashier's sale."""
    mins = (pl.col("ts") - pl.col("original_ts")).dt.total_seconds() / 60.0
    if "refund_soon_same_staff" in want:
        r = refunds.filter(
            (pl.col("staff") == pl.col("original_staff"))
            & pl.col("original_ts").is_not_null()
            & (mins <= cfg.refund_soon_minutes)
        )
        out.append(
            _out(
                r,
                "refund_soon_same_staff",
                cfg,
                cfg.refund_soon_minutes / (mins + 1.0),
                [
                    pl.col("refund_id"),
                    pl.col("amount"),
                    mins.round(1).alias("minutes_after_sale"),
                ],
            )
        )
    if "refund_other_cashier" in want and orders is not None:
        sellers = orders.select("store_id", pl.col("staff")).unique()
        r = refunds.filter(
            (pl.col("staff") != pl.col("original_staff"))
            & (pl.col("original_staff") != "")
            & ~pl.col("staff").is_in(list(cfg.trusted_refunders))
        )
        r = r.join(sellers, on=["store_id", "staff"], how="semi")
        out.append(
            _out(
                r,
                "refund_other_cashier",
                cfg,
                pl.lit(1.0),
                [
                    pl.col("refund_id"),
                    pl.col("amount"),
                    pl.col("original_staff"),
                    pl.col("staff").alias("refunded_by"),
                ],
            )
        )


def _line_rules(
    lines: pl.LazyFrame | None,
    voids: pl.LazyFrame | None,
    stock: pl.LazyFrame | None,
    basket: pl.LazyFrame | None,
    catalogue: pl.LazyFrame | None,
    cfg: RuleConfig,
    want: set[str],
    out: list[pl.LazyFrame],
) -> None:
    """Price overrides on order lines, voided baskets, lines removed before paying, sales that
    take stock below zero."""
    if lines is not None and "price_override" in want:
        _price_override(lines, basket, catalogue, cfg, out)
    if voids is not None and "void" in want:
        _void_outliers(voids, cfg, out)
    if lines is not None and basket is not None and "removed_lines" in want:
        _removed_lines(lines, basket, cfg, out)

    if stock is not None and lines is not None and "negative_stock_sale" in want:
        # level after each movement: sort once by (store, sku) hash and seq; a segment starts at
        # every new SKU and at every count; level = running sum − running sum before the segment
        s = stock.select(
            pl.struct("store_id", "sku").hash().alias("_k"),
            "seq",
            "kind",
            "store_id",
            "sku",
            "order_id",
            pl.when(pl.col("kind") == "counted")
            .then(pl.col("counted"))
            .otherwise(pl.col("delta"))
            .fill_null(0)
            .alias("_v"),
        ).sort("_k", "seq")
        start = (pl.col("_k") != pl.col("_k").shift(1)).fill_null(True) | (
            pl.col("kind") == "counted"
        )
        cs = pl.col("_v").cum_sum()
        s = s.with_columns(cs.alias("_cs"), start.alias("_start"))
        s = s.with_columns(
            (
                pl.col("_cs")
                - pl.when(pl.col("_start"))
                .then(pl.col("_cs") - pl.col("_v"))
                .otherwise(None)
                .forward_fill()
            ).alias("_level")
        )
        neg = (
            s.filter((pl.col("kind") == "sale") & (pl.col("_level") < 0))
            .group_by("store_id", "order_id")
            .agg(pl.col("sku").first(), pl.col("_level").min())
        )
        r = neg.join(
            lines.select("store_id", "order_id", "staff", "till", "ts", "business_day").unique(
                ["store_id", "order_id"]
            ),
            on=["store_id", "order_id"],
        )
        out.append(
            _out(
                r,
                "negative_stock_sale",
                cfg,
                pl.lit(1.0),
                [pl.col("sku"), pl.col("_level").alias("level_after_sale")],
            )
        )
