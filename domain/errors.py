"""One hierarchy of errors for the whole system.

Every error carries a stable ``code`` string (``area.reason``) that crosses Ray and HTTP unchanged
and that the kiosks translate for the operator. Messages are for logs and developers; never parse
them. Every code is registered in ``domain.error_codes``: its class, HTTP status and operator text.

    KassaError
    ├── InvalidInput          (4xx: the request itself is wrong)        input.*, product.*, basket.*
    ├── NotFound              (404)                                     *.not_found
    ├── Conflict              (409: the state of the shop forbids it)   wallet.*, refund.*, order.*
    ├── Unauthorized          (401: sign in first)                      auth.required, auth.bad_*
    ├── Forbidden             (403: who you are forbids it)             auth.*, discount.over_limit
    ├── Throttled             (429: too many tries from here; wait)     auth.throttled
    └── Unavailable           (503: try again later)                    store.*
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "KassaError",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "Forbidden",
    "Unauthorized",
    "Throttled",
    "Unavailable",
    "error_from_dict",
]


class KassaError(Exception):
    """Base of every expected error. ``code`` is stable; ``details`` is JSON-safe."""

    http_status = 400
    default_code = "kassa.error"

    def __init__(self, code: str | None = None, message: str = "", /, **details: Any) -> None:
        # code and message are positional-only so that details may carry keys named "code"
        self.code = str(code or self.default_code)  # a registry member → its plain code
        self.message = message or self.code
        self.details = details
        super().__init__(f"{self.code}: {self.message}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "type": type(self).__name__,
        }

    def __reduce__(self) -> tuple[Any, ...]:  # survive pickling (Ray) with code and details
        return (_rebuild, (type(self).__name__, self.code, self.message, self.details))


class InvalidInput(KassaError):
    http_status = 400
    default_code = "input.invalid"


class NotFound(KassaError):
    http_status = 404
    default_code = "not_found"


class Conflict(KassaError):
    http_status = 409
    default_code = "conflict"


class Unauthorized(KassaError):
    http_status = 401
    default_code = "auth.required"


class Forbidden(KassaError):
    http_status = 403
    default_code = "auth.forbidden"


class Throttled(KassaError):
    http_status = 429
    default_code = "auth.throttled"


class Unavailable(KassaError):
    http_status = 503
    default_code = "store.unavailable"


_TYPES = {
    c.__name__: c
    for c in (
        KassaError,
        InvalidInput,
        NotFound,
        Conflict,
        Unauthorized,
        Forbidden,
        Throttled,
        Unavailable,
    )
}


def _rebuild(type_name: str, code: str, message: str, details: dict[str, Any]) -> KassaError:
    return _TYPES.get(type_name, KassaError)(code, message, **details)


def error_from_dict(data: dict[str, Any]) -> KassaError:
    """Rebuild an error sent as JSON (the inverse of ``KassaError.to_dict``)."""
    return _rebuild(
        str(data.get("type", "KassaError")),
        str(data.get("code", "kassa.error")),
        str(data.get("message", "")),
        dict(data.get("details") or {}),
    )
