"""The Coupons tab's issue form, checked before anything is sent (``check_coupon_form``): each
mistake is named by its field, in the reader's language; what HQ would refuse anyway
(``domain.loyalty.check_coupon``, ``cloud.coupons_db``) is caught here in words."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from admin.screens.base import parse_when
from admin.screens.product_edit import parse_price
from kiosk.i18n import N_, _

__all__ = ["check_coupon_form", "FIELDS", "KIND_NAMES", "DAY_US"]

DAY_US = 86_400_000_000
MAX_USES = 1_000_000
KIND_NAMES = {"amount": N_("Amount off"), "percent": N_("Percent off")}
# the form's fields in order: key, label
FIELDS: tuple[tuple[str, str], ...] = (
    ("value", N_("Value")),
    ("min_spend", N_("Minimum spend")),
    ("uses", N_("Uses")),
    ("valid_from", N_("Valid from")),
    ("valid_to", N_("Valid to")),
    ("member", N_("For member")),
    ("stores", N_("Stores")),
    ("code", N_("Code")),
)
_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _percent_bp(text: str) -> int:
    """``"12.5"`` → 1250 basis points (exact, above 0, at most 100 %)."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise ValueError(text) from None
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 < bp <= 10_000:
        raise ValueError(text)
    return int(bp)


def _day(text: str, zone: str) -> int:
    try:
        return parse_when(text.strip()[:10], zone)
    except ValueError:
        raise ValueError(text) from None


def check_coupon_form(
    values: dict[str, str], currency: str, zone: str, known: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The coupon to send (``POST /v1/hq/coupons``) and the mistakes per field (translated)."""
    v = {k: str(values.get(k) or "").strip() for k in ("kind", *dict(FIELDS))}
    doc: dict[str, Any] = {"kind": v["kind"] if v["kind"] in KIND_NAMES else "amount"}
    errors: dict[str, str] = {}
    try:
        if doc["kind"] == "percent":
            doc["value"] = _percent_bp(v["value"])
        else:
            doc["value"] = parse_price(v["value"], currency)
            if doc["value"] <= 0:
                raise ValueError(v["value"])
    except ValueError:
        errors["value"] = (
            _("A percent above 0 and at most 100, like 12.5.")
            if doc["kind"] == "percent"
            else _("An amount above 0, like 50.00.")
        )
    try:
        doc["min_spend"] = parse_price(v["min_spend"] or "0", currency)
    except ValueError:
        errors["min_spend"] = _("An amount like 300.00, or empty for none.")
    uses = v["uses"] or "1"
    if not uses.isdigit() or not 1 <= int(uses) <= MAX_USES:
        errors["uses"] = _("A whole number of uses from 1 to {top}.").format(top=MAX_USES)
    else:
        doc["uses"] = int(uses)
    for key in ("valid_from", "valid_to"):
        if not v[key]:
            continue
        try:
            start = _day(v[key], zone)
        except ValueError:
            errors[key] = _("A date like 2026-12-31, or empty.")
            continue
        doc[key] = start if key == "valid_from" else start + DAY_US - 1  # the day's end
    if doc.get("valid_to") and doc["valid_to"] < doc.get("valid_from", 0):
        errors["valid_to"] = _("The last day comes on or after the first.")
    if v["member"]:
        if _MEMBER.match(v["member"]):
            doc["member"] = v["member"]
        else:
            errors["member"] = _("A member id (letters, digits, . _ -), or empty for anyone.")
    stores = [s for s in re.split(r"[,\s]+", v["stores"]) if s]
    unknown = [s for s in stores if s not in known]
    if unknown:
        errors["stores"] = _("HQ knows no store {stores}.").format(stores=", ".join(unknown))
    elif stores:
        doc["stores"] = sorted(set(stores))
    code = v["code"].upper()
    if code and (not 3 <= len(code) <= 40 or not code.isprintable() or " " in code):
        errors["code"] = _("A code of 3 to 40 letters and digits, or empty for a new one.")
    elif code:
        doc["code"] = code
    return doc, errors
