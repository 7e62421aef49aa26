"""Every route of the store gateway as OpenAPI path items (assembled in ``actors.openapi``)."""

from __future__ import annotations

from typing import Any

from actors.openapi_schemas import (
    APPROVAL,
    ID,
    MONEY,
    PIN,
    SCOPE,
    STAFF,
    TILL,
    TILL_OP,
    S,
    _body,
    _op,
    _path,
    _q,
)
from domain.staff import ACTIONS, LANGUAGES, ROLES

PATHS: dict[str, dict[str, Any]] = {
    "/v1/health": {
        "get": _op(
            "store open/closed, journal seq and check, upload backlog, licence, disk free",
            None,
            public=True,
        )
    },
    "/v1/config": {
        "get": _op("the store's settings (currency, zone, tax classes…)", None, public=True)
    },
    "/v1/openapi.json": {"get": _op("this description", None, public=True)},
    "/v1/sessions": {
        "post": _op(
            "sign in at a till: answers a session token bound to the till",
            None,
            _body(
                {"id": ID, "staff": STAFF, "pin": PIN, "till": TILL}, ["id", "staff", "pin", "till"]
            ),
            public=True,
        )
    },
    "/v1/sessions/current": {
        "get": _op("who is signed in here, their permissions and language", None),
        "delete": _op("sign out", None),
    },
    "/v1/approvals": {
        "post": _op(
            "a manager's PIN for one action at this till: a one-time token",
            "approvals.request",
            _body(
                {
                    "id": ID,
                    "staff": STAFF,
                    "pin": PIN,
                    "action": {"type": "string", "enum": sorted(ACTIONS)},
                },
                ["staff", "pin", "action"],
            ),
        )
    },
    "/v1/tills/{till}/commands": {
        "post": _op(
            "a cashier command (scan, add, remove, quantity, discount_line, discount_order, park, "
            "resume, void, pay); the action needed depends on op",
            "sale.sell",
            _body(
                {"id": ID, "op": TILL_OP, "args": {"type": "object"}, "approval": APPROVAL},
                ["id", "op"],
            ),
            [_path("till", TILL)],
        )
    },
    "/v1/tills/{till}/basket": {
        "get": _op("the till's open and parked baskets", "sale.sell", params=[_path("till", TILL)])
    },
    "/v1/products": {
        "get": _op(
            "search products (the sale counter sees sellable ones only)",
            "products.view",
            params=[
                _q("q", {"type": "string", "maxLength": 100}),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                _q("sellable", {"type": "string", "enum": ["0", "1"]}),
            ],
        )
    },
    "/v1/products/import": {
        "post": _op(
            "import products",
            "products.import",
            _body(
                {
                    "id": ID,
                    "products": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                    "source": {"type": "string", "maxLength": 100},
                    "replace_all": {"type": "boolean"},
                },
                ["id", "products"],
            ),
        )
    },
    "/v1/product-grid": {
        "get": _op(
            "the sale counter's item grid: categories, and a category's products (else favourites)",
            "products.view",
            params=[_q("category", {"type": "string", "maxLength": 100})],
        )
    },
    "/v1/products/{code}": {
        "get": _op("look a product up by barcode or SKU", "products.view", params=[_path("code")])
    },
    "/v1/orders": {
        "get": _op(
            "find orders by number, id, member or business date (YYYY-MM-DD)",
            "orders.view",
            params=[_q("q", {"type": "string", "minLength": 1, "maxLength": 64}, True)],
        )
    },
    "/v1/orders/{order}": {"get": _op("one order", "orders.view", params=[_path("order")])},
    "/v1/orders/{order}/refund": {
        "post": _op(
            "refund whole or by line",
            "orders.refund",
            _body(
                {
                    "id": ID,
                    "lines": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 1},
                    },
                    "reason": S,
                    "approval": APPROVAL,
                },
                ["id"],
            ),
            [_path("order")],
        )
    },
    "/v1/orders/{order}/freeze": {
        "post": _op(
            "freeze an order",
            "orders.freeze",
            _body({"id": ID, "reason": S, "approval": APPROVAL}, ["id", "reason"]),
            [_path("order")],
        )
    },
    "/v1/orders/{order}/unfreeze": {
        "post": _op(
            "unfreeze an order",
            "orders.unfreeze",
            _body({"id": ID, "reason": S, "approval": APPROVAL}, ["id"]),
            [_path("order")],
        )
    },
    "/v1/stock": {"get": _op("stock levels, negative and low stock", "stock.view")},
    "/v1/stock/{kind}": {
        "post": _op(
            "receive, adjust or count stock",
            "stock.change",
            _body(
                {
                    "id": ID,
                    "sku": {"type": "string", "minLength": 1, "maxLength": 64},
                    "qty": {"type": "integer"},
                    "delta": {"type": "integer"},
                    "counted": {"type": "integer"},
                    "reason": S,
                    "reference": S,
                },
                ["id", "sku"],
            ),
            [_path("kind", {"type": "string", "enum": ["receive", "adjust", "count"]})],
        )
    },
    "/v1/day": {"get": _op("business day of every till; is the store open", None)},
    "/v1/day/open": {
        "post": _op(
            "open a till's day with its cash float (refused when the licence says no)",
            "day.open",
            _body({"id": ID, "till": TILL, "float": MONEY, "approval": APPROVAL}, ["id", "float"]),
        )
    },
    "/v1/day/close": {
        "post": _op(
            "close a till's day with the counted cash; records the Z report (and the store's, when "
            "the last till closes)",
            "day.close",
            _body(
                {
                    "id": ID,
                    "till": TILL,
                    "counted_cash": MONEY,
                    "counted": MONEY,
                    "approval": APPROVAL,
                },
                ["id", "counted_cash"],
            ),
        )
    },
    "/v1/reports/sales": {
        "get": _op(
            "a business day's net sales by hour, category or till (the manager's charts)",
            "reports.view",
            params=[
                _q("by", {"type": "string", "enum": ["hour", "category", "till"]}),
                _q("day", {"type": "string", "format": "date"}),
            ],
        )
    },
    "/v1/reports/{kind}": {
        "get": _op(
            "X report (any time), Z report, or a cashier's own report, from the analytics copy",
            "reports.view",
            params=[
                _path("kind", {"type": "string", "enum": ["x", "z", "cashier"]}),
                _q("scope", {"type": "string", "enum": ["till", "store"]}),
                _q("till", TILL),
                _q("staff", STAFF),
                _q("day", {"type": "string", "format": "date"}),
            ],
        )
    },
    "/v1/staff": {
        "get": _op("staff accounts", "staff.view"),
        "post": _op(
            "create an account, or change name, role, language, active, PIN",
            "staff.manage",
            _body(
                {
                    "id": ID,
                    "staff": STAFF,
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "role": {"enum": list(ROLES)},
                    "language": {"enum": list(LANGUAGES)},
                    "pin": PIN,
                    "active": {"type": "boolean"},
                    "approval": APPROVAL,
                },
                ["id", "staff"],
            ),
        ),
    },
    "/v1/staff/{staff}/{what}": {
        "post": _op(
            "lock or unlock an account (locking signs it out everywhere)",
            "staff.manage",
            _body({"id": ID, "reason": S, "approval": APPROVAL}, ["id"]),
            [_path("staff", STAFF), _path("what", {"type": "string", "enum": ["lock", "unlock"]})],
        )
    },
    "/v1/permissions": {
        "get": _op("which roles may do each action", None),
        "post": _op(
            "change the roles of an action (journaled)",
            "permissions.manage",
            _body(
                {
                    "id": ID,
                    "action": {"enum": sorted(ACTIONS)},
                    "roles": {
                        "type": "array",
                        "items": {"enum": list(ROLES)},
                        "maxItems": len(ROLES),
                    },
                    "approval": APPROVAL,
                },
                ["id", "action", "roles"],
            ),
        ),
    },
    "/v1/audit": {
        "get": _op(
            "who did what from which till and IP (journal scan; order=newest pages back)",
            "audit.view",
            params=[
                _q("staff", {"type": "string", "maxLength": 64}),
                _q("till", {"type": "string", "maxLength": 64}),
                _q("ip", {"type": "string", "maxLength": 64}),
                _q("kind", {"type": "string", "maxLength": 64}),
                _q("q", {"type": "string", "maxLength": 64}),
                _q("since", {"type": "integer", "minimum": 0}),
                _q("until", {"type": "integer", "minimum": 0}),
                _q("order", {"enum": ["oldest", "newest"]}),
                _q("before", {"type": "integer", "minimum": 0}),
                _q("after", {"type": "integer", "minimum": 0}),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                _q("scan", {"type": "integer", "minimum": 1, "maximum": 200000}),
            ],
        )
    },
    "/v1/events": {
        "get": _op(
            "committed events after a seq (long-poll with wait); the "
            "X-Kassa-Next-After header is the seq to ask after next",
            "events.read",
            params=[
                _q("after", {"type": "integer", "minimum": 0}),
                _q("wait", {"type": "number", "minimum": 0, "maximum": 30}),
                _q("scope", SCOPE),
            ],
        )
    },
    "/v1/events/stream": {
        "get": _op(
            "server-sent events of committed events (token may be ?token=)",
            "events.read",
            params=[
                _q("after", {"type": "integer", "minimum": 0}),
                _q("token", {"type": "string"}),
                _q("scope", SCOPE),
            ],
        )
    },
}

# what each read answers, and to whom (the permission above says who may ask at all)
