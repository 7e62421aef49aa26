"""The anomaly rule on no-sale drawer openings (``drawer.opened``): a cashier whose openings in a
day stand out — above ``drawer_per_day`` and ``drawer_outlier_ratio`` times either the day's
median per cashier (every cashier who sold or opened the drawer that day counts, zero included) or
the cashier's own usual day (once they have ``drawer_min_history`` days). A cashier who opens the
drawer a couple of times for change is never flagged, however few the others' openings.

One flag per cashier and day, on their last opening of the day; its "order" is
``drawer-<staff>-<day>`` (not an order: nothing to freeze)."""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out

__all__ = ["_no_sale_drawer"]

_DAY = ["store_id", "business_day"]
_WHO = ["store_id", "staff"]


def _no_sale_drawer(
    drawer: pl.LazyFrame, orders: pl.LazyFrame | None, cfg: RuleConfig, out: list[pl.LazyFrame]
) -> None:
    opened = drawer.group_by(*_WHO, "business_day").agg(
        pl.len().alias("_n"),
        pl.col("ts").max(),
        pl.col("till").sort_by("ts").last(),
        pl.col("reason").value_counts(sort=True).alias("_reasons"),
    )
    active = drawer.select(*_WHO, "business_day")
    if orders is not None:
        active = pl.concat([active, orders.select(*_WHO, "business_day")])
    days = active.unique().join(
        opened.select(*_WHO, "business_day", "_n"), on=[*_WHO, "business_day"], how="left"
    )
    days = days.with_columns(pl.col("_n").fill_null(0))
    peers = days.group_by(_DAY).agg(pl.col("_n").median().alias("_peer"))
    own = days.group_by(_WHO).agg(pl.col("_n").median().alias("_own"), pl.len().alias("_own_days"))
    r = opened.join(peers, on=_DAY, how="left").join(own, on=_WHO, how="left")
    ratio = cfg.drawer_outlier_ratio
    vs_peers = pl.col("_n") >= pl.col("_peer") * ratio
    vs_own = (pl.col("_own_days") >= cfg.drawer_min_history) & (
        pl.col("_n") >= pl.col("_own") * ratio
    )
    r = r.filter((pl.col("_n") > cfg.drawer_per_day) & (vs_peers | vs_own))
    r = r.with_columns(
        pl.format("drawer-{}-{}", "staff", pl.col("business_day").dt.strftime("%Y-%m-%d")).alias(
            "order_id"
        ),
        pl.col("_reasons")
        .list.eval(pl.element().struct.field("reason"))
        .list.first()
        .alias("_top"),
    )
    out.append(
        _out(
            r,
            "no_sale_drawer",
            cfg,
            pl.col("_n") / pl.max_horizontal(pl.col("_peer"), pl.lit(1.0)) / ratio,
            [
                pl.col("_n").alias("openings_that_day"),
                pl.col("_peer").alias("usual_per_cashier"),
                pl.col("_own").alias("own_usual"),
                pl.col("_top").alias("top_reason"),
            ],
        )
    )
