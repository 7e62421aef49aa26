"""The anomaly rules' names and thresholds (``RuleConfig``), and a store's own thresholds from its
settings (``rules_for``: opening hours, the cashier's discount limit, ``store.json`` "anomaly").
No Polars here: the gateway reads the same-cashier refund rule from it (``own_sale_minutes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["RULES", "RuleConfig", "rule_settings", "rules_from", "own_sale_minutes"]

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
    "no_sale_drawer",
)


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
    removed_min_amount: int = 20_000  # lines taken off a paid basket worth at least this …
    removed_share_bp: int = 5000  # … and at least half of what was scanned
    removed_undo_seconds: int = 30  # a scan taken back this soon is a mistake put right
    wallet_burst: int = 4  # this many wallet orders by one member …
    wallet_window_minutes: int = 15  # … within this many minutes
    wallet_small_amount: int = 50_000  # each at most this much (small orders)
    drawer_per_day: int = 4  # a cashier's no-sale drawer openings in a day above this AND …
    drawer_outlier_ratio: float = 3.0  # … this many times the other cashiers' or their own usual
    drawer_min_history: int = 5  # days of a cashier's own history before "their usual" counts
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
            "no_sale_drawer": "medium",
        }
    )
    freeze_rules: frozenset[str] = frozenset(
        {"refund_soon_same_staff", "topup_cash_refund", "wallet_velocity"}
    )
    rules: tuple[str, ...] = RULES


_SETS = {"trusted_refunders", "freeze_rules"}


def rule_settings(config: Any) -> dict[str, Any]:
    """A store's thresholds as plain data (``config``: ``domain.store.StoreConfig``): its opening
    hours, zone and cashier discount limit, then whatever ``store.json`` "anomaly" sets."""
    out: dict[str, Any] = {
        "open_minute": config.open_minute,
        "close_minute": config.close_minute,
        "zone": config.zone,
        "discount_limit_bp": config.discount_limits.get("cashier", 1000),
    }
    out.update(getattr(config, "anomaly", None) or {})
    return out


def rules_from(settings: Mapping[str, Any] | None) -> RuleConfig:
    """``RuleConfig`` from plain settings; unknown keys are left out, lists become sets."""
    known = {f.name for f in fields(RuleConfig)}
    kw: dict[str, Any] = {}
    for k, v in (settings or {}).items():
        if k not in known:
            continue
        if k in _SETS:
            v = frozenset(v)
        elif k == "rules":
            v = tuple(v)
        kw[k] = v
    return RuleConfig(**kw)


def own_sale_minutes(config: Any) -> int:
    """Minutes after their own sale within which a cashier's refund needs a manager (0: never):
    while the same-cashier rule is one that freezes, it acts before the money leaves."""
    rules = rules_from(rule_settings(config))
    if "refund_soon_same_staff" in rules.freeze_rules and "refund_soon_same_staff" in rules.rules:
        return rules.refund_soon_minutes
    return 0
