"""Roles, the counters each role sees, and default per-action permissions.

The gateway is the authority (it checks every request); the till only uses these to decide what to
show. When the gateway's sign-in answers a list of permissions, that list wins over the defaults
here.

``DEMO_STAFF`` is the demo shop's staff, used *only* when the store server has no sign-in endpoint
(a gateway without sessions trusts the till's ``X-Staff``/``X-Role`` headers anyway): the PIN is
checked here so that the demo and the tests behave like the real thing.
"""

from __future__ import annotations

import hashlib
import hmac

from kiosk.i18n import N_

__all__ = [
    "ACTION_LABELS",
    "COUNTERS",
    "ROLE_NAMES",
    "action_label",
    "role_label",
    "ROLE_COUNTERS",
    "ROLE_PERMISSIONS",
    "DEMO_STAFF",
    "can",
    "demo_sign_in",
]

COUNTERS = {
    "sale": N_("Sale counter"),
    "aftersales": N_("After-sales counter"),
    "manager": N_("Manager counter"),
}
ROLE_NAMES = {
    "cashier": N_("Cashier"),
    "aftersales": N_("After-sales"),
    "manager": N_("Manager"),
    "admin": N_("Administrator"),
}
# what each gateway action (domain/staff_rules.py ACTIONS) lets a person do, in their words
ACTION_LABELS = {
    "sale.sell": N_("Sell: scan, change lines, park, pay"),
    "sale.void": N_("Void the open basket"),
    "drawer.open": N_("Open the cash drawer without a sale (saying why)"),
    "payments.confirm": N_("Confirm that a QR or card payment arrived"),
    "payments.view": N_("See payments to refund at the provider"),
    "sale.discount": N_("Give discounts (within the limit)"),
    "sale.discount_over_limit": N_("Give or approve discounts over the limit"),
    "products.view": N_("Look up products"),
    "products.view_all": N_("See products that are not for sale"),
    "products.import": N_("Import products"),
    "prices.batch": N_("Change many prices at once"),
    "orders.view": N_("Find and read orders"),
    "orders.refund": N_("Refund orders"),
    "orders.reprint": N_("Reprint receipts"),
    "orders.freeze": N_("Freeze orders"),
    "orders.unfreeze": N_("Unfreeze orders"),
    "orders.refund_own_sale": N_("Refund one's own sale soon after selling it"),
    "orders.exchange": N_("Exchange items of an order for others"),
    "orders.refund_over_limit": N_("Give back more than the refund limit"),
    "flags.view": N_("Read the suspicious-order flags"),
    "flags.act": N_("Acknowledge or dismiss a flag"),
    "members.view": N_("Look up members"),
    "members.view_details": N_("See a member's phone, card and wallet history"),
    "members.register": N_("Register members"),
    "wallet.topup": N_("Top up member wallets"),
    "loyalty.manage": N_("Set the loyalty rules"),
    "coupons.issue": N_("Issue coupons"),
    "members.desk": N_("Use the member desk"),
    "members.edit": N_("Change members' details"),
    "members.import": N_("Import and export members"),
    "stock.view": N_("See stock levels"),
    "stock.change": N_("Receive, adjust and count stock"),
    "stock.count": N_("Count stock (blind counts)"),
    "stock.approve": N_("Approve stock counts"),
    "po.manage": N_("Create and cancel purchase orders"),
    "reports.own": N_("See one's own X report"),
    "reports.view": N_("See X and Z reports of any till"),
    "day.open": N_("Open the business day"),
    "day.close": N_("Close the business day"),
    "staff.view": N_("See staff accounts"),
    "staff.manage": N_("Add, change, lock and unlock staff"),
    "permissions.manage": N_("Change permissions"),
    "audit.view": N_("See who did what"),
    "health.view": N_("See the store's health and alerts"),
    "events.read": N_("Read every event (personal data included)"),
    "events.sales": N_("Sales feed for the big screen"),
    "feedback.report": N_("Report a problem from a till"),
    "devices.report": N_("Report the till's printer state to the store"),
    "approvals.request": N_("Ask for a manager's approval"),
}
ROLE_COUNTERS = {
    "cashier": ("sale",),
    "aftersales": ("aftersales",),
    "manager": ("manager", "sale", "aftersales"),
    "admin": ("manager", "sale", "aftersales"),
}

# the gateway's action names (domain/staff.py ACTIONS) and their default roles
_SALE = {
    "sale.sell",
    "sale.void",
    "sale.discount",
    "products.view",
    "members.view",
    "members.register",
    "wallet.topup",
    "reports.own",
    "events.read",
}
_AFTER = {
    "products.view",
    "products.view_all",
    "orders.view",
    "orders.refund",
    "orders.reprint",
    "orders.freeze",
    "orders.unfreeze",
    "members.view",
    "members.view_details",
    "members.register",
    "members.desk",
    "members.edit",
    "wallet.topup",
    "reports.own",
    "events.read",
}
_MANAGER = (
    _SALE
    | _AFTER
    | {
        "products.import",
        "prices.batch",
        "stock.view",
        "stock.change",
        "reports.view",
        "day.open",
        "day.close",
        "staff.view",
        "staff.manage",
        "permissions.manage",
        "audit.view",
        "members.import",
    }
)
ROLE_PERMISSIONS = {"cashier": _SALE, "aftersales": _AFTER, "manager": _MANAGER, "admin": _MANAGER}


def can(role: str, permissions: frozenset[str] | set[str], action: str) -> bool:
    if permissions:
        return action in permissions
    return action in ROLE_PERMISSIONS.get(role, set())


def _h(pin: str) -> str:
    return hashlib.sha256(f"kassa-demo:{pin}".encode()).hexdigest()


# staff id -> (name, role, language, pin hash): the demo shop's staff, the same accounts and PINs
# as the gateway's demo (actors/staff.py DEMO_STAFF)
DEMO_STAFF = {
    "c1": ("Cashier One", "cashier", "en", _h("1111")),
    "c2": ("收银员二", "cashier", "zh_CN", _h("2222")),
    "c3": ("แคชเชียร์สาม", "cashier", "th", _h("3333")),
    "a1": ("After-sales Amal", "aftersales", "ar", _h("4444")),
    "m1": ("Manager Mia", "manager", "en", _h("9999")),
    "admin": ("Administrator", "admin", "en", _h("0000")),
}


def demo_sign_in(staff: str, pin: str) -> dict | None:
    rec = DEMO_STAFF.get(staff.strip())
    if rec is None or not hmac.compare_digest(rec[3], _h(pin)):
        return None
    name, role, lang, _ = rec
    return {
        "staff": {"staff": staff.strip(), "name": name, "role": role, "lang": lang},
        "token": "",
    }


def counter_title(name: str) -> str:
    from kiosk.i18n import _

    return _(COUNTERS[name])


def action_label(action: str) -> str:
    """What an action lets a person do, translated (a new action the till does not know yet: its
    id, which is all there is to show)."""
    from kiosk.i18n import _

    label = ACTION_LABELS.get(action)
    return _(label) if label else action


def role_label(role: str) -> str:
    """A role's name, translated."""
    from kiosk.i18n import _

    name = ROLE_NAMES.get(role)
    return _(name) if name else role
