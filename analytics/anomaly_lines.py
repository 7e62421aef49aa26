"""Anomaly rules over refunds, order lines, voids and stock: refunds by the seller soon after the
sale or of another cashier's sale, price overrides, large or frequent voids, and sales that take a
SKU's stock below zero. Each appends its flags to ``out`` (see ``analytics.anomaly``).
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out


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
    cfg: RuleConfig,
    want: set[str],
    out: list[pl.LazyFrame],
) -> None:
    """Price overrides on order lines, voided baskets, sales that take stock below zero."""
    if lines is not None and "price_override" in want:
        factor = (10000 - cfg.price_override_bp) / 10000.0
        usual = lines.group_by("store_id", "sku").agg(
            pl.col("unit_price").median().alias("_usual"), pl.col("unit_price").min().alias("_min")
        )
        cand = usual.filter(pl.col("_min") <= pl.col("_usual") * factor)
        r = lines.join(
            cand.select("store_id", "sku", "_usual"), on=["store_id", "sku"], how="inner"
        ).filter(pl.col("unit_price") <= pl.col("_usual") * factor)
        r = r.group_by("store_id", "order_id").agg(
            pl.col("staff", "till", "ts", "business_day", "sku", "unit_price").first(),
            pl.col("_usual").first(),
        )
        out.append(
            _out(
                r,
                "price_override",
                cfg,
                1.0 - pl.col("unit_price") / pl.col("_usual"),
                [
                    pl.col("sku"),
                    pl.col("unit_price"),
                    pl.col("_usual").round(0).cast(pl.Int64).alias("usual_price"),
                ],
            )
        )

    if voids is not None and "void" in want:
        r = voids.with_columns(pl.len().over("store_id", "staff", "business_day").alias("_n"))
        r = r.filter((pl.col("amount") >= cfg.void_amount) | (pl.col("_n") > cfg.voids_per_day))
        r = r.rename({"basket": "order_id"})
        out.append(
            _out(
                r,
                "void",
                cfg,
                pl.max_horizontal(
                    pl.col("amount") / cfg.void_amount, pl.col("_n") / cfg.voids_per_day
                ),
                [
                    pl.col("amount"),
                    pl.col("lines"),
                    pl.col("reason"),
                    pl.col("_n").alias("voids_that_day"),
                ],
            )
        )

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
