"""Anomaly rules about what happens at the scanner: a price below the catalogue's, lines scanned
and taken off again before paying, and a cashier whose voids stand out from the others'. Each
appends its flags to ``out`` (see ``analytics.anomaly``).

The price in force at the time is the price the till itself rang up for that SKU and unit the last
time it was scanned without a label (``basket_lines``), else the catalogue's current price (the
``catalogue`` frame: store_id, sku, unit, price). A pre-packed produce label (a per-kg product sold
as one labelled piece) is its own price and weight: it is never compared with the per-kg price.
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out

_KEYS = ["store_id", "sku", "unit"]


def _price_override(
    lines: pl.LazyFrame,
    basket: pl.LazyFrame | None,
    catalogue: pl.LazyFrame | None,
    cfg: RuleConfig,
    out: list[pl.LazyFrame],
) -> None:
    factor = (10000 - cfg.price_override_bp) / 10000.0
    ln = lines.select(
        "store_id", "order_id", "staff", "till", "ts", "business_day", "sku", "unit", "unit_price"
    )
    if basket is None and catalogue is None:  # HQ without a catalogue: the SKU's usual price
        ref = ln.join(ln.group_by(_KEYS).agg(pl.col("unit_price").median().alias("_ref")), on=_KEYS)
    else:
        ref = ln.with_columns(pl.lit(None, pl.Float64).alias("_ref"))
        if basket is not None:
            scans = basket.filter((pl.col("event") == "added") & ~pl.col("embedded")).select(
                *_KEYS, "ts", pl.col("unit_price").cast(pl.Float64).alias("_scan")
            )
            ref = ref.sort("ts").join_asof(
                scans.sort("ts"), on="ts", by=_KEYS, strategy="backward", check_sortedness=False
            )
            ref = ref.with_columns(pl.coalesce("_scan", "_ref").alias("_ref")).drop("_scan")
        if catalogue is not None:
            cat = catalogue.select(*_KEYS, pl.col("price").cast(pl.Float64).alias("_cat"))
            ref = ref.join(cat, on=_KEYS, how="left")
            ref = ref.with_columns(pl.coalesce("_ref", "_cat").alias("_ref")).drop("_cat")
    r = ref.filter(pl.col("_ref").is_not_null() & (pl.col("unit_price") <= pl.col("_ref") * factor))
    r = (
        r.sort("unit_price")
        .group_by("store_id", "order_id")
        .agg(
            pl.col(
                "staff", "till", "ts", "business_day", "sku", "unit", "unit_price", "_ref"
            ).first()
        )
    )
    out.append(
        _out(
            r,
            "price_override",
            cfg,
            1.0 - pl.col("unit_price") / pl.col("_ref"),
            [
                pl.col("sku"),
                pl.col("unit"),
                pl.col("unit_price"),
                pl.col("_ref").round(0).cast(pl.Int64).alias("catalogue_price"),
            ],
        )
    )


def _void_outliers(voids: pl.LazyFrame, cfg: RuleConfig, out: list[pl.LazyFrame]) -> None:
    """A large voided basket; or, for a cashier whose voids that day are both above
    ``voids_per_day`` and ``voids_outlier_ratio`` times the day's median per cashier, their
    largest void of the day (one flag, not their whole day)."""
    v = voids.with_columns(pl.len().over("store_id", "staff", "business_day").alias("_n"))
    per = v.group_by("store_id", "business_day", "staff").agg(pl.len().alias("_c"))
    med = per.group_by("store_id", "business_day").agg(pl.col("_c").median().alias("_med"))
    v = v.join(med, on=["store_id", "business_day"], how="left")
    top = (
        pl.col("amount").rank("ordinal", descending=True).over("store_id", "staff", "business_day")
    )
    many = (
        (pl.col("_n") > cfg.voids_per_day)
        & (pl.col("_n") >= pl.col("_med") * cfg.voids_outlier_ratio)
        & (top == 1)
    )
    r = v.filter((pl.col("amount") >= cfg.void_amount) | many).rename({"basket": "order_id"})
    out.append(
        _out(
            r,
            "void",
            cfg,
            pl.max_horizontal(
                pl.col("amount") / cfg.void_amount, pl.col("_n") / (pl.col("_med") * 3.0)
            ),
            [
                pl.col("amount"),
                pl.col("lines"),
                pl.col("reason"),
                pl.col("_n").alias("voids_that_day"),
                pl.col("_med").alias("usual_voids_per_cashier"),
            ],
        )
    )


def _removed_lines(
    lines: pl.LazyFrame, basket: pl.LazyFrame, cfg: RuleConfig, out: list[pl.LazyFrame]
) -> None:
    """A paid order whose basket had goods scanned and taken off again — a line removed, or its
    quantity lowered (repeat scans merge into one line's quantity, so a cashier takes items off
    by lowering it) — worth at least ``removed_min_amount`` and ``removed_share_bp`` of
    everything scanned (the goods may have left unpaid). A step taken back within
    ``removed_undo_seconds`` (a double scan put right at once) does not count."""
    key = ["store_id", "basket", "line_id"]
    info = basket.filter(pl.col("event") == "added").select(*key, "sku", "unit", "unit_price")
    q = pl.when(pl.col("event") == "removed").then(0).otherwise(pl.col("qty"))
    prev, before = pl.col("_q").shift(1).over(key), pl.col("_q").shift(2).over(key)
    gap = (pl.col("ts") - pl.col("ts").shift(1).over(key)).dt.total_seconds()
    # an undo: the step just before (a scan, a raise) taken back within seconds — a double scan
    # put right — takes nothing off that the customer was shown
    undo = (pl.col("_q") == before.fill_null(0)) & (gap <= cfg.removed_undo_seconds)
    steps = (
        basket.select(*key, "seq", "ts", "event", "qty")
        .sort("seq")
        .with_columns(q.alias("_q"))
        .with_columns(
            pl.when(undo).then(0).otherwise((prev - pl.col("_q")).clip(lower_bound=0)).alias("_d")
        )
        .group_by(key)
        .agg(pl.col("_d").fill_null(0).sum())
        .filter(pl.col("_d") > 0)
        .join(info, on=key)
    )
    kg = pl.col("unit") == "kg"
    value = (
        pl.when(kg)
        .then((pl.col("_d") * pl.col("unit_price") + 500) // 1000)
        .otherwise(pl.col("_d") * pl.col("unit_price"))
    )
    removed = (
        steps.group_by("store_id", "basket")
        .agg(
            value.sum().alias("_removed"),
            pl.when(kg).then(1).otherwise(pl.col("_d")).sum().alias("_items"),
            pl.len().alias("_nrem"),
            pl.col("sku").sort_by(value, descending=True).first(),
        )
        .rename({"basket": "order_id"})
    )
    orders = lines.group_by("store_id", "order_id").agg(
        pl.col("staff", "till", "ts", "business_day").first(), pl.col("total").sum()
    )
    r = orders.join(removed, on=["store_id", "order_id"]).filter(
        (pl.col("_removed") >= cfg.removed_min_amount)
        & (
            pl.col("_removed") * 10000
            >= cfg.removed_share_bp * (pl.col("_removed") + pl.col("total"))
        )
    )
    out.append(
        _out(
            r,
            "removed_lines",
            cfg,
            pl.col("_removed") / cfg.removed_min_amount,
            [
                pl.col("_nrem").alias("lines_removed"),
                pl.col("_items").alias("items_removed"),
                pl.col("_removed").alias("removed_amount"),
                pl.col("total").alias("paid_total"),
                pl.col("sku"),
            ],
        )
    )
