"""A store's settings: identity, currency, zone, tax classes, cash rounding, discount limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.alerts import Thresholds
from domain.catalogue import EmbeddedRules
from domain.errors import InvalidInput
from domain.mail import SmtpSettings
from domain.member_float import Caps
from domain.money import Limits, TaxClass, precision
from domain.replenish import ReplenishRules

__all__ = ["StoreConfig", "AuthPolicy", "DEFAULT_DISCOUNT_LIMITS", "TILL_PLACEMENTS"]

# the largest discount (basis points of the amount) each role may give without a manager's PIN
TILL_PLACEMENTS = ("gateway", "actor")
DEFAULT_DISCOUNT_LIMITS = {"cashier": 1000, "aftersales": 1000, "manager": 10000, "admin": 10000}


@dataclass(frozen=True)
class AuthPolicy:
    """Sign-in settings (``"auth"`` in ``store.json``).

    An account locks for ``lock_s`` after ``max_failures`` wrong PINs in a row (a lock that expires
    starts the count afresh). A client address may get ``ip_free_failures`` wrong PINs (over all
    accounts) before it must wait ``ip_backoff_s``, doubling per further wrong PIN up to
    ``ip_backoff_max_s``; an address forgets its wrong PINs after ``ip_forget_s`` without one."""

    idle_timeout_s: int = 900
    max_failures: int = 10
    lock_s: int = 1800
    ip_free_failures: int = 5
    ip_backoff_s: int = 60
    ip_backoff_max_s: int = 3600
    ip_forget_s: int = 900

    def __post_init__(self) -> None:
        bounds = {
            "idle_timeout_s": (1, 86_400),
            "max_failures": (1, 100),
            "lock_s": (1, 7 * 86_400),
            "ip_free_failures": (1, 1000),
            "ip_backoff_s": (1, 86_400),
            "ip_backoff_max_s": (1, 7 * 86_400),
            "ip_forget_s": (1, 7 * 86_400),
        }
        for name, (lo, hi) in bounds.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise InvalidInput(
                    "store.bad_auth_setting", f"auth.{name} is a whole number {lo}–{hi}", field=name
                )

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: Any) -> AuthPolicy:
        if not isinstance(d, dict):
            return cls()
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class StoreConfig:
    store_id: str = "S001"
    name: str = "kassa demo shop"
    currency: str = "THB"
    zone: str = "Asia/Bangkok"
    locale: str = "th_TH"
    prices_include_tax: bool = True
    tax_classes: dict[str, int] = field(default_factory=lambda: {"std": 700, "zero": 0})
    cash_increment: int = 25
    embedded: EmbeddedRules = field(default_factory=EmbeddedRules)
    discount_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DISCOUNT_LIMITS))
    address: str = ""
    tax_id: str = ""  # the shop's tax registration number, printed under the address when set
    cloud_url: str = ""  # HQ's cloud; the uploader and licence checks reach it (the store pulls)
    # opening hours, local minutes after midnight: sales, refunds and top-ups outside them are
    # flagged (08:00-22:00 unless store.json says otherwise; 0-1440 means always open)
    open_minute: int = 8 * 60
    close_minute: int = 22 * 60
    # anomaly thresholds of this store (analytics.anomaly.RuleConfig field names), e.g.
    # {"void_amount": 50000, "refund_soon_minutes": 60, "freeze_rules": ["wallet_velocity"]}
    anomaly: dict[str, Any] = field(default_factory=dict)
    # where the tills' cores run: "gateway" (in the LAN gateway's process, the default: on a
    # 2-core store PC a process hop costs more than a till's work) or "actor" (one Ray actor per
    # till, isolated from each other, for a bigger store server)
    till_placement: str = "gateway"
    # sane maxima of prices, quantities and amounts at every entry point ("limits" in store.json;
    # domain.money.Limits): refused with amount.too_large / quantity.too_large, nothing journaled
    limits: Limits = field(default_factory=Limits)
    auth: AuthPolicy = field(default_factory=AuthPolicy)  # sign-in: lock-out and back-off
    # a repeat scan of the same counted item adds one to its line (a product's own "merge" wins)
    merge_repeat_scans: bool = True
    # payments through providers (actors.payments): {"qr": "promptpay", "card": "card-sim",
    # "promptpay": {"id": "0812345678", "id_type": "phone"}, "timeout_s": 120, ...}
    payments: dict[str, Any] = field(default_factory=dict)
    # {"needs_manager_over": <minor units>}: a refund or exchange giving back more needs a
    # manager's approval (domain.exchange.refund_limit); absent: no limit
    refund_limits: dict[str, Any] = field(default_factory=dict)
    # scheduled backups (actors.backup_schedule): {dirs, every_hours, at_day_close, keep, to_hq}
    backup: dict[str, Any] = field(default_factory=dict)
    # health alert thresholds ("alerts" in store.json; domain.alerts.Thresholds), e.g.
    # {"disk_free_pct": 10, "disk_free_mb": 2048, "upload_lag_h": 24, "commit_p99_ms": 250}
    alerts: dict[str, Any] = field(default_factory=dict)
    # reorder suggestions (domain.replenish.ReplenishRules) and the alert mail (domain.mail)
    replenish: dict[str, Any] = field(default_factory=dict)
    smtp: dict[str, Any] = field(default_factory=dict)
    # loyalty rules (domain.loyalty.LoyaltyRules as a dict): journaled as loyalty.rules_set at
    # start when they differ from the journal's
    loyalty: dict[str, Any] = field(default_factory=dict)
    # members' money across the chain (domain.member_float): {"float_cap_wallet": <minor units>,
    # "float_cap_points": <points>}; absent: no cap, every credit stays in this store
    members: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.till_placement not in TILL_PLACEMENTS:
            raise InvalidInput(
                "store.bad_till_placement", f"till_placement is one of {', '.join(TILL_PLACEMENTS)}"
            )
        precision(self.currency)
        if not 0 <= self.open_minute < self.close_minute <= 1440:
            raise InvalidInput(
                "store.bad_hours", "opening hours are 00:00 <= open < close <= 24:00"
            )
        if not isinstance(self.merge_repeat_scans, bool):
            raise InvalidInput(
                "input.bad_field", "merge_repeat_scans is true or false", field="merge_repeat_scans"
            )
        for code, rate in self.tax_classes.items():
            TaxClass(code, rate)
        Thresholds.from_dict(self.alerts)  # refused at load, not at the first evaluation
        ReplenishRules.from_dict(self.replenish)
        SmtpSettings.from_dict(self.smtp)
        if self.loyalty:
            from domain.loyalty import rules_from_dict

            rules_from_dict(self.loyalty)  # loyalty.bad_rules at load
        Caps.from_config(self.members)

    def rate_of(self, tax_class: str) -> int:
        try:
            return self.tax_classes[tax_class]
        except KeyError:
            raise InvalidInput("tax.unknown_class", f"unknown tax class {tax_class!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "name": self.name,
            "currency": self.currency,
            "zone": self.zone,
            "locale": self.locale,
            "prices_include_tax": self.prices_include_tax,
            "tax_classes": dict(self.tax_classes),
            "cash_increment": self.cash_increment,
            "embedded": {
                "price_prefixes": list(self.embedded.price_prefixes),
                "weight_prefixes": list(self.embedded.weight_prefixes),
            },
            "discount_limits": dict(self.discount_limits),
            "address": self.address,
            "tax_id": self.tax_id,
            "cloud_url": self.cloud_url,
            "open_minute": self.open_minute,
            "close_minute": self.close_minute,
            "anomaly": dict(self.anomaly),
            "till_placement": self.till_placement,
            "limits": self.limits.to_dict(),
            "auth": self.auth.to_dict(),
            "merge_repeat_scans": self.merge_repeat_scans,
            "payments": dict(self.payments),
            "refund_limits": dict(self.refund_limits),
            "backup": dict(self.backup),
            "alerts": dict(self.alerts),
            "replenish": dict(self.replenish),
            "smtp": dict(self.smtp),
            "loyalty": dict(self.loyalty),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoreConfig:
        d = dict(d)
        emb = d.pop("embedded", None)
        limits = d.pop("limits", None)
        auth = d.pop("auth", None)
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if emb:
            known["embedded"] = EmbeddedRules(
                tuple(emb.get("price_prefixes", ())), tuple(emb.get("weight_prefixes", ()))
            )
        if limits is not None:
            known["limits"] = Limits.from_dict(limits)
        if auth is not None:
            known["auth"] = AuthPolicy.from_dict(auth)
        return cls(**known)
