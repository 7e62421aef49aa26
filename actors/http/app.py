"""The store's LAN gateway: JSON over HTTP (aiohttp) between kiosks and the actors.

* Staff sign in at a till (``POST /v1/sessions``) and send ``Authorization: Bearer <token>`` on
  every other request; the session is bound to its till, ends on sign-out, after
  ``idle_timeout_s`` without a request, or when the account is locked. Repeated wrong PINs lock the
  account for ``lock_s``.
* Every request is checked against the per-action permissions (``domain.staff.ACTIONS``, editable
  by a manager); a manager may approve one action at another counter with their PIN
  (``"approval": {"staff", "pin"}`` in the body, or a token from ``POST /v1/approvals``).
* Reads are scoped by role as well (``x-kassa-read-scope`` in the OpenAPI): the sale counter gets a
  member's id, name and balance only; the event feed is the managers' (``events.read``), and a
  display device (role ``display``) gets the sales feed (``events.sales``: figures, nothing
  personal).
* Free text never holds a card number: ``need_str`` and the other input helpers refuse one
  (``domain.pan``) before anything reaches the journal.
* Every request that changes something carries the kiosk's command ``id`` so a retry after a lost
  reply is safe (the same id answers the first answer). Every event records staff, till and
  client IP.
* Errors answer ``{"error": {"code", "message", "details"}}`` with the error's HTTP status; bad
  input of any kind is a 4xx, never a 5xx, and never reaches the journal.
* The OpenAPI description is served at ``/v1/openapi.json`` (``actors.openapi``).

Routes live in one module per business area (``AREAS``); who is asking is ``actors.http.context``;
input checks and answers are ``actors.http.common``.

Settings (optional) come from the ``"auth"`` object of ``<data>/store.json`` (``domain.store.
AuthPolicy``): ``idle_timeout_s`` (900), ``max_failures`` (10) and ``lock_s`` (1800) per account,
``ip_free_failures`` (5), ``ip_backoff_s`` (60), ``ip_backoff_max_s`` (3600) and ``ip_forget_s``
(900) per client address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from actors.http import (
    aftersales,
    bigscreen,
    catalogue_sync,
    day,
    drawer,
    events,
    exchange,
    feedback,
    flags,
    loyalty,
    members,
    monitoring,
    payments,
    products,
    replenish,
    reports,
    sale,
    sessions,
    staff,
    status,
    stock,
)
from actors.http.common import MAX_BODY, Handler, error_response, jresp
from actors.http.context import GATEWAY, Gateway
from actors.metrics import install as install_monitoring
from actors.recovery import AdminChannel
from domain.errors import KassaError, Unavailable


def unwrap(exc: BaseException) -> BaseException:
    from actors.ray_boot import unwrap as ray_unwrap  # Ray's errors: imported once one comes

    return ray_unwrap(exc)


__all__ = ["make_gateway", "errors_middleware", "AREAS"]

log = logging.getLogger(__name__)
AREAS = (
    status,
    sessions,
    sale,
    products,
    aftersales,
    members,
    stock,
    day,
    reports,
    staff,
    events,
    bigscreen,
    feedback,
    flags,
    catalogue_sync,
    drawer,
    payments,
    exchange,
    monitoring,
    replenish,
    loyalty,
)
HTTP_CODES = {404: "http.not_found", 405: "http.method_not_allowed", 413: "input.too_large"}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            code = HTTP_CODES.get(exc.status, "http.error")
            return jresp(
                {"error": {"code": code, "message": exc.reason, "details": {}}}, exc.status
            )
        raise
    except Exception as exc:
        cause = exc if isinstance(exc, KassaError) else unwrap(exc)
        if isinstance(cause, KassaError):
            return error_response(cause)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(
            Unavailable("store.internal", "the store server hit an error; retry with the same id")
        )


def make_gateway(handles: Any, status_extra: Callable[[], dict] | None = None) -> web.Application:
    g = Gateway(handles, status_extra)
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    app[GATEWAY] = g
    install_monitoring(app, g)  # request timing, health measured every ~30 s (actors.metrics)
    local = AdminChannel(g.data_dir, g.local_admin)  # kassa store unlock / set-pin (owner only)
    app.on_startup.append(lambda _app: local.start())
    app.on_cleanup.append(lambda _app: local.stop())
    for area in AREAS:
        for method, path, route in area.ROUTES:
            if method == "GET":  # and HEAD, as aiohttp's add_get does
                app.router.add_get(path, route)
            else:
                app.router.add_route(method, path, route)
    return app
