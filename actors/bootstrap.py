"""The composition root: one store's selling path in this process, the other actors on Ray.

The selling path — the ledger (``actors.shells.ledger.LedgerShell``), the tills hosted here
(``till_placement`` "gateway") and the catalogue copy they share — is plain Python in the store
server's own process and is up before Ray: ``Handles(...)`` builds it without importing Ray. Then
``start_actors`` starts Ray in a worker thread and makes the shells of the rest Ray actors (by
name, re-attached if they exist): catalogue, stock, wallet, analytics, uploader, licence, and the
till actors of the "actor" placement; the catalogue sync follows. Until they are up, asking for one
of them raises ``store.starting`` (503: the till sends again).

This and ``actors.client`` are the only modules that call ``.remote()``: here to create the actors,
there to call them. State that matters is in the journal, so when Ray restarts a dead actor
(``max_restarts=-1``) its ``__init__`` rebuilds it from the journal, and a call that was cut off is
retried (``max_task_retries``) safely because every command carries its client-chosen id.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson

from actors.boot_clock import mark
from actors.client import (
    DATA_ENV,
    AnalyticsClient,
    CatalogueClient,
    LedgerClient,
    LicenceClient,
    StockClient,
    TillClient,
    UploaderClient,
    WalletClient,
    till_channel,
)
from actors.files import atomic_write
from actors.gateway_till import GatewayTill
from actors.shared_catalogue import SharedCatalogue
from actors.shells.ledger import LedgerShell, LocalLedger
from actors.wire import RpcClient
from domain.error_codes.fastpath import Lifecycle
from domain.errors import Unavailable
from domain.store import StoreConfig

__all__ = ["Handles", "create_actors", "open_ledger", "RESTART"]

log = logging.getLogger(__name__)
RESTART: dict[str, Any] = dict(max_restarts=-1, max_task_retries=3, num_cpus=0)
RAY_DELAY_ENV = "KASSA_RAY_DELAY_S"  # hold Ray's start back this long (tests, diagnosis)
_ACTORS = ("catalogue", "till", "analytics", "host")  # Ray actor classes (one process each)
_PARTS = ("catalogue", "stock", "wallet", "analytics", "uploader", "licence")  # clients


@functools.cache
def _remote() -> dict[str, Any]:
    """The actor shells as Ray actor classes (Ray imported here, off the selling path's start)."""
    from actors.ray_boot import ray
    from actors.shells.analytics import AnalyticsActor
    from actors.shells.catalogue import CatalogueActor
    from actors.shells.host import HostActor
    from actors.shells.till import TillActor

    classes = (CatalogueActor, TillActor, AnalyticsActor, HostActor)
    return {name: ray.remote(**RESTART)(cls) for name, cls in zip(_ACTORS, classes, strict=True)}


def _named(kind: str, name: str, *args: Any) -> Any:
    """The actor ``name`` of the store: created with ``args``, or the running one."""
    return _remote()[kind].options(name=name, get_if_exists=True).remote(*args)


class _Hosted:
    """A shell hosted by the ``host`` actor (``actors.shells.host``), called like an actor
    handle of its own: ``handle.method.remote(*args)``."""

    __slots__ = ("host", "part")

    def __init__(self, host: Any, part: str) -> None:
        self.host, self.part = host, part

    def __getattr__(self, method: str) -> _HostedMethod:
        return _HostedMethod(self.host, self.part, method)


class _HostedMethod:
    __slots__ = ("host", "part", "method")

    def __init__(self, host: Any, part: str, method: str) -> None:
        self.host, self.part, self.method = host, part, method

    def remote(self, *args: Any) -> Any:
        if self.method == "__ray_ready__":  # up(): the host process answers
            return self.host.__ray_ready__.remote()
        return self.host.call.remote(self.part, self.method, *args)


def open_ledger(data_dir: Path, config: StoreConfig) -> LedgerShell:
    """The store's ledger, its journal replayed and checked (in this process)."""
    return LedgerShell(
        str(Path(data_dir) / "journal.sqlite"), 256, config.limits.to_dict(), config.loyalty
    )


class _Actors:
    """The store's Ray actors as typed clients (created in Ray's start-up thread)."""

    def __init__(self, data: str, config: StoreConfig) -> None:
        from analytics.anomaly_settings import rule_settings

        self.catalogue = CatalogueClient(_named("catalogue", "catalogue", data, config.to_dict()))
        host = _named(
            "host",
            "host",
            {
                "stock": (data,),
                "wallet": (data,),
                "uploader": (data, config.store_id, config.cloud_url),
                "licence": (
                    data,
                    config.store_id,
                    config.cloud_url,
                    float(os.environ.get("KASSA_ACTIVATION_POLL_S", "60")),  # asks HQ this often
                ),
            },
        )
        self.stock = StockClient(_Hosted(host, "stock"))
        self.wallet = WalletClient(_Hosted(host, "wallet"))
        self.analytics = AnalyticsClient(
            _named(
                "analytics",
                "analytics",
                data,
                config.zone,
                config.store_id,
                float(os.environ.get("KASSA_FLAG_EVERY_S", "20")),
                rule_settings(config),  # the store's own thresholds (analytics.anomaly_settings)
            )
        )
        self.uploader = UploaderClient(_Hosted(host, "uploader"))
        self.licence = LicenceClient(_Hosted(host, "licence"))


class Handles:
    """One store's selling path (here from the start) and its Ray actors (once ``start_actors``
    has them up), as typed clients (``actors.client``). ``state`` is "starting" until the actors
    are up, then "running" ("actors_failed" if Ray did not start), and "stopping" once the server
    is asked to stop."""

    def __init__(self, data_dir: Path, config: StoreConfig, ledger: LedgerShell) -> None:
        self.data_dir = Path(data_dir).absolute()  # the same path in every process
        self.config = config
        self.ledger_shell = ledger
        self.ledger_rpc = LocalLedger(ledger)  # the tills here commit without a socket hop
        self.ledger = LedgerClient(self.ledger_rpc)
        self.tills: dict[str, TillClient] = {}
        self.till_rpcs: dict[str, RpcClient | GatewayTill] = {}
        self.known_tills_path = self.data_dir / "tills.json"
        self.in_gateway = config.till_placement == "gateway"
        self.shared_catalogue = SharedCatalogue(None)  # the tills hosted here
        self.shared_catalogue.load_file(self.data_dir)  # catalogue.json, before Ray
        mark("catalogue")
        self.actors: _Actors | None = None
        self.state = "starting"
        self.ray_error = ""

    # ------------------------------------------------------------ the Ray actors
    def _need(self) -> _Actors:
        if self.actors is None:
            raise Unavailable(
                Lifecycle.STARTING, "the store server is starting; try again in a moment"
            )
        return self.actors

    @property
    def catalogue(self) -> CatalogueClient:
        return self._need().catalogue

    @property
    def stock(self) -> StockClient:
        return self._need().stock

    @property
    def wallet(self) -> WalletClient:
        return self._need().wallet

    @property
    def analytics(self) -> AnalyticsClient:
        return self._need().analytics

    @property
    def uploader(self) -> UploaderClient:
        return self._need().uploader

    @property
    def licence(self) -> LicenceClient:
        return self._need().licence

    def _boot_ray(self) -> _Actors | None:
        """In a worker thread: the private Ray node and the actors (None if stopping by then)."""
        from actors.ray_boot import start_ray

        mark("ray_imported")
        os.environ[DATA_ENV] = str(self.data_dir)  # the actors find the ledger's socket by it
        held = time.monotonic() + float(os.environ.get(RAY_DELAY_ENV, "0") or 0)
        while time.monotonic() < held and self.state != "stopping":
            time.sleep(0.05)  # a slow Ray start, on purpose (tests: the tills sell meanwhile)
        start_ray(self.data_dir)
        mark("ray_up")  # ray.init: its daemons up, this process connected
        if self.state == "stopping":
            return None
        actors = _Actors(str(self.data_dir), self.config)
        mark("actors_asked")
        if not self.in_gateway:
            for till_id in self.known_tills():
                self._create_till(till_id)
        return actors

    async def start_actors(self) -> None:
        """Start Ray and the actors in the background of a serving store; "running" once the
        catalogue actor answers (the read models and the rest finish starting on their own)."""
        loop = asyncio.get_running_loop()
        actors = await loop.run_in_executor(None, self._boot_ray)
        if actors is None:
            return
        for follower in (actors.stock, actors.wallet, actors.analytics):
            follower.ping()
        actors.uploader.wake()
        actors.licence.wake()
        await asyncio.gather(actors.catalogue.version(), *(t.serve() for t in self.tills.values()))
        mark("up:catalogue")
        self.actors = actors
        self.shared_catalogue.attach(actors.catalogue)
        from actors.catalogue_sync_loop import start_for

        self.catalogue_sync = start_for(self)  # HQ's catalogue: pulled at start, then every N s
        from actors.members_sync import start_for as start_members

        self.members_sync = start_members(self)  # members chain-wide (HQ's pull, caps, floats)
        from actors.coupons_sync import start_for as start_coupons

        self.coupons_sync = start_coupons(self)  # HQ's coupons (pull, online claims)
        if self.state == "starting":
            self.state = "running"

    async def all_up(self) -> None:
        """Wait until every actor answers (``boot_clock`` marks each one's first answer)."""
        actors = self._need()

        async def up(name: str) -> None:
            await getattr(actors, name).up()
            mark(f"up:{name}")

        await asyncio.gather(*(up(n) for n in _PARTS))
        mark("all_up")

    # ------------------------------------------------------------ the selling path
    def known_tills(self) -> list[str]:
        try:
            return list(orjson.loads(self.known_tills_path.read_bytes()))
        except (FileNotFoundError, ValueError):
            return []

    async def ready(self) -> None:
        """The selling path up: the known tills hosted here with their open baskets rebuilt
        (not at their first scan)."""
        await self.ledger_shell.serve()
        if self.in_gateway:
            await asyncio.gather(*(self._gateway_till(t).ready() for t in self.known_tills()))

    async def extra_status(self) -> dict:
        """Upload backlog and licence state, for the health endpoint and ``kassa store status``."""
        try:
            actors = self._need()
            up, lic = await asyncio.wait_for(
                asyncio.gather(actors.uploader.status(), actors.licence.status()), 3.0
            )
        except (TimeoutError, Unavailable):  # still starting after a restart
            return {
                "upload": {"starting": True},
                "licence": {"ok": None, "code": "licence.starting", "message": "starting"},
            }
        return {
            "upload": up,
            "catalogue": self.catalogue_sync.status() if hasattr(self, "catalogue_sync") else {},
            "licence": {
                k: lic.get(k)
                for k in (
                    "ok",
                    "code",
                    "message",
                    "grace_days_left",
                    "warn",
                    "warn_code",
                    "expires_days_left",
                    "last_ok",
                    "licence_id",
                    "install_id",
                    "activation",
                )
            },
        }

    def _create_till(self, till_id: str) -> TillClient:
        t = TillClient(
            _named("till", f"till:{till_id}", till_id, self.config.to_dict(), str(self.data_dir))
        )
        self.tills[till_id] = t
        return t

    def till(self, till_id: str) -> TillClient:
        t = self.tills.get(till_id)
        if t is None:
            self._need()
            t = self._create_till(till_id)
            self._remember_till(till_id)
        return t

    def till_rpc(self, till_id: str) -> RpcClient | GatewayTill:
        """The till to send commands to: hosted here (``till_placement`` "gateway"), or the fast
        channel to its actor (created, and woken after a restart, through Ray). Both answer
        ``call("do", (cid, op, args, who))`` and ``call("view")``."""
        c = self.till_rpcs.get(till_id)
        if c is None:
            if self.in_gateway:
                c = GatewayTill(
                    till_id, self.config, self.shared_catalogue, self.ledger, self.ledger_rpc
                )
                self._remember_till(till_id)
            else:
                c = till_channel(str(self.data_dir), till_id, self.till(till_id))
            self.till_rpcs[till_id] = c
        return c

    def _gateway_till(self, till_id: str) -> GatewayTill:
        c = self.till_rpc(till_id)
        assert isinstance(c, GatewayTill)
        return c

    def _remember_till(self, till_id: str) -> None:
        known = self.known_tills()
        if till_id not in known:  # started again with the store, before the first sale
            atomic_write(self.known_tills_path, orjson.dumps(sorted(known + [till_id])))

    def catalogue_changed(self) -> None:
        """A catalogue update committed: the tills here load it before their next command."""
        self.shared_catalogue.changed()


def create_actors(data_dir: Path, config: StoreConfig) -> Handles:
    """A store's ledger and selling path in this process (``Handles.start_actors`` adds Ray)."""
    ledger = open_ledger(data_dir, config)
    mark("ledger")  # the journal checked, the snapshot and its tail loaded
    return Handles(data_dir, config, ledger)
