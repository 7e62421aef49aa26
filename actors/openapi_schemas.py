"""Building blocks of the gateway's OpenAPI description (``actors.openapi``): the shared schemas
and the helpers that describe one operation, its path and query parameters."""

from __future__ import annotations

from typing import Any

ID = {
    "type": "string",
    "minLength": 8,
    "maxLength": 64,
    "description": "command id chosen by the client (a UUID): the idempotency key",
}
TILL = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,16}$"}
STAFF = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,32}$"}
PIN = {"type": "string", "minLength": 4, "maxLength": 64}
MONEY = {
    "type": "integer",
    "minimum": 0,
    "maximum": 10**10,
    "description": "integer minor units of the store's currency",
}
APPROVAL = {
    "description": "a manager's approval for this one request",
    "oneOf": [
        {
            "type": "object",
            "required": ["staff", "pin"],
            "additionalProperties": False,
            "properties": {"staff": STAFF, "pin": PIN},
        },
        {
            "type": "object",
            "required": ["token"],
            "additionalProperties": False,
            "properties": {"token": {"type": "string", "minLength": 8, "maxLength": 64}},
        },
    ],
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
                "type": {"type": "string"},
            },
        }
    },
}


# what an API client should know beyond a code's status and text (its details, how to retry)
def _body(props: dict[str, Any], required: list[str]) -> dict:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": props, "required": required}
            }
        },
    }


def _op(
    summary: str,
    action: str | None,
    body: dict | None = None,
    params: list[dict] | None = None,
    public: bool = False,
) -> dict:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "4XX": {"description": "refused", "content": {"application/json": {"schema": ERROR}}},
        },
    }
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
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string", "minLength": 1, "maxLength": 64},
    }


def _q(name: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema}


S = {"type": "string", "maxLength": 200}
SCOPE = {"type": "string", "enum": ["all", "sales"]}
TILL_OP = {
    "type": "string",
    "enum": [
        "scan",
        "add",
        "remove",
        "quantity",
        "park",
        "resume",
        "pay",
        "member",
        "void",
        "discount_line",
        "discount_order",
    ],
}
