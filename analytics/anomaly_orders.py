"""Anomaly rules over whole orders: high discounts, discounts (and refunds) just under the approval
limit, sales outside opening hours, outlier totals and an unusual till or IP for the cashier.
Each appends its flags to ``out`` (see ``analytics.anomaly``). To add a rule on orders: add its
name to ``RULES`` and a branch here.
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out, _outside_hours


def _order_rules(
    orders: pl.LazyFrame,
    refunds: pl.LazyFrame | None,
    cfg: RuleConfig,
    want: set[str],
    out: list[pl.LazyFrame],
) -> None:
    """The rules that start from the ``orders`` table (``o``: orders with their discount in bp)."""
    bp = (pl.col("discount") * 10000.0 / pl.col("subtotal")).fill_nan(0.0)
    o = orders.with_columns(pl.when(pl.col("subtotal") > 0).then(bp).otherwise(0.0).alias("_bp"))
    if "high_discount" in want:
        r = o.filter(pl.col("_bp") >= cfg.high_discount_bp)
        out.append(
            _out(
                r,
                "high_discount",
                cfg,
                pl.col("_bp") / cfg.high_discount_bp,
                [
                    pl.col("subtotal"),
                    pl.col("discount"),
                    pl.col("_bp").round(0).cast(pl.Int64).alias("discount_bp"),
                ],
            )
        )
    if "just_under_limit" in want:
        lo = cfg.discount_limit_bp - cfg.near_limit_margin_bp
        # at the limit counts too (a 10 % limit: 10.00 %, or 10.004 % after rounding)
        hi = cfg.discount_limit_bp + cfg.near_limit_tolerance_bp
        r = o.filter((pl.col("_bp") >= lo) & (pl.col("_bp") <= hi)).with_columns(
            pl.len().over("store_id", "staff", "business_day").alias("_n")
        )
        r = r.filter(pl.col("_n") >= cfg.near_limit_count)
        out.append(
            _out(
                r,
                "just_under_limit",
                cfg,
                pl.col("_n") / cfg.near_limit_count,
                [
                    pl.lit("discount").alias("limit"),
                    pl.lit(cfg.discount_limit_bp).alias("limit_bp"),
                    pl.col("_bp").round(0).cast(pl.Int64).alias("discount_bp"),
                    pl.col("_n").alias("count_that_day"),
                ],
            )
        )
    if "outside_hours" in want:
        out.append(_outside_hours(o, "sale", cfg, [pl.col("total").alias("amount")]))
    if "total_outlier" in want:
        k = 1.4826  # MAD → standard deviation of a normal
        r = o.select(
            "store_id",
            "order_id",
            "staff",
            "till",
            "ts",
            "business_day",
            "total",
            pl.col("local_ts").dt.hour().alias("_hour"),
            (pl.col("total").cast(pl.Float64) + 1.0).log().alias("_x"),
        )
        groups = ((["store_id", "staff"], "staff"), (["store_id", "_hour"], "hour"))
        for keys, name in (*groups, (["store_id"], "store")):
            # small groups: aggregate then join (much faster than median windows)
            med = r.group_by(keys).agg(
                pl.col("_x").median().alias(f"_m_{name}"),
                pl.col("total").median().alias(f"_med_{name}"),
                pl.len().alias(f"_n_{name}"),
            )
            r = r.join(med, on=keys, how="left")
            mad = r.group_by(keys).agg(
                ((pl.col("_x") - pl.col(f"_m_{name}")).abs().median() * k).alias(f"_mad_{name}")
            )
            r = r.join(mad, on=keys, how="left").with_columns(
                ((pl.col("_x") - pl.col(f"_m_{name}")) / pl.col(f"_mad_{name}")).alias(f"_z_{name}")
            )
        # an hour with too few orders to know its usual (a quiet evening): the store's usual
        thin = pl.col("_n_hour") < cfg.outlier_min_orders
        r = r.with_columns(
            pl.when(thin).then(pl.col("_z_store")).otherwise(pl.col("_z_hour")).alias("_z_hour"),
            pl.when(thin)
            .then(pl.col("_med_store"))
            .otherwise(pl.col("_med_hour"))
            .alias("_med_hour"),
        )
        r = r.filter(
            (pl.col("_z_staff") >= cfg.outlier_z)
            & (pl.col("_z_hour") >= cfg.outlier_z)
            & (pl.col("_n_staff") >= cfg.outlier_min_orders)
            & (pl.col("_n_store") >= cfg.outlier_min_orders)
            & pl.col("_z_staff").is_finite()
            & pl.col("_z_hour").is_finite()
        )
        out.append(
            _out(
                r,
                "total_outlier",
                cfg,
                pl.min_horizontal("_z_staff", "_z_hour") / cfg.outlier_z,
                [
                    pl.col("total"),
                    pl.col("_med_staff").round(0).cast(pl.Int64).alias("staff_median"),
                    pl.col("_med_hour").round(0).cast(pl.Int64).alias("hour_median"),
                    pl.col("_z_staff").round(2).alias("z_staff"),
                    pl.col("_z_hour").round(2).alias("z_hour"),
                ],
            )
        )
    if "unusual_till_ip" in want:
        r = o.with_columns(
            pl.len().over("store_id", "staff").alias("_n"),
            pl.len().over("store_id", "staff", "till").alias("_nt"),
            pl.len().over("store_id", "staff", "ip").alias("_ni"),
        )

        def rare(c: str) -> pl.Expr:
            return (pl.col(c) <= cfg.unusual_max_orders) & (
                pl.col(c) < cfg.unusual_share * pl.col("_n")
            )

        r = r.filter((pl.col("_n") >= cfg.unusual_min_history) & (rare("_nt") | rare("_ni")))
        out.append(
            _out(
                r,
                "unusual_till_ip",
                cfg,
                pl.col("_n") / (pl.min_horizontal("_nt", "_ni") * 50.0),
                [
                    pl.col("till"),
                    pl.col("ip"),
                    pl.col("_nt").alias("orders_on_this_till"),
                    pl.col("_ni").alias("orders_from_this_ip"),
                    pl.col("_n").alias("orders_by_staff"),
                ],
            )
        )
    if "just_under_limit" in want and refunds is not None and cfg.refund_approval_limit:
        lim = cfg.refund_approval_limit
        r = refunds.filter(
            (pl.col("amount") < lim)
            & (pl.col("amount") >= lim * (100 - cfg.refund_near_limit_pct) // 100)
        ).with_columns(pl.len().over("store_id", "staff", "business_day").alias("_n"))
        r = r.filter(pl.col("_n") >= cfg.near_limit_count)
        out.append(
            _out(
                r,
                "just_under_limit",
                cfg,
                pl.col("_n") / cfg.near_limit_count,
                [
                    pl.lit("refund").alias("limit"),
                    pl.lit(lim).alias("limit_amount"),
                    pl.col("amount"),
                    pl.col("_n").alias("count_that_day"),
                ],
            )
        )
