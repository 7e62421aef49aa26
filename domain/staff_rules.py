"""Staff rules: the roles, languages and lock settings, every gateway action with the roles allowed
by default (``ACTIONS``), and the checks on staff ids, roles, languages and sealed PIN hashes."""

from __future__ import annotations

from domain.errors import InvalidInput

__all__ = [
    "ACTIONS",
    "LANGUAGES",
    "LOCK_S",
    "MAX_FAILURES",
    "ROLES",
    "SEALED_PREFIX",
    "check_language",
    "check_pin_hash",
    "check_role",
    "check_staff_id",
]

ROLES = ("cashier", "aftersales", "manager", "admin", "display")
LANGUAGES = ("en", "zh_CN", "th", "ar")
MAX_FAILURES = 10  # consecutive wrong PINs before the account locks (store.json auth.max_failures)
LOCK_S = 1800  # how long such a lock lasts (store.json auth.lock_s)
SEALED_PREFIX = "$kassa-sealed$v1$"  # an argon2id hash sealed with the store's own key
_PLAIN_PREFIX = "$argon2id$"  # journals from before sealing

_ALL = ("cashier", "aftersales", "manager", "admin")  # the people; a display device is not one
_SALE = ("cashier", "manager", "admin")
_AFTER = ("aftersales", "manager", "admin")
_MGR = ("manager", "admin")

# action -> (roles allowed by default, what it covers)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sale.sell": (_SALE, "scan, add, change and remove lines, park, resume, pay"),
    "sale.void": (_SALE, "void the open basket"),
    "payments.confirm": (
        _SALE,
        "confirm that a QR or card payment arrived (seen in the bank's app)",
    ),
    "payments.view": (_MGR, "payments to refund or void at the provider (late or orphaned)"),
    "drawer.open": (_SALE, "open the cash drawer without a sale, saying why (journaled)"),
    "sale.discount": (_SALE, "line and order discounts (within the role's limit)"),
    "sale.discount_over_limit": (_MGR, "discounts over the cashier's limit (or approve them)"),
    "products.view": (_ALL, "search and look up products (the sale counter sees sellable ones)"),
    "products.view_all": (("aftersales", "manager", "admin"), "see products that are not sellable"),
    "products.import": (_MGR, "import or replace products"),
    "prices.batch": (_MGR, "change many products' prices at once (where the store owns them)"),
    "orders.view": (_AFTER, "find and read orders"),
    "orders.refund": (_AFTER, "refund an order, whole or by line"),
    "orders.reprint": (_AFTER, "reprint a receipt (checked by the kiosk)"),
    "orders.freeze": (_AFTER, "freeze an order"),
    "orders.unfreeze": (_MGR, "unfreeze an order (a manager: after-sales may not undo a freeze)"),
    "orders.refund_own_sale": (_MGR, "refund one's own sale within the same-cashier rule's time"),
    "orders.exchange": (
        _AFTER,
        "exchange items of an order for others (returned and sold at once)",
    ),
    "orders.refund_over_limit": (_MGR, "give back more than the store's refund limit (or approve)"),
    "flags.view": (_MGR, "the anomaly flags inbox: rule, order, staff, till, evidence"),
    "flags.act": (_MGR, "acknowledge or dismiss a flag (with a note)"),
    "members.view": (_ALL, "look a member up: id, name and wallet balance (to pay with it)"),
    "members.view_details": (_AFTER, "a member's phone, card and wallet history"),
    "members.register": (_ALL, "register a member"),
    "wallet.topup": (_ALL, "top up a member's wallet"),
    "loyalty.manage": (_MGR, "set the loyalty rules: points rate, point value, tiers"),
    "coupons.issue": (_MGR, "issue coupons (amount or percent, validity, uses, member)"),
    "members.desk": (_AFTER, "the member desk: find, register, edit and top up members"),
    "members.edit": (_AFTER, "change a member's name, phone, card or marketing consent"),
    "members.import": (_MGR, "import and export members (CSV or XLSX: personal data)"),
    "stock.view": (_MGR, "stock levels"),
    "stock.change": (_MGR, "receive, adjust and count stock"),
    "stock.count": (_AFTER, "count stock in a stock count (blind: without the levels)"),
    "stock.approve": (_MGR, "approve a stock count: its variances become the levels"),
    "po.manage": (_MGR, "create and cancel purchase orders to suppliers"),
    "reports.own": (_ALL, "one's own X report"),
    "reports.view": (_MGR, "X and Z reports of any till and of the store"),
    "day.open": (_MGR, "open a till's business day with its float"),
    "day.close": (_MGR, "close a till's business day with the counted cash"),
    "staff.view": (_MGR, "list staff accounts"),
    "staff.manage": (_MGR, "create, change, lock and unlock staff accounts"),
    "permissions.manage": (_MGR, "change which roles may do an action"),
    "audit.view": (_MGR, "who did what, from which till and IP"),
    "health.view": (_MGR, "the store's health: metrics and alerts (disk, uploads, licence)"),
    "events.read": (_MGR, "every committed event and the live stream (personal data included)"),
    "events.sales": (
        ("display", "manager", "admin"),
        "the sales feed: order totals and counts per till, no personal data",
    ),
    "feedback.report": (_ALL, "report a problem (device, price, stock) from a till"),
    "devices.report": (_ALL, "report the till's receipt printer state to the store"),
    "approvals.request": (_ALL, "ask for a manager's approval (their PIN) at this till"),
}


def check_staff_id(value: object, field_name: str = "staff") -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 32
        or not all(c.isalnum() or c in "-_." for c in value)
        or not value.isascii()
    ):
        raise InvalidInput(
            "staff.bad_id", "a staff id is 1–32 letters, digits, '-', '_' or '.'", field=field_name
        )
    return value


def check_role(value: object) -> str:
    if value not in ROLES:
        raise InvalidInput("staff.bad_role", f"a role is one of {', '.join(ROLES)}", field="role")
    return value


def check_language(value: object) -> str:
    if value not in LANGUAGES:
        raise InvalidInput(
            "staff.bad_language", f"a language is one of {', '.join(LANGUAGES)}", field="language"
        )
    return value


def check_pin_hash(value: object) -> str:
    """New PIN hashes are sealed; a plain argon2id hash would reach HQ with the journal."""
    if not isinstance(value, str) or not value.startswith(SEALED_PREFIX) or len(value) > 512:
        raise InvalidInput(
            "staff.bad_pin_hash", "PIN hashes are journaled sealed with the store's key"
        )
    return value
