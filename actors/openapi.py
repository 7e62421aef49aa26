"""The OpenAPI 3.1 description of the store gateway, served at ``GET /v1/openapi.json``.

Kept true by tests/integration/gateway: every route of the app is described here and every path here is a route;
the fuzz test generates requests from these schemas and finds no 5xx. Every read (GET) names what it
answers to whom in ``x-kassa-read-scope`` (tests/integration/security/test_read_scopes.py).
"""

from __future__ import annotations

from typing import Any

from domain.error_codes import entries
from domain.staff import ACTIONS, LANGUAGES, ROLES

__all__ = ["SPEC", "ERROR_CODES", "operations"]

ID = {"type": "string", "minLength": 8, "maxLength": 64,
      "description": "command id chosen by the client (a UUID): the idempotency key"}
TILL = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,16}$"}
STAFF = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,32}$"}
PIN = {"type": "string", "minLength": 4, "maxLength": 64}
MONEY = {"type": "integer", "minimum": 0, "maximum": 10**10,
         "description": "integer minor units of the store's currency"}
APPROVAL = {"description": "a manager's approval for this one request",
            "oneOf": [{"type": "object", "required": ["staff", "pin"], "additionalProperties": False,
                       "properties": {"staff": STAFF, "pin": PIN}},
                      {"type": "object", "required": ["token"], "additionalProperties": False,
                       "properties": {"token": {"type": "string", "minLength": 8,
                                                "maxLength": 64}}}]}

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "details"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "details": {"type": "object"}, "type": {"type": "string"}}}}}

# what an API client should know beyond a code's status and text (its details, how to retry)
NOTES = {
    "auth.locked": "details: retry_after_s",
    "auth.throttled": "too many wrong PINs from this client address; details: retry_after_s, "
                      "header Retry-After",
    "auth.pin_reset_needed": "the stored PIN cannot be read with the store's key: kassa store "
                             "set-pin on the store PC",
    "auth.approval_invalid": "the approval token expired, was used, or is for another action",
    "payment.card_number_refused": "a text field (or a look-up key) holds something written like "
                                   "a card number; details.field names it",
    "day.licence_refused": "details: licence_code, grace_days_left",
    "licence.too_many_tills": "no day opens on a till beyond the licence's count, no command "
                              "reaches it; details: tills, till, in_use",
    "report.lagging": "retry with the same id",
    "store.internal": "retry with the same id",
    "amount.too_large": "above the store's limits (store.json 'limits')",
}


def _error_codes() -> dict[str, dict[str, Any]]:
    """Every registered error code (``domain.error_codes``): its HTTP status (null: never an HTTP
    answer), other statuses it is answered with, and the English text the till shows."""
    out: dict[str, dict[str, Any]] = {}
    for entry in entries():
        out[entry.code] = {"status": entry.status or None, "text": entry.text}
        if entry.also:
            out[entry.code]["also"] = list(entry.also)
        if entry.code in NOTES:
            out[entry.code]["note"] = NOTES[entry.code]
    return out


ERROR_CODES = _error_codes()


def _body(props: dict[str, Any], required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": props, "required": required}}}}


def _op(summary: str, action: str | None, body: dict | None = None,
        params: list[dict] | None = None, public: bool = False) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
        "4XX": {"description": "refused", "content": {"application/json": {"schema": ERROR}}}}}
    if action:
        op["x-kassa-action"] = action
    if public:
        op["security"] = []
    if body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    return op


def _path(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "string", "minLength": 1, "maxLength": 64}}


def _q(name: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema}


S = {"type": "string", "maxLength": 200}
SCOPE = {"type": "string", "enum": ["all", "sales"]}
TILL_OP = {"type": "string", "enum": ["scan", "add", "remove", "quantity", "park", "resume", "pay",
                                      "void", "discount_line", "discount_order"]}

PATHS: dict[str, dict[str, Any]] = {
    "/v1/health": {"get": _op("store open/closed, journal seq and check, upload backlog, licence, "
                              "disk free", None, public=True)},
    "/v1/config": {"get": _op("the store's settings (currency, zone, tax classes…)", None,
                              public=True)},
    "/v1/openapi.json": {"get": _op("this description", None, public=True)},
    "/v1/sessions": {"post": _op("sign in at a till: answers a session token bound to the till",
                                 None, _body({"id": ID, "staff": STAFF, "pin": PIN, "till": TILL},
                                             ["id", "staff", "pin", "till"]), public=True)},
    "/v1/sessions/current": {
        "get": _op("who is signed in here, their permissions and language", None),
        "delete": _op("sign out", None)},
    "/v1/approvals": {"post": _op("a manager's PIN for one action at this till: a one-time token",
                                  "approvals.request", _body({"id": ID, "staff": STAFF, "pin": PIN,
                                               "action": {"type": "string",
                                                          "enum": sorted(ACTIONS)}},
                                              ["staff", "pin", "action"]))},
    "/v1/tills/{till}/commands": {"post": _op(
        "a cashier command (scan, add, remove, quantity, discount_line, discount_order, park, "
        "resume, void, pay); the action needed depends on op", "sale.sell",
        _body({"id": ID, "op": TILL_OP, "args": {"type": "object"}, "approval": APPROVAL},
              ["id", "op"]), [_path("till", TILL)])},
    "/v1/tills/{till}/basket": {"get": _op("the till's open and parked baskets", "sale.sell",
                                           params=[_path("till", TILL)])},
    "/v1/products": {"get": _op("search products (the sale counter sees sellable ones only)",
                                "products.view",
                                params=[_q("q", {"type": "string", "maxLength": 100}),
                                        _q("limit", {"type": "integer", "minimum": 1,
                                                     "maximum": 200}),
                                        _q("sellable", {"type": "string", "enum": ["0", "1"]})])},
    "/v1/products/import": {"post": _op("import products", "products.import", _body(
        {"id": ID, "products": {"type": "array", "minItems": 1, "items": {"type": "object"}},
         "source": {"type": "string", "maxLength": 100}, "replace_all": {"type": "boolean"}},
        ["id", "products"]))},
    "/v1/products/{code}": {"get": _op("look a product up by barcode or SKU", "products.view",
                                       params=[_path("code")])},
    "/v1/orders": {"get": _op("find orders by number, id, member or business date (YYYY-MM-DD)", "orders.view",
                              params=[_q("q", {"type": "string", "minLength": 1, "maxLength": 64},
                                         True)])},
    "/v1/orders/{order}": {"get": _op("one order", "orders.view", params=[_path("order")])},
    "/v1/orders/{order}/refund": {"post": _op("refund whole or by line", "orders.refund", _body(
        {"id": ID, "lines": {"type": "object", "additionalProperties": {
            "type": "integer", "minimum": 1}}, "reason": S, "approval": APPROVAL}, ["id"]),
        [_path("order")])},
    "/v1/orders/{order}/freeze": {"post": _op("freeze an order", "orders.freeze", _body(
        {"id": ID, "reason": S, "approval": APPROVAL}, ["id", "reason"]), [_path("order")])},
    "/v1/orders/{order}/unfreeze": {"post": _op("unfreeze an order", "orders.unfreeze", _body(
        {"id": ID, "reason": S, "approval": APPROVAL}, ["id"]), [_path("order")])},
    "/v1/members": {"post": _op("register a member", "members.register", _body(
        {"id": ID, "member": {"type": "string", "minLength": 1, "maxLength": 64}, "name": S,
         "phone": {"type": "string", "maxLength": 32}, "card": {"type": "string", "maxLength": 64}},
        ["id", "member", "name"]))},
    "/v1/members/{member}": {"get": _op("a member and wallet balance (by id, card or phone)",
                                        "members.view", params=[_path("member")])},
    "/v1/members/{member}/topup": {"post": _op("top up a wallet (cash or card)", "wallet.topup",
                                               _body({"id": ID, "amount": {**MONEY, "minimum": 1},
                                                      "tender": {"enum": ["cash", "card"]},
                                                      "reference": {"type": "string",
                                                                    "maxLength": 64},
                                                      "approval": APPROVAL},
                                                     ["id", "amount"]), [_path("member")])},
    "/v1/stock": {"get": _op("stock levels, negative and low stock", "stock.view")},
    "/v1/stock/{kind}": {"post": _op("receive, adjust or count stock", "stock.change", _body(
        {"id": ID, "sku": {"type": "string", "minLength": 1, "maxLength": 64},
         "qty": {"type": "integer"}, "delta": {"type": "integer"},
         "counted": {"type": "integer"}, "reason": S, "reference": S}, ["id", "sku"]),
        [_path("kind", {"type": "string", "enum": ["receive", "adjust", "count"]})])},
    "/v1/day": {"get": _op("business day of every till; is the store open", None)},
    "/v1/day/open": {"post": _op(
        "open a till's day with its cash float (refused when the licence says no)", "day.open",
        _body({"id": ID, "till": TILL, "float": MONEY, "approval": APPROVAL}, ["id", "float"]))},
    "/v1/day/close": {"post": _op(
        "close a till's day with the counted cash; records the Z report (and the store's, when "
        "the last till closes)", "day.close",
        _body({"id": ID, "till": TILL, "counted_cash": MONEY, "counted": MONEY,
               "approval": APPROVAL}, ["id", "counted_cash"]))},
    "/v1/reports/{kind}": {"get": _op(
        "X report (any time), Z report, or a cashier's own report, from the analytics copy",
        "reports.view", params=[_path("kind", {"type": "string", "enum": ["x", "z", "cashier"]}),
                                _q("scope", {"type": "string", "enum": ["till", "store"]}),
                                _q("till", TILL), _q("staff", STAFF),
                                _q("day", {"type": "string", "format": "date"})])},
    "/v1/staff": {
        "get": _op("staff accounts", "staff.view"),
        "post": _op("create an account, or change name, role, language, active, PIN",
                    "staff.manage", _body({"id": ID, "staff": STAFF, "name": {
                        "type": "string", "minLength": 1, "maxLength": 100},
                        "role": {"enum": list(ROLES)}, "language": {"enum": list(LANGUAGES)},
                        "pin": PIN, "active": {"type": "boolean"}, "approval": APPROVAL},
                        ["id", "staff"]))},
    "/v1/staff/{staff}/{what}": {"post": _op(
        "lock or unlock an account (locking signs it out everywhere)", "staff.manage",
        _body({"id": ID, "reason": S, "approval": APPROVAL}, ["id"]),
        [_path("staff", STAFF), _path("what", {"type": "string", "enum": ["lock", "unlock"]})])},
    "/v1/permissions": {
        "get": _op("which roles may do each action", None),
        "post": _op("change the roles of an action (journaled)", "permissions.manage", _body(
            {"id": ID, "action": {"enum": sorted(ACTIONS)},
             "roles": {"type": "array", "items": {"enum": list(ROLES)},
                       "maxItems": len(ROLES)},
             "approval": APPROVAL}, ["id", "action", "roles"]))},
    "/v1/audit": {"get": _op("who did what from which till and IP (journal scan)", "audit.view",
                             params=[_q("staff", {"type": "string", "maxLength": 64}),
                                     _q("till", {"type": "string", "maxLength": 64}),
                                     _q("ip", {"type": "string", "maxLength": 64}),
                                     _q("kind", {"type": "string", "maxLength": 64}),
                                     _q("after", {"type": "integer", "minimum": 0}),
                                     _q("limit", {"type": "integer", "minimum": 1,
                                                  "maximum": 1000}),
                                     _q("scan", {"type": "integer", "minimum": 1,
                                                 "maximum": 200000})])},
    "/v1/events": {"get": _op("committed events after a seq (long-poll with wait); the "
                              "X-Kassa-Next-After header is the seq to ask after next",
                              "events.read",
                              params=[_q("after", {"type": "integer", "minimum": 0}),
                                      _q("wait", {"type": "number", "minimum": 0,
                                                  "maximum": 30}), _q("scope", SCOPE)])},
    "/v1/events/stream": {"get": _op("server-sent events of committed events (token may be "
                                     "?token=)", "events.read",
                                     params=[_q("after", {"type": "integer", "minimum": 0}),
                                             _q("token", {"type": "string"}),
                                             _q("scope", SCOPE)])},
}

# what each read answers, and to whom (the permission above says who may ask at all)
FEED = ("events.read (manager, admin): every event, PIN and session hashes hidden; events.sales "
        "(display, manager, admin; ?scope=sales): order totals, refund amounts and day open/close "
        "per till, without staff, IP, member, order id, lines or tenders; others 403")
READ_SCOPES = {
    "/v1/health": "public: counts and states, no personal data",
    "/v1/config": "public: the store's settings (no secrets: those are files of their own)",
    "/v1/openapi.json": "public",
    "/v1/sessions/current": "the caller's own session",
    "/v1/tills/{till}/basket": "the session's own till only (auth.wrong_till elsewhere)",
    "/v1/products": "sellable products only without products.view_all",
    "/v1/products/{code}": "sellable products only without products.view_all",
    "/v1/orders": "orders.view: orders with their member id, payments (reference, last 4)",
    "/v1/orders/{order}": "orders.view: one order with its anomaly flags",
    "/v1/members/{member}": "members.view: id, name, balance (what paying needs); phone, card "
                            "and wallet history with members.view_details",
    "/v1/stock": "stock.view",
    "/v1/day": "whether the store is open and this till's day; every till's day (floats, "
               "counted cash) with day.open, day.close or reports.view",
    "/v1/reports/{kind}": "reports.own: the caller's own cashier report; reports.view: any",
    "/v1/staff": "staff.view: accounts without PIN hashes",
    "/v1/permissions": "any session: which roles may do each action",
    "/v1/audit": "audit.view",
    "/v1/events": FEED,
    "/v1/events/stream": FEED,
}

def _has_feedback() -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec("kiosk.feedback_api") is not None
    except ImportError:
        return False


if _has_feedback():
    PATHS["/v1/feedback"] = {"post": _op(
        "report a problem (device, price, stock, other) from a till; any signed-in staff",
        "feedback.report",
        _body({"id": ID, "kind": {"enum": ["device", "price", "stock", "other"]},
               "message": {"type": "string", "minLength": 1, "maxLength": 2000},
               "sku": {"type": "string", "maxLength": 64},
               "device": {"type": "string", "maxLength": 64}}, ["id", "kind", "message"]))}

for _p, _scope in READ_SCOPES.items():
    PATHS[_p]["get"]["x-kassa-read-scope"] = _scope

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "kassa store gateway", "version": "1",
             "description": "The store's LAN API for kiosks. Sign in with POST /v1/sessions and "
                            "send 'Authorization: Bearer <token>'. Every change carries a "
                            "client-chosen 'id'. Errors: {error: {code, message, details}}; "
                            "x-kassa-error-codes lists every stable code with its "
                            "status and text."},
    "components": {"securitySchemes": {"session": {"type": "http", "scheme": "bearer"}},
                   "schemas": {"Error": ERROR}},
    "security": [{"session": []}],
    "paths": PATHS,
    "x-kassa-error-codes": ERROR_CODES,
    "x-kassa-actions": {a: {"roles": list(r), "description": d} for a, (r, d) in ACTIONS.items()},
}


def operations() -> list[tuple[str, str, dict]]:
    """(method, path, operation) for every described operation."""
    return [(m.upper(), p, op) for p, ops in PATHS.items() for m, op in ops.items()]
