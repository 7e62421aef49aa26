"""What every route shares: input checks (refusing card numbers in free text), JSON answers, error
answers, and how events and acks are shown to clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import orjson
from aiohttp import web

from domain.errors import InvalidInput, KassaError
from domain.money import check_amount
from domain.pan import refuse_card_number

__all__ = [
    "MAX_BODY",
    "Handler",
    "derived_id",
    "jresp",
    "error_response",
    "redact",
    "read_json",
    "need_str",
    "path_key",
    "need_int",
    "need_amount",
    "query_int",
    "command_id",
    "till_id",
    "plain",
]

MAX_BODY = 256 * 1024
TILL_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NS = uuid.UUID("1b0c7a52-9f0e-4d39-8a51-2f5c0e7d4b10")  # ids derived from a command id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def derived_id(cid: str, what: str) -> str:
    return str(uuid.uuid5(NS, f"{cid}|{what}"))


def jresp(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(exc: KassaError) -> web.Response:
    resp = jresp({"error": exc.to_dict()}, exc.http_status)
    if exc.http_status == 429:
        resp.headers["Retry-After"] = str(exc.details.get("retry_after_s", 1))
    return resp


def redact(wire: dict) -> dict:
    """An event as shown to clients: PIN hashes and session hashes are not shown."""
    kind = wire.get("kind", "")
    if kind.startswith(("staff.", "auth.")) and isinstance(wire.get("body"), dict):
        body = dict(wire["body"])
        for k in ("pin_hash", "session"):
            if k in body:
                body[k] = "***"
        wire = {**wire, "body": body}
    return wire


async def read_json(request: web.Request) -> dict:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise InvalidInput("input.too_large", f"bodies are at most {MAX_BODY} bytes") from None
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidInput("input.bad_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("input.not_object", "the body must be a JSON object")
    return data


def need_str(
    data: dict, key: str, max_len: int = 200, required: bool = True, code: bool = False
) -> str:
    """A string field of at most ``max_len`` characters. Free text (every field but a product
    code, ``code=True``) is refused if it holds anything written like a card number."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise InvalidInput(
            "input.bad_field", f"{key!r} must be a string of 1–{max_len} characters", field=key
        )
    return value if code else refuse_card_number(value, key)


def path_key(request: web.Request, name: str, max_len: int = 64) -> str:
    """A path or query value used to look something up (a member's id, card or phone; an order):
    never a card number, which would otherwise travel on into errors and logs."""
    value = request.match_info.get(name) or request.query.get(name, "")
    if len(value) > max_len:
        raise InvalidInput(
            "input.bad_field", f"{name!r} is at most {max_len} characters", field=name
        )
    return value if UUID_RE.match(value) else refuse_card_number(value, name)


def need_int(data: dict, key: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(
            "input.bad_field", f"{key!r} must be a whole number {lo}–{hi}", field=key
        )
    return value


def need_amount(data: dict, key: str, lo: int, limit: int) -> int:
    """A whole amount ≥ ``lo`` (``input.bad_field``) and ≤ ``limit`` (``amount.too_large``)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InvalidInput("input.bad_field", f"{key!r} must be a whole number ≥ {lo}", field=key)
    return check_amount(value, limit, key)


def query_int(request: web.Request, key: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            "input.bad_field", f"{key!r} must be a whole number", field=key
        ) from None
    if not lo <= value <= hi:
        raise InvalidInput("input.bad_field", f"{key!r} must be {lo}–{hi}", field=key)
    return value


def command_id(data: dict) -> str:
    cid = data.get("id")
    if not isinstance(cid, str) or not 8 <= len(cid) <= 64 or not cid.isprintable():
        raise InvalidInput("command.bad_id", "every change needs an 'id' (a UUID the kiosk chose)")
    return cid


def till_id(value: object, field: str = "till") -> str:
    if not isinstance(value, str) or not TILL_RE.match(value):
        raise InvalidInput("till.bad_id", "a till id is 1–16 letters, digits, - or _", field=field)
    return refuse_card_number(value, field)


def plain(value: Any) -> Any:
    return msgspec.to_builtins(value)
