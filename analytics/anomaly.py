"""Anomaly rules: orders that look wrong, flagged with a rule name, evidence and a severity.

``score(frames, config)`` runs every rule over the tables of ``analytics.flatten`` (Polars
DataFrames or LazyFrames: the store passes its DuckDB tables, HQ its warehouse scans) and returns
one frame of flags with the schema ``FLAG_SCHEMA``. Every rule is vectorised (Polars expressions,
joins and window functions; no Python loop over orders), and every grouping includes ``store_id`` so
the same rules run across stores at HQ.

Rules (thresholds in ``RuleConfig``):

======================  ==================================================================  ========
rule                    flags an order when …                                               severity
======================  ==================================================================  ========
refund_soon_same_staff  the cashier who sold it refunds it within ``refund_soon_minutes``   high
refund_other_cashier    a *selling* cashier (not an after-sales/manager account listed in   medium
                        ``trusted_refunders``) refunds another cashier's sale
high_discount           its discount is ≥ ``high_discount_bp`` of its subtotal              medium
price_override          a line's unit price is ≥ ``price_override_bp`` below the SKU's      medium
                        usual (median) unit price
void                    a voided basket worth ≥ ``void_amount``, or a cashier's voids in a  low
                        day exceed ``voids_per_day`` (the basket id is the order id)
total_outlier           log(total) is ≥ ``outlier_z`` robust z-scores (median/MAD) above   medium
                        both the cashier's usual and the hour of day's usual
outside_hours           it is sold outside opening hours (± ``hours_grace_minutes``)       high
unusual_till_ip         the cashier rarely uses that till or IP (≤ ``unusual_max_orders``  medium
                        orders and < ``unusual_share`` of their orders)
topup_cash_refund       it is refunded in cash within ``topup_refund_hours`` after a wallet high
                        top-up by the same member
just_under_limit        a cashier gives ≥ ``near_limit_count`` discounts in a day just under medium
                        their approval limit (or refunds just under ``refund_approval_limit``)
negative_stock_sale     a line sells a SKU whose stock level falls below zero              low
======================  ==================================================================  ========

Rules in ``RuleConfig.freeze_rules`` ask for the order to be frozen (``freeze=True``). A flag
becomes an ``order.flagged`` event (``OrderFlagged``, see ``analytics.events``) so it reaches HQ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from polars._typing import PolarsDataType

__all__ = ["RuleConfig", "RULES", "FLAG_SCHEMA", "score", "false_positive_rate"]

RULES = (
    "refund_soon_same_staff",
    "refund_other_cashier",
    "high_discount",
    "price_override",
    "void",
    "total_outlier",
    "outside_hours",
    "unusual_till_ip",
    "topup_cash_refund",
    "just_under_limit",
    "negative_stock_sale",
)

FLAG_SCHEMA: dict[str, PolarsDataType] = {
    "store_id": pl.String,
    "order_id": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "score": pl.Float64,
    "evidence": pl.String,
    "freeze": pl.Boolean,
    "staff": pl.String,
    "till": pl.String,
    "ts": pl.Datetime("us", "UTC"),
    "business_day": pl.Date,
}


@dataclass(frozen=True)
class RuleConfig:
    refund_soon_minutes: int = 30
    trusted_refunders: frozenset[str] = frozenset()
    high_discount_bp: int = 2000
    price_override_bp: int = 3000
    void_amount: int = 100_000  # minor units (THB 1,000.00)
    voids_per_day: int = 5
    outlier_z: float = 4.0
    outlier_min_orders: int = 30
    open_minute: int = 8 * 60  # local minutes after midnight
    close_minute: int = 22 * 60
    hours_grace_minutes: int = 15
    unusual_share: float = 0.02
    unusual_max_orders: int = 3
    unusual_min_history: int = 50
    topup_refund_hours: int = 24
    discount_limit_bp: int = 1000
    near_limit_margin_bp: int = 150
    near_limit_tolerance_bp: int = 5  # rounding: a 10 % discount can come out at 9.99 %
    near_limit_count: int = 5
    refund_approval_limit: int | None = None  # minor units; None: refunds need no approval
    refund_near_limit_pct: int = 10
    severity: Mapping[str, str] = field(
        default_factory=lambda: {
            "refund_soon_same_staff": "high",
            "refund_other_cashier": "medium",
            "high_discount": "medium",
            "price_override": "medium",
            "void": "low",
            "total_outlier": "medium",
            "outside_hours": "high",
            "unusual_till_ip": "medium",
            "topup_cash_refund": "high",
            "just_under_limit": "medium",
            "negative_stock_sale": "low",
        }
    )
    freeze_rules: frozenset[str] = frozenset(
        {"refund_soon_same_staff", "topup_cash_refund", "outside_hours"}
    )
    rules: tuple[str, ...] = RULES


def _lazy(frames: Mapping[str, Any], name: str) -> pl.LazyFrame | None:
    f = frames.get(name)
    if f is None:
        return None
    return f.lazy() if isinstance(f, pl.DataFrame) else f


def _out(
    lf: pl.LazyFrame, rule: str, cfg: RuleConfig, score: pl.Expr, evidence: list[pl.Expr]
) -> pl.LazyFrame:
    return lf.select(
        pl.col("store_id"),
        pl.col("order_id"),
        pl.lit(rule).alias("rule"),
        pl.lit(cfg.severity.get(rule, "medium")).alias("severity"),
        score.cast(pl.Float64).alias("score"),
        pl.struct(evidence).struct.json_encode().alias("evidence"),
        pl.lit(rule in cfg.freeze_rules).alias("freeze"),
        pl.col("staff"),
        pl.col("till"),
        pl.col("ts"),
        pl.col("business_day"),
    )


def _minute(col: str = "local_ts") -> pl.Expr:
    return pl.col(col).dt.hour().cast(pl.Int32) * 60 + pl.col(col).dt.minute().cast(pl.Int32)


def _rules(fr: Mapping[str, Any], cfg: RuleConfig) -> list[pl.LazyFrame]:
    orders = _lazy(fr, "orders")
    lines = _lazy(fr, "order_lines")
    refunds = _lazy(fr, "refunds")
    voids = _lazy(fr, "voids")
    wallet = _lazy(fr, "wallet_movements")
    stock = _lazy(fr, "stock_movements")
    out: list[pl.LazyFrame] = []
    want = set(cfg.rules)

    # ---- refunds by the seller, soon after the sale; refunds of another cashier's sale
    if refunds is not None:
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

    # ---- discounts, price overrides, near the approval limit, opening hours, outliers
    if orders is not None:
        bp = (pl.col("discount") * 10000.0 / pl.col("subtotal")).fill_nan(0.0)
        o = orders.with_columns(
            pl.when(pl.col("subtotal") > 0).then(bp).otherwise(0.0).alias("_bp")
        )
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
                    ((pl.col("_x") - pl.col(f"_m_{name}")) / pl.col(f"_mad_{name}")).alias(
                        f"_z_{name}"
                    )
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
                orders.select("store_id", "order_id", pl.col("member")).filter(
                    pl.col("member") != ""
                ),
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
    return out


def score(
    frames: Mapping[str, Any],
    config: RuleConfig | None = None,
    existing: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Run every rule; one row per (order, rule), best first. Flags already in ``existing`` (a
    ``flags`` table: same store, order and rule) are left out, so scoring again is harmless."""
    cfg = config or RuleConfig()
    parts = _rules(frames, cfg)
    if not parts:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    # one plan at a time: on 2 cores, collect_all's concurrent plans fight over memory
    done = [p.collect() for p in parts]
    done = [d.cast(FLAG_SCHEMA) for d in done if d.height]  # type: ignore[arg-type]
    if not done:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    flags = pl.concat(done).unique(
        ["store_id", "order_id", "rule"], keep="first", maintain_order=True
    )
    if existing is not None:
        ex = existing.lazy() if isinstance(existing, pl.DataFrame) else existing
        flags = (
            flags.lazy()
            .join(
                ex.select("store_id", "order_id", "rule"),
                on=["store_id", "order_id", "rule"],
                how="anti",
            )
            .collect()
        )
    return flags.sort(["business_day", "ts", "rule"]).select(list(FLAG_SCHEMA))


def false_positive_rate(
    flags: pl.DataFrame, orders: int, planted: set[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Share of orders flagged that were not planted (on a clean day: every flag is false)."""
    planted = planted or set()
    fp = (
        flags.filter(
            ~pl.struct("rule", "order_id").map_elements(
                lambda s: (s["rule"], s["order_id"]) in planted, return_dtype=pl.Boolean
            )
        )
        if planted
        else flags
    )
    n_fp_orders = fp["order_id"].n_unique() if fp.height else 0
    return {
        "orders": orders,
        "false_flags": fp.height,
        "false_flagged_orders": n_fp_orders,
        "rate": (n_fp_orders / orders) if orders else math.nan,
        "by_rule": dict(fp.group_by("rule").len().iter_rows()) if fp.height else {},
    }
