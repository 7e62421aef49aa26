"""The store server's composition root: data folder, the selling path, the LAN gateway, Ray.

``kassa store serve --data DIR`` calls ``serve``; the first start creates the data folder with a
default ``store.json``. The process runs with umask 077 and makes its data folder owner-only at
every start (``actors.files.make_private``).

A start brings the selling path up first, in this process: the ledger (its journal replayed),
the tills hosted here with the catalogue read from ``catalogue.json``, and the HTTP gateway — the
tills sell within a second or two of a crash. Ray starts meanwhile in a worker thread and brings
up the other actors; routes that need one of them answer 503 ``store.starting`` until then (the
till sends again). SIGTERM or SIGINT stops the server cleanly (exit status 0): ``/v1/health``
says "stopping", other requests answer 503 ``store.stopping`` (the till resends by id to the next
server), the ledger closes its journal, then the gateway and Ray stop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from actors.boot_clock import STEPS, exec_time, mark
from actors.files import make_private, private_umask
from actors.http.common import Handler
from actors.store_file import load_config, update_store_json
from domain.error_codes.fastpath import Lifecycle
from domain.errors import Unavailable

if TYPE_CHECKING:
    from actors.bootstrap import Handles

__all__ = ["load_config", "update_store_json", "serve", "run_loop", "StoreServer"]
T = TypeVar("T")

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
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
        self.actors_task: asyncio.Task | None = None
        self.up_task: asyncio.Task | None = None  # every actor's first answer, timed
        self.stop_requested: asyncio.Event | None = None
        self.sock: socket.socket | None = None  # pre-bound by a hand-over (actors.handover)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        """The selling path and the gateway up (Ray and the other actors start meanwhile)."""
        from actors.bootstrap import create_actors
        from actors.gateway import make_gateway
        from actors.migrate import at_start

        mark("imported")  # the selling path's modules
        if self.sock is None:  # the port no longer says a server runs: the folder's lock does
            from actors.handover import refuse_if_running

            await refuse_if_running(self.data_dir)
        at_start(self.data_dir)  # format check, migrations after a backup (actors.migrate)
        tls = None
        if _tls_named(self.data_dir):  # TLS on: HTTPS only, never a listener in clear
            from actors.tls import server_context  # X.509 and all: only when TLS is on

            tls = server_context(self.data_dir)
        mark("checked")  # the folder's format and TLS files
        self.scheme = "https" if tls else "http"
        self.handles = create_actors(self.data_dir, self.config)
        await self.handles.ready()
        mark("tills")  # the tills hosted here, their open baskets rebuilt
        app = make_gateway(self.handles)
        app.middlewares.append(self._lifecycle)  # innermost: its refusals are answered as errors
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
        mark("listening")
        gc.enable()  # kassa_cli.serve held collections off through the start
        self._write_server_json()
        log.warning(
            "store %s selling on %s; starting the other actors", self.config.store_id, self.url
        )
        self.actors_task = asyncio.get_running_loop().create_task(self._start_actors())

    def _write_server_json(self) -> None:
        """``server.json``: where this server listens, and where its start's time went so far
        (actors.boot_clock; a woken spare's exec was long before)."""
        boot = {**({} if "woken" in STEPS else {"exec": exec_time()}), **STEPS}
        info = {"pid": os.getpid(), "host": self.host, "port": self.port, "scheme": self.scheme}
        path = self.data_dir / "server.json"  # replaced whole (a reader never sees half), not
        tmp = path.with_name(f".server.json.{os.getpid()}")  # synced: the next start rewrites it
        tmp.write_bytes(orjson.dumps({**info, "boot": boot}))
        os.replace(tmp, path)

    async def _start_actors(self) -> None:
        try:
            await self.handles.start_actors()
        except Exception as exc:  # the selling path keeps going; the log says why the rest did not
            log.exception("the store's actors did not start")
            self.handles.ray_error = f"{type(exc).__name__}: {exc}"
            if self.handles.state == "starting":
                self.handles.state = "actors_failed"  # health says so; the log says why
        finally:
            self.catch_signals()  # Ray's start replaces them: ours again
        if self.handles.state == "running":  # the rest answer on their own; a stop waits not
            self.up_task = asyncio.get_running_loop().create_task(self._every_actor_up())

    async def _every_actor_up(self) -> None:
        await self.handles.all_up()
        self._write_server_json()  # with each actor's first answer (bench/catalogue.py reads it)
        log.warning("store %s: every actor up", self.config.store_id)

    async def started(self, timeout: float = 300.0) -> None:
        """Wait until the actors are up too (the demo seeds through them)."""
        assert self.actors_task is not None, "start() first"
        await asyncio.wait_for(asyncio.shield(self.actors_task), timeout)
        if self.handles.state != "running":
            raise Unavailable(Lifecycle.STARTING, self.handles.ray_error or "actors not up")

    def catch_signals(self) -> None:
        """SIGTERM and SIGINT ask ``run`` to stop (installed again after Ray's start)."""
        if self.stop_requested is None:
            self.stop_requested = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.stop_requested.set)

    @web.middleware
    async def _lifecycle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.handles.state == "stopping" and request.path != "/v1/health":
            raise Unavailable(Lifecycle.STOPPING, "the store server is stopping; send it again")
        return await handler(request)

    async def stop(self) -> None:
        """Tell the tills (state "stopping"), close the journal, stop the gateway and Ray."""
        handles = getattr(self, "handles", None)
        if handles is not None:
            handles.state = "stopping"
            await handles.ledger_shell.close()
            puller = getattr(handles, "catalogue_sync", None)
            if puller is not None and puller.task is not None:
                puller.task.cancel()
            for name in ("members_sync", "coupons_sync"):  # actors.members/coupons_sync
                loop = getattr(handles, name, None)
                if loop is not None and loop.task is not None:
                    loop.task.cancel()
        if self.up_task is not None:
            self.up_task.cancel()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.actors_task is not None and not self.actors_task.done():
            # Ray is still starting in its thread: let it finish, then shut it down
            await asyncio.wait([self.actors_task], timeout=60.0)
        from actors.ray_boot import stop_ray

        stop_ray()

    async def run(self, ready_msg: bool = True, take_over: bool = False) -> None:
        """Serve until SIGTERM or SIGINT (or a hand-over to a new version), then stop cleanly.
        ``take_over``: start in place of the server running on this folder (actors.handover)."""
        self.catch_signals()
        assert self.stop_requested is not None
        if take_over:
            from actors.handover import take_over as take

            await take(self)
        else:
            await self.start()
        from actors.backup import start_schedule as start_backups  # imported once selling

        start_backups(self)  # scheduled backups, off the selling path (actors.backup_schedule)
        if ready_msg:
            print(f"kassa store {self.config.store_id} ready on {self.url}", flush=True)
        await self.stop_requested.wait()
        log.warning("store %s stopping", self.config.store_id)
        await self.stop()


def _tls_named(data_dir: Path) -> bool:
    """Whether ``store.json`` names TLS files (what ``actors.tls.files`` reads; that module's
    X.509 imports are ~60 ms of a restart, for nothing when TLS is off)."""
    try:
        return isinstance(orjson.loads((data_dir / "store.json").read_bytes()).get("tls"), dict)
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: let actors.tls decide (and say why)


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
    run_loop(StoreServer(data_dir, host, port).run(take_over=take_over))
    return 0
