"""What every anomaly rule shares: the rule names (``RULES``), the schema of a flag
(``FLAG_SCHEMA``), the thresholds (``RuleConfig``) and the helpers that shape a rule's hits into
flags. The rules themselves are in ``analytics.anomaly_orders`` and ``analytics.anomaly_lines``;
``analytics.anomaly`` runs them (see its docstring for the table of rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from polars._typing import PolarsDataType

from analytics.anomaly_settings import RuleConfig

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
