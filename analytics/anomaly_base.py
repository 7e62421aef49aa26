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
