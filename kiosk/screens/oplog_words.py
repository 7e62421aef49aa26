"""The operation log's words: one sentence per journal event (``GET /v1/audit`` row), in the
reader's language, money formatted ("Refunded order A1-000012 — THB 45.00"), never a raw key
(an event kind this version does not know shows as "Other: <kind>"). Pure: no Tk, no network."""

from __future__ import annotations

from typing import Any

from kiosk import i18n
from kiosk.i18n import N_, _
from kiosk.staff import action_label, role_label

__all__ = ["describe", "AREAS", "PERIODS", "SENTENCES"]

# area filter: kind prefixes (as GET /v1/audit's ``kind``) → label
AREAS: dict[str, str] = {
    "": N_("Everything"),
    "auth.": N_("Signing in and approvals"),
    "order.": N_("Sales and refunds"),
    "basket.": N_("Baskets"),
    "day.,drawer.": N_("Business day and drawer"),
    "staff.,permissions.": N_("Staff and permissions"),
    "stock.,po.,count.,transfer.": N_("Stock"),
    "member.,wallet.": N_("Members and wallets"),
    "catalogue.": N_("Catalogue"),
    "licence.": N_("Licence"),
    "flag.,feedback.": N_("Flags and problem reports"),
}

PERIODS: dict[str, str] = {
    "all": N_("Any time"),
    "today": N_("Today"),
    "yesterday": N_("Yesterday"),
    "7": N_("Last 7 days"),
    "30": N_("Last 30 days"),
}

# kind → sentence; {money} is ``amount`` (or ``total``, ``float``…) formatted, {order} the
# order's number, other fields as the row's details name them
SENTENCES: dict[str, str] = {
    "auth.signed_in": N_("Signed in"),
    "auth.signed_out": N_("Signed out"),
    "auth.signed_out:idle": N_("Signed out after being idle"),
    "auth.signed_out:replaced": N_("Signed out: signed in at another till"),
    "auth.signed_out:locked": N_("Signed out: account locked"),
    "auth.sign_in_failed": N_("Sign-in refused: wrong PIN"),
    "auth.sign_in_failed:approval_bad_pin": N_("Approval refused: wrong PIN"),
    "auth.pin_attempt": N_("Entered a PIN"),
    "auth.pin_accepted": N_("Approver's PIN accepted"),
    "auth.approved": N_("Approved “{action}” for {staff}"),
    "order.completed": N_("Sold order {order} — {money}"),
    "order.refunded": N_("Refunded order {order} — {money}"),
    "order.frozen": N_("Froze order {order}"),
    "order.unfrozen": N_("Unfroze order {order}"),
    "order.flagged": N_("Order {order} flagged for review"),
    "order.exchanged": N_("Exchanged items of order {order} — difference {money}"),
    "payment.started": N_("Asked for a QR or card payment — {money}"),
    "payment.succeeded": N_("QR or card payment received {reference}"),
    "payment.failed": N_("QR or card payment failed"),
    "payment.cancelled": N_("QR or card payment cancelled"),
    "payment.timed_out": N_("QR or card payment timed out"),
    "payment.late_success": N_("A payment arrived late — {money} to give back"),
    "basket.line_added": N_("Scanned {sku}"),
    "basket.line_removed": N_("Removed a line"),
    "basket.quantity_changed": N_("Changed a quantity to {qty}"),
    "basket.line_discounted": N_("Discounted a line"),
    "basket.order_discounted": N_("Discounted the order"),
    "basket.parked": N_("Parked a basket"),
    "basket.resumed": N_("Resumed a parked basket"),
    "basket.voided": N_("Voided a basket — {money}"),
    "day.opened": N_("Opened the day {business_day}, float {money}"),
    "day.closed": N_("Closed the day {business_day}, counted {money}"),
    "day.z_report": N_("Z report of {business_day} recorded"),
    "drawer.opened": N_("Opened the cash drawer"),
    "drawer.opened:change": N_("Opened the cash drawer to give change"),
    "drawer.opened:correction": N_("Opened the cash drawer for a correction"),
    "drawer.opened:pickup": N_("Opened the cash drawer for a cash pickup"),
    "drawer.opened:float": N_("Opened the cash drawer for the float"),
    "staff.created": N_("Added staff member {staff}"),
    "staff.updated": N_("Changed staff member {staff}"),
    "staff.pin_changed": N_("Changed the PIN of {staff}"),
    "staff.locked": N_("Locked {staff}"),
    "staff.unlocked": N_("Unlocked {staff}"),
    "permissions.changed": N_("Changed who may “{action}”: {roles}"),
    "stock.received": N_("Received {qty} of {sku}"),
    "stock.adjusted": N_("Adjusted the stock of {sku} by {delta}"),
    "stock.counted": N_("Counted {counted} of {sku}"),
    "po.created": N_("Created purchase order {po} to {supplier}"),
    "po.cancelled": N_("Cancelled purchase order {po}"),
    "count.started": N_("Started stock count {count}"),
    "count.lines": N_("Counted products for stock count {count}"),
    "count.approved": N_("Approved stock count {count}"),
    "count.cancelled": N_("Cancelled stock count {count}"),
    "transfer.sent": N_("Sent transfer {transfer} to store {to_store}"),
    "transfer.received": N_("Received transfer {transfer} from store {from_store}"),
    "member.registered": N_("Registered a member"),
    "member.updated": N_("Changed a member's details"),
    "wallet.topped_up": N_("Topped up a wallet — {money}"),
    "loyalty.rules_set": N_("Changed the loyalty rules"),
    "coupon.issued": N_("Issued a coupon"),
    "coupon.use_granted": N_("HQ granted a use of coupon {code}"),
    "coupon.revoked": N_("HQ revoked coupon {code}"),
    "member.float_caps": N_("Set how much of a member's money this store may hold"),
    "member.float_granted": N_("HQ moved a member's money to this store — {money}"),
    "member.authorised": N_("HQ authorised a member's spend — {money}"),
    "member.float_returned": N_("Gave an unused authorisation back to HQ — {money}"),
    "member.history": N_("HQ sent a member's orders at other stores (for the tier)"),
    "basket.member_named": N_("Named the sale's member"),
    "catalogue.updated": N_("Catalogue updated: {count} products"),
    "catalogue.version_applied": N_("Catalogue version {version} applied"),
    "feedback.reported": N_("Reported a problem"),
    "flag.acknowledged": N_("Acknowledged a flag on order {order}"),
    "flag.dismissed": N_("Dismissed a flag on order {order}"),
    "licence.installed": N_("Licence installed"),
    "licence.checked": N_("Licence checked with HQ"),
    "licence.check_failed": N_("Licence check with HQ failed"),
    "licence.refused": N_("Refused by the licence"),
    "licence.tamper_detected": N_("Licence: clock or file tampering detected"),
    "licence.activation_requested": N_("Licence activation requested"),
    "licence.activated": N_("Licence activated"),
}
OTHER = N_("Other: {kind}")
REASON = N_("reason: {reason}")
NOTE = N_("note: {note}")
APPROVED = N_("approved by {staff}")

MONEY_KEYS = ("amount", "total", "float", "counted_cash", "difference")


def _order(d: dict[str, Any]) -> str:
    number = d.get("order_number") or d.get("number") or ""
    oid = str(d.get("order_id") or "")
    return str(number) if number else (oid[:8] if len(oid) == 36 else oid)


def describe(row: dict[str, Any], currency: str, lang: str | None = None) -> str:
    """The sentence for audit row ``row`` (``details`` as ``GET /v1/audit`` sends them)."""
    d: dict[str, Any] = dict(row.get("details") or {})
    kind = str(row.get("kind") or "")
    money_key = next((k for k in MONEY_KEYS if isinstance(d.get(k), int)), "")
    cur = str(d.get("currency") or currency)
    fields = {
        **{k: str(v) for k, v in d.items()},
        "money": i18n.money(int(d[money_key]), cur, lang) if money_key else "",
        "order": _order(d) if kind != "order.completed" else str(d.get("number") or ""),
        "kind": kind,
    }
    if isinstance(d.get("action"), str):
        fields["action"] = action_label(d["action"])
    if isinstance(d.get("roles"), list):
        fields["roles"] = ", ".join(role_label(str(r)) for r in d["roles"]) or "—"
    coded = f"{kind}:{d.get('reason', '')}"
    template = SENTENCES.get(coded) or SENTENCES.get(kind)
    try:
        text = _(template).format_map(_Blank(fields)) if template else ""
    except (ValueError, IndexError):  # a translation with broken braces: say it plainly
        text = ""
    if not text:
        text = _(OTHER).format(kind=kind)
    extra = []
    if d.get("reason") and coded not in SENTENCES and not kind.startswith(("auth.", "drawer.")):
        extra.append(_(REASON).format(reason=d["reason"]))
    if d.get("note"):
        extra.append(_(NOTE).format(note=d["note"]))
    if row.get("approved_by"):
        extra.append(_(APPROVED).format(staff=row["approved_by"]))
    return text + (" (" + "; ".join(extra) + ")" if extra else "")


class _Blank(dict):
    """A format map that leaves a missing field empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""
