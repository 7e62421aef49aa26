"""A stand-in for HQ's catalogue pull route (``POST /v1/catalogue/pull``, the contract of the
publish part) on loopback, for store-side tests: it checks each store's signature exactly as the
cloud checks uploads (``domain.upload.verify_signature`` with the store's secret) and answers the
newest bundle "published" for the store, 204 when the store has it, 404 before anything is
published. ``stop()`` makes HQ unreachable (connection refused); ``start()`` brings it back on
the same port."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
from aiohttp import web

from domain.upload import H_NONCE, H_SIG, H_STORE, H_TS, verify_signature

__all__ = ["StandInHQ", "ServerThread"]


class ServerThread:
    """An aiohttp app on 127.0.0.1 served from a thread of its own; ``stop()`` closes the port
    (connection refused), ``start()`` opens it again on the same port."""

    def __init__(self, make_app: Any) -> None:
        self.make_app = make_app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def start(self) -> ServerThread:
        async def go() -> None:
            self.app = self.make_app()
            self.runner = web.AppRunner(self.app, access_log=None)
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", self.port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        self.run(go())
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.run(self.runner.cleanup())
            self.runner = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class StandInHQ(ServerThread):
    def __init__(self) -> None:
        super().__init__(self._app)
        self.secrets: dict[str, bytes] = {}
        self.published: dict[str, tuple[int, bytes]] = {}  # store -> (version, bundle)
        self.asked: list[tuple[str, int | None]] = []
        self.refused = 0

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/catalogue/pull", self._pull)
        return app

    def start(self) -> StandInHQ:
        super().start()
        return self

    def publish(self, store: str, version: int, bundle: bytes) -> None:
        self.published[store] = (version, bundle)

    async def _pull(self, request: web.Request) -> web.Response:
        body = await request.read()
        h = request.headers
        store = h.get(H_STORE, "")
        secret = self.secrets.get(store)
        if secret is None or not verify_signature(
            secret, store, h.get(H_TS, ""), h.get(H_NONCE, ""), body, h.get(H_SIG, "")
        ):
            self.refused += 1
            return web.json_response({"ok": False, "code": "auth.bad_signature"}, status=401)
        have = orjson.loads(body).get("have")
        self.asked.append((store, have))
        if store not in self.published:
            return web.json_response(
                {"ok": False, "code": "catalogue.none_published", "message": "none"}, status=404
            )
        version, bundle = self.published[store]
        if have == version:
            return web.Response(status=204)
        return web.Response(body=bundle, content_type="application/vnd.kassa.bundle")
