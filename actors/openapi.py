"""The OpenAPI 3.1 description of the store gateway, served at ``GET /v1/openapi.json``.

Kept true by tests/integration/gateway: every route of the app is described here and every path
here is a route; the fuzz test generates requests from these schemas and finds no 5xx. Every read
(GET) names what it answers to whom in ``x-kassa-read-scope``
(tests/integration/security/test_read_scopes.py).
"""

from __future__ import annotations

from typing import Any

from actors.http import bigscreen as bigscreen_api
from actors.http import catalogue_sync as catalogue_sync_api
from actors.http import drawer as drawer_api
from actors.http import exchange as exchange_api
from actors.http import flags as flags_api
from actors.http import loyalty as loyalty_api
from actors.http import members as members_api
from actors.http import monitoring as monitoring_api
from actors.http import payments as payments_api
from actors.http import prices as prices_api
from actors.http import replenish as replenish_api
from actors.http import stock_docs as stock_docs_api
from actors.openapi_paths import PATHS
from actors.openapi_schemas import ERROR, ID, _body, _op
from domain.error_codes import entries
from domain.staff import ACTIONS

__all__ = ["SPEC", "ERROR_CODES", "operations"]

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


FEED = (
    "events.read (manager, admin): every event, PIN and session hashes hidden; events.sales "
    "(display, manager, admin; ?scope=sales): order totals with their items (sku, names, unit, "
    "qty, amount), refund amounts and day open/close per till, without staff, IP, member, "
    "order id, line id or tenders; others 403"
)
READ_SCOPES = {
    "/v1/health": "public: counts and states, no personal data",
    "/v1/config": "public: the store's settings (no secrets: those are files of their own)",
    "/v1/openapi.json": "public",
    "/v1/sessions/current": "the caller's own session",
    "/v1/tills/{till}/basket": "the session's own till only (auth.wrong_till elsewhere)",
    "/v1/products": "sellable products only without products.view_all",
    "/v1/product-grid": "products.view: categories and sellable products (names, prices, pictures)",
    "/v1/products/{code}": "sellable products only without products.view_all",
    "/v1/orders": "orders.view: orders with their member id, payments (reference, last 4)",
    "/v1/orders/{order}": "orders.view: one order with its anomaly flags",
    "/v1/stock": "stock.view",
    "/v1/day": "whether the store is open and this till's day; every till's day (floats, "
    "counted cash) with day.open, day.close or reports.view",
    "/v1/reports/sales": "reports.view: figures per hour, category and till, no personal data",
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
    PATHS["/v1/feedback"] = {
        "post": _op(
            "report a problem (device, price, stock, other) from a till; any signed-in staff",
            "feedback.report",
            _body(
                {
                    "id": ID,
                    "kind": {"enum": ["device", "price", "stock", "other"]},
                    "message": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "sku": {"type": "string", "maxLength": 64},
                    "device": {"type": "string", "maxLength": 64},
                },
                ["id", "kind", "message"],
            ),
        )
    }

PATHS.update(flags_api.OPENAPI)
READ_SCOPES["/v1/flags"] = flags_api.READ_SCOPE
PATHS.update(bigscreen_api.OPENAPI)
PATHS.update(drawer_api.OPENAPI)
PATHS.update(exchange_api.OPENAPI)
READ_SCOPES["/v1/bigscreen/summary"] = bigscreen_api.READ_SCOPE
PATHS.update(catalogue_sync_api.OPENAPI)
READ_SCOPES["/v1/catalogue/status"] = catalogue_sync_api.READ_SCOPE
PATHS.update(payments_api.OPENAPI)
READ_SCOPES.update(payments_api.READ_SCOPES)
PATHS.update(monitoring_api.OPENAPI)
PATHS.update(members_api.OPENAPI)  # the member desk's routes (issue 15)
READ_SCOPES.update(members_api.READ_SCOPES)
READ_SCOPES.update(monitoring_api.READ_SCOPES)
PATHS.update(replenish_api.OPENAPI)
READ_SCOPES["/v1/replenish/suggestions"] = replenish_api.READ_SCOPE
PATHS.update(stock_docs_api.OPENAPI)
PATHS.update(prices_api.OPENAPI)  # batch price edits (issue 15)
READ_SCOPES.update(stock_docs_api.READ_SCOPES)
PATHS.update(loyalty_api.OPENAPI)
READ_SCOPES.update(loyalty_api.READ_SCOPES)

for _p, _scope in READ_SCOPES.items():
    PATHS[_p]["get"]["x-kassa-read-scope"] = _scope

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "kassa store gateway",
        "version": "1",
        "description": "The store's LAN API for kiosks. Sign in with POST /v1/sessions and "
        "send 'Authorization: Bearer <token>'. Every change carries a "
        "client-chosen 'id'. Errors: {error: {code, message, details}}; "
        "x-kassa-error-codes lists every stable code with its "
        "status and text.",
    },
    "components": {
        "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": ERROR},
    },
    "security": [{"session": []}],
    "paths": PATHS,
    "x-kassa-error-codes": ERROR_CODES,
    "x-kassa-actions": {a: {"roles": list(r), "description": d} for a, (r, d) in ACTIONS.items()},
}


def operations() -> list[tuple[str, str, dict]]:
    """(method, path, operation) for every described operation."""
    return [(m.upper(), p, op) for p, ops in PATHS.items() for m, op in ops.items()]
