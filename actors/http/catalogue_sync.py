"""HQ's catalogue at the store: which version runs and how the last pull went, and a pull now
(a manager's: ``products.import``). The loop itself is ``actors.catalogue_sync_loop``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.http.common import command_id, jresp, read_json
from actors.http.context import gw
from actors.openapi_schemas import ID, _body, _op
from domain.errors import Unavailable

__all__ = ["ROUTES", "OPENAPI", "READ_SCOPE"]

READ_SCOPE = (
    "products.import: HQ catalogue version, where it came from, last pull, last error; "
    "no personal data"
)


def _puller(request: web.Request) -> Any:
    p = getattr(gw(request).h, "catalogue_sync", None)
    if p is None:
        raise Unavailable("store.unavailable", "the store is still starting; retry")
    return p


async def status(request: web.Request) -> web.Response:
    await gw(request).auth(request, "products.import")
    return jresp(_puller(request).status())


async def pull(request: web.Request) -> web.Response:
    g = gw(request)
    await g.auth(request, "products.import")
    command_id(await read_json(request))
    return jresp(await _puller(request).pull_once())


ROUTES = [
    ("GET", "/v1/catalogue/status", status),
    ("POST", "/v1/catalogue/pull", pull),
]

OPENAPI: dict[str, dict[str, Any]] = {
    "/v1/catalogue/status": {
        "get": _op(
            "HQ's catalogue at this store: version, source, last pull, last error",
            "products.import",
        )
    },
    "/v1/catalogue/pull": {
        "post": _op(
            "ask HQ for its newest catalogue now and apply it (journaled)",
            "products.import",
            _body({"id": ID}, ["id"]),
        )
    },
}
