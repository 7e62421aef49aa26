"""Anomaly rules: orders that look wrong, flagged with a rule name, evidence and a severity.

``score(frames, config)`` runs every rule over the tables of ``analytics.flatten`` (Polars
DataFrames or LazyFrames: the store passes its DuckDB tables, HQ its warehouse scans) and returns
one frame of flags with the schema ``FLAG_SCHEMA``. Every rule is vectorised (Polars expressions,
joins and window functions; no Python loop over orders), and every grouping includes ``store_id`` so
the same rules run across stores at HQ.

Rules (thresholds in ``RuleConfig``; the store's come from ``store.json`` "anomaly", see
``analytics.flagging.rules_for``):

======================  ==================================================================  ========
rule                    flags an order when …                                               severity
======================  ==================================================================  ========
refund_soon_same_staff  the cashier who sold it refunds it within ``refund_soon_minutes``   high
refund_other_cashier    a *selling* cashier (not in ``trusted_refunders``) refunds another  medium
                        cashier's sale
high_discount           its discount is ≥ ``high_discount_bp`` of its subtotal              medium
just_under_limit        a cashier gives ≥ ``near_limit_count`` discounts in a day at or     medium
                        just under their limit (or refunds just under the approval limit)
price_override          a line's unit price is ≥ ``price_override_bp`` below the price in   medium
                        force (last unlabelled scan of that SKU and unit, else catalogue);
                        produce labels (per-kg product, one labelled piece) are not judged
removed_lines           lines scanned then taken off (or their quantity lowered) before     medium
                        paying are worth ≥
                        ``removed_min_amount`` and ≥ ``removed_share_bp`` of the scan
void                    a voided basket worth ≥ ``void_amount``; or the largest void of a   low
                        cashier whose voids that day exceed ``voids_per_day`` and
                        ``voids_outlier_ratio`` × the day's median per cashier
total_outlier           log(total) is ≥ ``outlier_z`` robust z-scores above both the        medium
                        cashier's usual and the hour of day's usual
outside_hours           a sale, refund or wallet top-up outside opening hours               high
                        (± ``hours_grace_minutes``)
unusual_till_ip         the cashier rarely uses that till or IP                             medium
topup_cash_refund       a wallet-paid order is refunded in cash within                      high
                        ``topup_refund_hours`` of the member's last top-up
refund_to_cash          more cash is refunded than the order was paid in cash               high
wallet_velocity         ≥ ``wallet_burst`` small wallet orders by one member within         high
                        ``wallet_window_minutes``
negative_stock_sale     a line sells a SKU whose stock level falls below zero               low
no_sale_drawer          a cashier's no-sale drawer openings that day exceed                 medium
                        ``drawer_per_day`` and ``drawer_outlier_ratio`` × the other
                        cashiers' median or their own usual day (the flag's "order" is
                        ``drawer-<staff>-<day>``)
======================  ==================================================================  ========

Rules in ``RuleConfig.freeze_rules`` ask for the order to be frozen (``freeze=True``). A flag
becomes an ``order.flagged`` event (``OrderFlagged``, see ``analytics.events``) so it reaches HQ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from analytics.anomaly_base import FLAG_SCHEMA, _lazy
from analytics.anomaly_drawer import _no_sale_drawer
from analytics.anomaly_lines import _line_rules, _refund_rules
from analytics.anomaly_money import _money_rules
from analytics.anomaly_orders import _order_rules
from analytics.anomaly_settings import RULES, RuleConfig

__all__ = ["RuleConfig", "RULES", "FLAG_SCHEMA", "score", "false_positive_rate"]


def _rules(fr: Mapping[str, Any], cfg: RuleConfig) -> list[pl.LazyFrame]:
    orders = _lazy(fr, "orders")
    lines = _lazy(fr, "order_lines")
    refunds = _lazy(fr, "refunds")
    voids = _lazy(fr, "voids")
    wallet = _lazy(fr, "wallet_movements")
    stock = _lazy(fr, "stock_movements")
    basket = _lazy(fr, "basket_lines")
    catalogue = _lazy(fr, "catalogue")
    drawer = _lazy(fr, "drawer_openings")
    out: list[pl.LazyFrame] = []
    want = set(cfg.rules)

    # ---- refunds by the seller, soon after the sale; refunds of another cashier's sale
    if refunds is not None:
        _refund_rules(refunds, orders, cfg, want, out)

    # ---- discounts, price overrides, near the approval limit, opening hours, outliers
    if orders is not None:
        _order_rules(orders, refunds, cfg, want, out)
    _money_rules(orders, refunds, wallet, cfg, want, out)
    _line_rules(lines, voids, stock, basket, catalogue, cfg, want, out)
    if drawer is not None and "no_sale_drawer" in want:
        _no_sale_drawer(drawer, orders, cfg, out)
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
