"""A flag's evidence in words, in any of the shipped languages, with money formatted (Babel): the
sentences of the manager's flags inbox and of HQ's (``cloud.hqflags``). Pure: the caller gives the
language and a gettext function (the till: its current catalogue; HQ: ``translator(lang)``).

Values that are codes, times or numbers (a till, an address, ``08:00-22:00``) sit in a
first-strong isolate (FSI … PDI) in right-to-left languages, so that inside Arabic text a range of
hours keeps its order (without it the bidi algorithm shows ``22:00-08:00``); the till's text
shaping (``kiosk.i18n.shown``) resolves the isolates and takes the marks out before Tk draws.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

from domain.money import format_money

__all__ = [
    "RULE_NAMES",
    "STATE_NAMES",
    "SENTENCES",
    "describe",
    "rule_name",
    "translator",
    "locale_of",
]


def N_(message: str) -> str:  # marks a message for the catalogues (kiosk.catalogues)
    return message


RULE_NAMES = {
    "refund_soon_same_staff": N_("Refund by the seller soon after the sale"),
    "refund_other_cashier": N_("Refund of another cashier's sale"),
    "high_discount": N_("High discount"),
    "just_under_limit": N_("Discounts at or just under the limit"),
    "price_override": N_("Price below the catalogue price"),
    "removed_lines": N_("Lines removed before paying"),
    "void": N_("Voided basket"),
    "total_outlier": N_("Unusually large total"),
    "outside_hours": N_("Outside opening hours"),
    "unusual_till_ip": N_("Unusual till or address"),
    "topup_cash_refund": N_("Wallet money refunded as cash"),
    "refund_to_cash": N_("Cash refund of an order paid otherwise"),
    "wallet_velocity": N_("Many wallet orders within minutes"),
    "negative_stock_sale": N_("Sale below zero stock"),
    "no_sale_drawer": N_("Drawer opened without a sale, often"),
}
STATE_NAMES = {
    "": N_("All"),
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "dismissed": N_("Dismissed"),
}
TENDERS = {"cash": N_("cash"), "card": N_("card"), "wallet": N_("wallet")}
DRAWER_REASONS = {
    "change": N_("Change for a customer"),
    "correction": N_("Put a tender right"),
    "pickup": N_("Cash pickup"),
    "float": N_("Float"),
    "other": N_("Something else"),
}

# rule -> the sentence; {placeholders} are filled from the evidence (money formatted)
SENTENCES = {
    "refund_soon_same_staff": N_("The seller refunded {amount} {minutes} minutes after the sale."),
    "refund_other_cashier": N_("{refunded_by} refunded {amount} of a sale by {original_staff}."),
    "high_discount": N_("A discount of {discount} on {subtotal} ({percent} %)."),
    "just_under_limit": N_(
        "{count} discounts that day at or just under the {limit} % limit; this one {percent} %."
    ),
    "price_override": N_("Sold at {unit_price}; the price in force is {catalogue_price}."),
    "removed_lines": N_(
        "{items} items worth {removed} were taken off before paying; {paid} was paid."
    ),
    "void": N_("A basket worth {amount} was voided; {count} voids by this cashier that day."),
    "total_outlier": N_(
        "A total of {total}; this cashier usually takes {staff_median}, this hour {hour_median}."
    ),
    "outside_hours": N_("A sale of {amount} at {time}, outside opening hours {hours}."),
    "unusual_till_ip": N_("Till {till} at {ip}: {on_till} of this cashier's {orders} orders."),
    "topup_cash_refund": N_(
        "{cash} refunded in cash from a wallet-paid order, {hours} hours after a top-up of "
        "{topup} by {tender}."
    ),
    "refund_to_cash": N_("{cash} refunded in cash; the order was paid {paid_cash} in cash."),
    "wallet_velocity": N_(
        "{count} wallet orders by member {member} within {minutes} minutes ({spent} in all)."
    ),
    "negative_stock_sale": N_("The sale took the stock of {sku} to {level}."),
    "no_sale_drawer": N_(
        "The drawer was opened {count} times that day without a sale (mostly: {reason}); "
        "a cashier usually opens it {usual} times."
    ),
}
OUTSIDE = {
    "refund": N_("A refund of {amount} at {time}, outside opening hours {hours}."),
    "topup": N_("A wallet top-up of {amount} at {time}, outside opening hours {hours}."),
}
REFUND_LIMIT = N_("{count} refunds that day just under the approval limit of {limit}.")

_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN", "th": "th_TH", "ar": "ar_SA"}
_RTL = {"ar"}
_LOCALE_DIR = Path(__file__).resolve().parent.parent / "kiosk" / "locale"  # the catalogues
_FSI, _PDI = "\u2068", "\u2069"


def _base(lang: str | None) -> str:
    b = (lang or "en").replace("-", "_").split("_")[0].lower()
    return b if b in _LOCALES else "en"


def locale_of(lang: str | None) -> str:
    return _LOCALES[_base(lang)]


def translator(lang: str | None) -> Callable[[str], str]:
    """The gettext function of ``lang`` from the shipped catalogues (English if none)."""
    tr = _gettext.translation("kassa", str(_LOCALE_DIR), [_base(lang)], fallback=True)
    return tr.gettext


def rule_name(rule: str, lang: str | None, gettext: Callable[[str], str] | None = None) -> str:
    g = gettext or translator(lang)
    return g(RULE_NAMES[rule]) if rule in RULE_NAMES else rule


def _hundredths(v: Any) -> Decimal:
    return Decimal(int(v or 0)).scaleb(-2)


def describe(
    flag: dict[str, Any],
    currency: str,
    lang: str | None,
    gettext: Callable[[str], str] | None = None,
) -> str:
    """The evidence of ``flag`` (its ``evidence`` a dict) as one sentence in ``lang``."""
    g = gettext or translator(lang)
    ev: dict[str, Any] = flag.get("evidence") or {}
    rule = str(flag.get("rule") or "")
    loc = locale_of(lang)
    rtl = _base(lang) in _RTL

    def m(key: str) -> str:
        return format_money(int(ev.get(key) or 0), currency, loc)

    def num(value: Any) -> str:
        return format_decimal(value or 0, locale=loc)

    def n(key: str) -> str:
        return num(ev.get(key))

    def iso(value: Any) -> str:  # a code, time or range: its own direction inside RTL text
        return f"{_FSI}{value}{_PDI}" if rtl else str(value)

    def pct(key: str) -> str:
        return num(_hundredths(ev.get(key)))

    v: dict[str, str] = {}
    if rule == "refund_soon_same_staff":
        v = {"amount": m("amount"), "minutes": num(round(ev.get("minutes_after_sale") or 0))}
    elif rule == "refund_other_cashier":
        v = {"amount": m("amount"), "refunded_by": iso(ev.get("refunded_by", ""))}
        v["original_staff"] = iso(ev.get("original_staff", ""))
    elif rule == "high_discount":
        v = {"discount": m("discount"), "subtotal": m("subtotal"), "percent": pct("discount_bp")}
    elif rule == "just_under_limit" and ev.get("limit") == "refund":
        return g(REFUND_LIMIT).format(count=n("count_that_day"), limit=m("limit_amount"))
    elif rule == "just_under_limit":
        v = {"count": n("count_that_day"), "limit": pct("limit_bp"), "percent": pct("discount_bp")}
    elif rule == "price_override":
        v = {"unit_price": m("unit_price"), "catalogue_price": m("catalogue_price")}
        if ev.get("unit") == "kg":
            v = {k: f"{s}/kg" for k, s in v.items()}
    elif rule == "removed_lines":
        items = ev.get("items_removed", ev.get("lines_removed"))
        v = {"items": num(items), "removed": m("removed_amount"), "paid": m("paid_total")}
    elif rule == "void":
        v = {"amount": m("amount"), "count": n("voids_that_day")}
    elif rule == "total_outlier":
        v = {"total": m("total"), "staff_median": m("staff_median")}
        v["hour_median"] = m("hour_median")
    elif rule == "outside_hours":
        v = {"amount": m("amount"), "time": iso(ev.get("local_time", ""))}
        v["hours"] = iso(ev.get("opening_hours", ""))
        if ev.get("what") in OUTSIDE:
            return g(OUTSIDE[str(ev["what"])]).format(**v)
    elif rule == "unusual_till_ip":
        v = {"till": iso(ev.get("till", "")), "ip": iso(ev.get("ip", ""))}
        v |= {"on_till": n("orders_on_this_till"), "orders": n("orders_by_staff")}
    elif rule == "topup_cash_refund":
        v = {"cash": m("cash_refunded"), "topup": m("topped_up")}
        tenths = int(round(float(ev.get("hours_after_topup") or 0) * 10))
        v["hours"] = num(Decimal(tenths).scaleb(-1))
        v["tender"] = g(TENDERS.get(str(ev.get("topup_tender")), TENDERS["cash"]))
    elif rule == "refund_to_cash":
        v = {"cash": m("cash_refunded"), "paid_cash": m("paid_in_cash")}
    elif rule == "wallet_velocity":
        v = {"count": n("wallet_orders_nearby"), "member": iso(ev.get("member", ""))}
        v |= {"minutes": n("within_minutes"), "spent": m("wallet_spent_nearby")}
    elif rule == "negative_stock_sale":
        v = {"sku": iso(ev.get("sku", "")), "level": n("level_after_sale")}
    elif rule == "no_sale_drawer":
        usual = Decimal(str(ev.get("usual_per_cashier") or 0)).quantize(Decimal("0.1"))
        reason = DRAWER_REASONS.get(str(ev.get("top_reason")), DRAWER_REASONS["other"])
        v = {"count": n("openings_that_day"), "usual": num(usual.normalize()), "reason": g(reason)}
    else:
        return ", ".join(f"{k}: {val}" for k, val in ev.items())
    return g(SENTENCES[rule]).format(**v)
