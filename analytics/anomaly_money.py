"""Anomaly rules about money leaving the shop or a member's wallet: wallet-to-cash after a top-up,
cash refunds of orders paid otherwise, many small wallet orders by one member within minutes, and
refunds and top-ups outside opening hours. Each appends its flags to ``out`` (see
``analytics.anomaly``).
"""

from __future__ import annotations

import polars as pl

from analytics.anomaly_base import RuleConfig, _out, _outside_hours


def _money_rules(
    orders: pl.LazyFrame | None,
    refunds: pl.LazyFrame | None,
    wallet: pl.LazyFrame | None,
    cfg: RuleConfig,
    want: set[str],
    out: list[pl.LazyFrame],
) -> None:
    if refunds is not None and orders is not None:
        paid = orders.select(
            "store_id",
            "order_id",
            "member",
            pl.col("cash").alias("_paid_cash"),
            pl.col("card").alias("_paid_card"),
            pl.col("wallet").alias("_paid_wallet"),
        )
        cash_refunds = refunds.filter(pl.col("cash") > 0).join(
            paid, on=["store_id", "order_id"], how="inner"
        )
        if "refund_to_cash" in want:
            r = cash_refunds.filter(
                pl.col("cash") > pl.col("_paid_cash") + pl.col("rounding").abs()
            )
            out.append(
                _out(
                    r,
                    "refund_to_cash",
                    cfg,
                    pl.col("cash") / (pl.col("_paid_cash") + 1),
                    [
                        pl.col("refund_id"),
                        pl.col("cash").alias("cash_refunded"),
                        pl.col("_paid_cash").alias("paid_in_cash"),
                        pl.col("_paid_card").alias("paid_by_card"),
                        pl.col("_paid_wallet").alias("paid_from_wallet"),
                    ],
                )
            )
        if "topup_cash_refund" in want and wallet is not None:
            _topup_cash(cash_refunds, wallet, cfg, out)
    if "outside_hours" in want and refunds is not None:
        extra = [pl.col("amount"), pl.col("refund_id")]
        out.append(_outside_hours(refunds, "refund", cfg, extra))
    if wallet is not None and "outside_hours" in want:
        # top-ups at a counter; balances loaded without a till (a set-up, the demo's seed) have
        # no opening hours to keep
        tops = wallet.filter((pl.col("kind") == "topup") & (pl.col("till") != ""))
        naive = pl.col("ts").dt.replace_time_zone(None)
        if cfg.zone:
            local = pl.col("ts").dt.convert_time_zone(cfg.zone).dt.replace_time_zone(None)
        elif orders is not None:  # no zone given: the orders' own offset from UTC
            off = orders.group_by("store_id").agg(
                (pl.col("local_ts") - naive).first().alias("_off")
            )
            tops = tops.join(off, on="store_id", how="left")
            local = naive + pl.col("_off").fill_null(pl.duration(seconds=0))
        else:
            local = naive
        r = tops.with_columns(
            local.alias("local_ts"), pl.format("topup-{}", pl.col("seq")).alias("order_id")
        )
        extra = [pl.col("amount"), pl.col("member"), pl.col("tender")]
        out.append(_outside_hours(r, "topup", cfg, extra))
    if orders is not None and "wallet_velocity" in want:
        _wallet_velocity(orders, cfg, out)


def _topup_cash(
    cash_refunds: pl.LazyFrame, wallet: pl.LazyFrame, cfg: RuleConfig, out: list[pl.LazyFrame]
) -> None:
    """Wallet money turned into cash: a refund in cash of an order paid (partly) from the wallet
    of a member who topped up shortly before. The evidence names the last top-up before the
    refund (the one whose money comes out) and how it was paid."""
    tops = wallet.filter(pl.col("kind") == "topup").select(
        "store_id",
        "member",
        pl.col("ts").alias("_topup_ts"),
        pl.col("amount").alias("_topup"),
        pl.col("tender").alias("_topup_tender"),
    )
    r = cash_refunds.filter((pl.col("_paid_wallet") > 0) & (pl.col("member") != ""))
    r = r.join(tops, on=["store_id", "member"], how="inner").filter(
        (pl.col("_topup_ts") <= pl.col("ts"))
        & (pl.col("ts") - pl.col("_topup_ts") <= pl.duration(hours=cfg.topup_refund_hours))
    )
    r = (
        r.sort("_topup_ts")
        .group_by("store_id", "order_id", "refund_id")
        .agg(
            pl.col("staff", "till", "ts", "business_day", "member", "cash", "_paid_wallet").first(),
            pl.col("_topup", "_topup_tender", "_topup_ts").last(),
        )
    )
    hours = (pl.col("ts") - pl.col("_topup_ts")).dt.total_minutes() / 60.0
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
                pl.col("_paid_wallet").alias("paid_from_wallet"),
                pl.col("_topup").alias("topped_up"),
                pl.col("_topup_tender").alias("topup_tender"),
                hours.round(1).alias("hours_after_topup"),
            ],
        )
    )


def _wallet_velocity(orders: pl.LazyFrame, cfg: RuleConfig, out: list[pl.LazyFrame]) -> None:
    """Many small wallet orders by one member within minutes (a stolen card or a shared account):
    every order of such a burst."""
    w = orders.filter(
        (pl.col("wallet") > 0)
        & (pl.col("member") != "")
        & (pl.col("total") <= cfg.wallet_small_amount)
    ).select("store_id", "order_id", "member", "staff", "till", "ts", "business_day", "wallet")
    near = w.join(
        w.select("store_id", "member", pl.col("ts").alias("_ts2"), pl.col("wallet").alias("_w2")),
        on=["store_id", "member"],
    ).filter(
        (pl.col("ts") - pl.col("_ts2")).abs() <= pl.duration(minutes=cfg.wallet_window_minutes)
    )
    r = near.group_by("store_id", "order_id").agg(
        pl.col("member", "staff", "till", "ts", "business_day", "wallet").first(),
        pl.len().alias("_n"),
        pl.col("_w2").sum().alias("_sum"),
    )
    r = r.filter(pl.col("_n") >= cfg.wallet_burst)
    out.append(
        _out(
            r,
            "wallet_velocity",
            cfg,
            pl.col("_n") / cfg.wallet_burst,
            [
                pl.col("member"),
                pl.col("_n").alias("wallet_orders_nearby"),
                pl.lit(cfg.wallet_window_minutes).alias("within_minutes"),
                pl.col("wallet").alias("paid_from_wallet"),
                pl.col("_sum").alias("wallet_spent_nearby"),
            ],
        )
    )
