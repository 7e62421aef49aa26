"""The store server's composition root: data folder, Ray, actors, LAN gateway.

``kassa store serve --data DIR`` calls ``serve``; the first start creates the data folder with a
default ``store.json``. Everything the server knows is rebuilt from the journal at every start.
The process runs with umask 077 and makes its data folder owner-only at every start
(``actors.files.make_private``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from actors.backup import start_schedule as start_backups
from actors.files import make_private, private_umask
from actors.store_file import load_config, update_store_json

if TYPE_CHECKING:  # Ray loads with the actors, in start()
    from actors.remote import Handles

__all__ = ["load_config", "update_store_json", "serve", "run_loop", "StoreServer"]
T = TypeVar("T")

log = logging.getLogger(__name__)
STOP_GRACE_S = 2.0
_SHARE = hasattr(socket, "SO_REUSEPORT")  # Linux, BSD: a new version binds beside this one


class StoreServer:
    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int = 8600) -> None:
        private_umask()  # before Ray, SQLite or DuckDB create anything: all owner-only
        self.data_dir = Path(data_dir)
        make_private(self.data_dir)  # what an older version or a copy left readable
        self.host, self.port = host, port
        self.config = load_config(self.data_dir)
        self.runner: web.AppRunner | None = None
        self.handles: Handles  # set by start()
        self.scheme = "http"
        self.sock: socket.socket | None = None  # pre-bound by a hand-over (actors.handover)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        from actors.bootstrap import create_actors
        from actors.migrate import at_start
        from actors.ray_boot import start_ray
        from actors.tls import server_context

        if self.sock is None:  # the port no longer says a server runs: the folder's lock does
            from actors.handover import refuse_if_running

            await refuse_if_running(self.data_dir)
        at_start(self.data_dir)  # format check, migrations after a backup (actors.migrate)

        tls = server_context(self.data_dir)  # TLS on: HTTPS only, never a listener in clear
        self.scheme = "https" if tls else "http"
        start_ray(self.data_dir)
        self.handles = create_actors(self.data_dir, self.config)
        await self.handles.ready()
        from actors.gateway import make_gateway

        app = make_gateway(self.handles)
        # a stop (SIGTERM, a hand-over) waits this long for requests in flight, not aiohttp's 60 s:
        # a request caught half-read, or a long poll, would hold the tills for that long; what is
        # cut off is resent by id
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=STOP_GRACE_S)
        await self.runner.setup()
        site: web.BaseSite = (  # SO_REUSEPORT: a new version may take over (actors.handover)
            web.SockSite(self.runner, self.sock, ssl_context=tls)
            if self.sock is not None
            else web.TCPSite(self.runner, self.host, self.port, ssl_context=tls, reuse_port=_SHARE)
        )
        await site.start()
        addrs = [s.getsockname() for s in site._server.sockets]  # type: ignore[union-attr]
        self.port = addrs[0][1]
        (self.data_dir / "server.json").write_bytes(
            orjson.dumps(
                {"pid": os.getpid(), "host": self.host, "port": self.port, "scheme": self.scheme}
            )
        )
        log.warning("store %s serving on %s", self.config.store_id, self.url)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        from actors.ray_boot import stop_ray

        stop_ray()


async def _run(server: StoreServer, ready_msg: bool = True, take_over: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if take_over:
        from actors.handover import take_over as take

        await take(server)
    else:
        await server.start()
    start_backups(server)  # scheduled backups, off the selling path (actors.backup_schedule)
    if ready_msg:
        print(f"kassa store {server.config.store_id} ready on {server.url}", flush=True)
    await stop.wait()
    await server.stop()


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the store server's event loop: uvloop where it exists (about twice asyncio's
    throughput per message, which the 2-core store PC needs), else asyncio's own. Ray's async
    actors pick uvloop by themselves when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def serve(
    data_dir: Path, host: str = "127.0.0.1", port: int = 8600, take_over: bool = False
) -> int:
    from actors.logs import setup_logging

    setup_logging(data_dir)  # <data>/logs/store.log, size-rotated, 0600 (actors.logs)
    run_loop(_run(StoreServer(data_dir, host, port), take_over=take_over))
    return 0
