"""What every anomaly rule shares: the rule names (``RULES``), the schema of a flag
(``FLAG_SCHEMA``), the thresholds (``RuleConfig``) and the helpers that shape a rule's hits into
flags. The rules themselves are in ``analytics.anomaly_orders`` and ``analytics.anomaly_lines``;
``analytics.anomaly`` runs them (see its docstring for the table of rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from polars._typing import PolarsDataType

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
    "removed_lines",
    "wallet_velocity",
    "refund_to_cash",
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
    voids_per_day: int = 5  # a cashier's voids in a day above this AND …
    voids_outlier_ratio: float = 3.0  # … above this many times the day's median per cashier
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
    removed_min_amount: int = 10_000  # lines taken off a paid basket worth at least this …
    removed_share_bp: int = 3000  # … and at least this share of what was scanned
    wallet_burst: int = 4  # this many wallet orders by one member …
    wallet_window_minutes: int = 15  # … within this many minutes
    wallet_small_amount: int = 50_000  # each at most this much (small orders)
    zone: str = ""  # the store's zone for top-ups' local time ("": the orders' offset)
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
            "removed_lines": "medium",
            "wallet_velocity": "high",
            "refund_to_cash": "high",
        }
    )
    freeze_rules: frozenset[str] = frozenset(
        {"refund_soon_same_staff", "topup_cash_refund", "outside_hours", "wallet_velocity"}
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


def _outside_hours(
    lf: pl.LazyFrame, what: str, cfg: RuleConfig, evidence: list[pl.Expr]
) -> pl.LazyFrame:
    """The rows of ``lf`` (with ``local_ts``) outside opening hours ± the grace, as flags."""
    o, c, g = cfg.open_minute, cfg.close_minute, cfg.hours_grace_minutes
    m = _minute()
    return _out(
        lf.filter((m < o - g) | (m >= c + g)),
        "outside_hours",
        cfg,
        pl.lit(1.0),
        [
            pl.lit(what).alias("what"),
            pl.col("local_ts").dt.strftime("%H:%M").alias("local_time"),
            pl.lit(f"{o // 60:02d}:{o % 60:02d}-{c // 60:02d}:{c % 60:02d}").alias("opening_hours"),
            *evidence,
        ],
    )
