"""Anomaly rules over whole orders: high discounts, discounts (and refunds) just under the approval
limit, sales outside opening hours, outlier totals, an unusual till or IP for the cashier, and a
cash refund soon after a wallet top-up. Each appends its flags to ``out`` (see
``analytics.anomaly``). To add a rule on orders: add its name to ``RULES`` and a branch here.
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _minute, _out


def _order_rules(
    orders: pl.LazyFrame,
    refunds: pl.LazyFrame | None,
    wallet: pl.LazyFrame | None,
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
        hi = cfg.discount_limit_bp - cfg.near_limit_tolerance_bp
        r = o.filter((pl.col("_bp") >= lo) & (pl.col("_bp") < hi)).with_columns(
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
        m = _minute()
        r = o.filter(
            (m < cfg.open_minute - cfg.hours_grace_minutes)
            | (m >= cfg.close_minute + cfg.hours_grace_minutes)
        )
        out.append(
            _out(
                r,
                "outside_hours",
                cfg,
                pl.lit(1.0),
                [
                    pl.col("local_ts").dt.strftime("%H:%M").alias("local_time"),
                    pl.lit(
                        f"{cfg.open_minute // 60:02d}:{cfg.open_minute % 60:02d}-"
                        f"{cfg.close_minute // 60:02d}:{cfg.close_minute % 60:02d}"
                    ).alias("opening_hours"),
                    pl.col("total"),
                ],
            )
        )
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
        for keys, name in ((["store_id", "staff"], "staff"), (["store_id", "_hour"], "hour")):
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
        r = r.filter(
            (pl.col("_z_staff") >= cfg.outlier_z)
            & (pl.col("_z_hour") >= cfg.outlier_z)
            & (pl.col("_n_staff") >= cfg.outlier_min_orders)
            & (pl.col("_n_hour") >= cfg.outlier_min_orders)
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
    if "topup_cash_refund" in want and refunds is not None and wallet is not None:
        tops = wallet.filter(pl.col("kind") == "topup").select(
            "store_id",
            "member",
            pl.col("ts").alias("_topup_ts"),
            pl.col("amount").alias("_topup"),
            pl.col("tender").alias("_topup_tender"),
        )
        r = refunds.filter(pl.col("cash") > 0).join(
            orders.select("store_id", "order_id", pl.col("member")).filter(pl.col("member") != ""),
            on=["store_id", "order_id"],
            how="inner",
        )
        r = r.join(tops, on=["store_id", "member"], how="inner").filter(
            (pl.col("_topup_ts") <= pl.col("ts"))
            & (pl.col("ts") - pl.col("_topup_ts") <= pl.duration(hours=cfg.topup_refund_hours))
        )
        r = r.group_by("store_id", "order_id", "refund_id").agg(
            pl.col("staff", "till", "ts", "business_day", "member", "cash").first(),
            pl.col("_topup").sum(),
            pl.col("_topup_tender").first(),
        )
        out.append(
            _out(
                r,
                "topup_cash_refund",
                cfg,
                pl.lit(1.0),
                [
                    pl.col("refund_id"),
                    pl.col("member"),
                    pl.col("cash").alias("cash_refunded"),
                    pl.col("_topup").alias("topped_up"),
                    pl.col("_topup_tender").alias("topup_tender"),
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
