"""A new store from the admin app: ``POST /v1/hq/stores`` (admin role), as ``kassa admin store
create`` does it (``cloud.store_setup``).

    POST /v1/hq/stores  {store, name, zone, currency, locale, group, tills, days, grace, features,
                         cloud_url, manager_id, manager_name, manager_lang}
        → {ok, store, setup_code, manager, file_name, bundle: <the setup file, base64>}

The setup code is in this one answer only (HQ keeps no copy); the first manager's PIN is sealed
in the setup file and shown at the store when it is set up with the code.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.app import EXECUTOR, REGISTRY, hq_user
from cloud.hqauth import HQ, declare
from domain.errors import InvalidInput, KassaError
from domain.ports import Clock

__all__ = ["setup", "PATH"]

log = logging.getLogger(__name__)
PATH = "/v1/hq/stores"
MAX_BODY = 16 * 1024
DATA_KEY = web.AppKey("hqstores_dir", Path)  # HQ's folder (activations live there)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def create(request: web.Request) -> web.Response:
    from cloud.licence import AUTHORITY_KEY
    from cloud.master import MASTER
    from cloud.publish import PUBLISHER
    from cloud.store_setup import create_store, spec_from_dict

    app = request.app
    try:
        body = await request.content.read(MAX_BODY + 1)
        doc = orjson.loads(body) if len(body) <= MAX_BODY else None
        if not isinstance(doc, dict):
            raise InvalidInput("input.bad_json", "the body is a JSON object of the store's fields")
        spec = spec_from_dict(doc)
        made = await asyncio.get_running_loop().run_in_executor(
            app[EXECUTOR],
            create_store,
            app[DATA_KEY],
            app[REGISTRY],
            app[MASTER],
            app[AUTHORITY_KEY],
            app[PUBLISHER],
            spec,
            hq_user(request),
        )
    except orjson.JSONDecodeError:
        exc = InvalidInput("input.bad_json", "the request body is not JSON")
        return _json({"ok": False, **exc.to_dict()}, exc.http_status)
    except KassaError as exc:
        return _json({"ok": False, **exc.to_dict()}, exc.http_status)
    log.warning("HQ: store %s created by %s", made.store, hq_user(request))
    return _json(
        {
            "ok": True,
            "store": made.store,
            "setup_code": made.code,
            "manager": made.manager,
            "file_name": f"{made.store}.setup",
            "bundle": base64.b64encode(made.bundle).decode(),
        }
    )


def setup(app: web.Application, data_dir: Path, clock: Clock | None = None) -> None:
    """Mounted after HQ's master data, licences and publishing (it needs all three)."""
    from cloud.licence import AUTHORITY_KEY
    from cloud.master import MASTER
    from cloud.publish import PUBLISHER

    if any(app.get(k) is None for k in (MASTER, AUTHORITY_KEY, PUBLISHER)):
        log.warning("HQ master data, licences or publishing are off: no store creation route")
        return
    app[DATA_KEY] = Path(data_dir)
    declare("POST", PATH, HQ)  # admin only
    app.router.add_post(PATH, create)
