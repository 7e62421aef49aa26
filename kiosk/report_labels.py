"""Every field a report endpoint returns, with the label a person reads and how its value is
shown: money as money, counts as counts, text as text.

``LABELS`` covers the X/Z and cashier reports (``analytics.store``: the figures, the tables per
till, per cashier, by hour and by tender, the refund and void lists) and the sales charts
(``sales_by``). A field that is not here — a figure added on the server later — is shown under
the generic label "Other figure", never under its key (``label``); ``tests/unit`` checks that
every key the server's reports return has a label here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date

from kiosk import i18n
from kiosk.i18n import N_, _

__all__ = ["COUNTS", "LABELS", "MONEY", "TENDERS", "label", "value_text"]

LABELS: dict[str, str] = {
    # the figures of an X/Z report (analytics.store.FIGURES)
    "orders": N_("Orders"),
    "gross_sales": N_("Gross sales"),
    "discounts": N_("Discounts"),
    "net_sales": N_("Net sales"),
    "tax": N_("Tax"),
    "rounding": N_("Cash rounding"),
    "refunds": N_("Refunds"),
    "refunded": N_("Refunded amount"),
    "refund_tax": N_("Tax refunded"),
    "refund_rounding": N_("Rounding on refunds"),
    "refunds_given": N_("Refunds paid out"),
    "net_after_refunds": N_("Net after refunds"),
    "cash_sales": N_("Cash sales"),
    "card_sales": N_("Card sales"),
    "wallet_sales": N_("Member wallet sales"),
    "qr_sales": N_("QR sales"),
    "cash_refunds": N_("Cash refunds"),
    "card_refunds": N_("Card refunds"),
    "wallet_refunds": N_("Member wallet refunds"),
    "qr_refunds": N_("QR refunds"),
    "cash_tendered": N_("Cash handed over"),
    "change_given": N_("Change given"),
    "topups": N_("Wallet top-ups"),
    "topups_cash": N_("Top-ups in cash"),
    "topups_card": N_("Top-ups by card"),
    "voids": N_("Voided baskets"),
    "voided_amount": N_("Voided amount"),
    "opening_float": N_("Opening float"),
    "cash_topups": N_("Cash top-ups in the drawer"),
    "expected_cash": N_("Expected cash"),
    "counted_cash": N_("Counted cash"),
    "cash_difference": N_("Cash difference"),
    # about the report
    "kind": N_("Report"),
    "store_id": N_("Store"),
    "business_day": N_("Business day"),
    "till": N_("Till"),
    "staff": N_("Cashier"),
    "currency": N_("Currency"),
    "as_of_seq": N_("Counted up to event"),
    "journal_seq": N_("Events in the journal"),
    "lagging": N_("Behind the journal"),
    "quarantined": N_("Events left out"),
    "quarantined_events": N_("Events left out"),
    "closed_tills": N_("Closed tills"),
    "totals": N_("Totals"),
    "by_till": N_("Per till"),
    "by_staff": N_("Per cashier"),
    "by_hour": N_("Sales by hour"),
    "by_tender": N_("Per tender"),
    "refund_list": N_("Refunds today"),
    "void_list": N_("Voided baskets today"),
    # columns of the tables and of the sales charts
    "hour": N_("Hour"),
    "day": N_("Day"),
    "month": N_("Month"),
    "category": N_("Category"),
    "sku": N_("SKU"),
    "name": N_("Product name"),
    "lines": N_("Lines"),
    "qty": N_("Quantity"),
    "refunded_qty": N_("Quantity refunded"),
    "tender": N_("Tender"),
    "payments": N_("Payments"),
    "sales": N_("Sales"),
    "refund_count": N_("Refunds"),
    "net": N_("Net"),
    "local_ts": N_("Time"),
    "refund_id": N_("Refund"),
    "order_id": N_("Order"),
    "amount": N_("Amount"),
    "given": N_("Paid out"),
    "cash": N_("Cash"),
    "card": N_("Card"),
    "wallet": N_("Member wallet"),
    "reason": N_("Reason"),
    "original_staff": N_("Sold by"),
    "seconds_after_sale": N_("Seconds after the sale"),
    "basket": N_("Basket"),
    "taxable": N_("Taxable"),
    "total": N_("Total"),
    "tax_class": N_("Tax class"),
    "rate_bp": N_("Tax rate"),
    "refunded_tax": N_("Tax refunded"),
    "net_tax": N_("Net tax"),
    "discounted_orders": N_("Discounted orders"),
}

# values counted in pieces, not money
COUNTS = frozenset(
    {
        "orders",
        "refunds",
        "voids",
        "payments",
        "refund_count",
        "lines",
        "qty",
        "refunded_qty",
        "discounted_orders",
        "quarantined",
        "as_of_seq",
        "journal_seq",
        "seconds_after_sale",
    }
)
# values in minor units of the report's currency
MONEY = frozenset(
    {
        "gross_sales",
        "discounts",
        "net_sales",
        "tax",
        "rounding",
        "refunded",
        "refund_tax",
        "refund_rounding",
        "refunds_given",
        "net_after_refunds",
        "cash_sales",
        "card_sales",
        "wallet_sales",
        "qr_sales",
        "cash_refunds",
        "card_refunds",
        "wallet_refunds",
        "qr_refunds",
        "cash_tendered",
        "change_given",
        "topups",
        "topups_cash",
        "topups_card",
        "voided_amount",
        "opening_float",
        "cash_topups",
        "expected_cash",
        "counted_cash",
        "cash_difference",
        "sales",
        "net",
        "amount",
        "given",
        "cash",
        "card",
        "wallet",
        "taxable",
        "total",
        "refunded_tax",
        "net_tax",
    }
)
TENDERS = {"cash": N_("Cash"), "card": N_("Card"), "wallet": N_("Member wallet")}
OTHER = N_("Other figure")


def label(key: str) -> str:
    """The translated label of a report field; an unknown field gets the generic label."""
    return _(LABELS.get(key, OTHER))


def value_text(key: str, value: Any, currency: str) -> str:
    """A field's value as a person reads it: money formatted in ``currency``, counts as whole
    numbers, yes/no, a tender's name; an empty value as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "tender" and isinstance(value, str):
        return _(TENDERS.get(value, OTHER))
    if key == "business_day" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "long", locale=i18n.locale_of())
        except ValueError:
            return value
    if key == "hour" and isinstance(value, int):
        return f"{value:02d}:00"
    if isinstance(value, int):
        if key in MONEY and currency:
            return i18n.money(value, currency)
        return i18n.number(value)
    if isinstance(value, list):
        return (
            ", ".join(str(v) for v in value) if key == "closed_tills" else i18n.number(len(value))
        )
    if isinstance(value, float | dict):
        return "—"
    return str(value)
