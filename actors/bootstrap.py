"""The composition root: makes the actor shells Ray actors and wires one store's actors.

This and ``actors.client`` are the only modules that call ``.remote()``: here to create the actors
(by name, re-attached if they exist), there to call them. Every shell is plain Python (``actors.
shells``); state that matters is in the journal, so when Ray restarts a dead actor
(``max_restarts=-1``) its ``__init__`` rebuilds it from the journal, and a call that was cut off is
retried (``max_task_retries``) safely because every command carries its client-chosen id.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

from actors.client import (
    AnalyticsClient,
    CatalogueClient,
    LedgerClient,
    LicenceClient,
    StockClient,
    TillClient,
    UploaderClient,
    WalletClient,
    ledger_channel,
    till_channel,
)
from actors.files import atomic_write
from actors.gateway_till import GatewayTill
from actors.ray_boot import ray
from actors.shared_catalogue import SharedCatalogue
from actors.shells.analytics import AnalyticsActor
from actors.shells.catalogue import CatalogueActor
from actors.shells.ledger import LedgerActor
from actors.shells.readmodels import StockActor, WalletActor
from actors.shells.system import LicenceActor, UploaderActor
from actors.shells.till import TillActor
from actors.wire import RpcClient
from analytics.anomaly_settings import rule_settings
from domain.store import StoreConfig

__all__ = ["Handles", "create_actors", "RESTART"]

RESTART: dict[str, Any] = dict(max_restarts=-1, max_task_retries=3, num_cpus=0)
_LEDGER, _CATALOGUE, _TILL, _STOCK, _WALLET, _ANALYTICS, _UPLOADER, _LICENCE = (
    ray.remote(**RESTART)(cls)
    for cls in (
        LedgerActor,
        CatalogueActor,
        TillActor,
        StockActor,
        WalletActor,
        AnalyticsActor,
        UploaderActor,
        LicenceActor,
    )
)


def _named(actor: Any, name: str, *args: Any) -> Any:
    """The actor ``name`` of the store: created with ``args``, or the running one."""
    return actor.options(name=name, get_if_exists=True).remote(*args)


class Handles:
    """One store's actors, created or re-attached by name, as typed clients (``actors.client``)."""

    def __init__(self, data_dir: Path, config: StoreConfig) -> None:
        self.data_dir = Path(data_dir).absolute()  # the same path in every process
        self.config = config
        data = str(self.data_dir)
        # all actors start in parallel: the others look the ledger and catalogue up by name,
        # and their calls wait until those are up
        self.ledger = LedgerClient(
            _named(
                _LEDGER,
                "ledger",
                str(self.data_dir / "journal.sqlite"),
                256,
                config.limits.to_dict(),
            )
        )
        self.catalogue = CatalogueClient(_named(_CATALOGUE, "catalogue", data, config.to_dict()))
        self.tills: dict[str, TillClient] = {}
        self.till_rpcs: dict[str, RpcClient | GatewayTill] = {}
        self.known_tills_path = self.data_dir / "tills.json"
        self.in_gateway = config.till_placement == "gateway"
        self.ledger_rpc = ledger_channel(data, self.ledger)
        self.shared_catalogue = SharedCatalogue(self.catalogue)  # the tills hosted here
        if not self.in_gateway:  # the hot path first: Ray starts workers a few at a time
            for till_id in self.known_tills():
                self.till(till_id)
        self.stock = StockClient(_named(_STOCK, "stock", data))
        self.wallet = WalletClient(_named(_WALLET, "wallet", data))
        self.analytics = AnalyticsClient(
            _named(
                _ANALYTICS,
                "analytics",
                data,
                config.zone,
                config.store_id,
                float(os.environ.get("KASSA_FLAG_EVERY_S", "20")),
                rule_settings(config),  # the store's own thresholds (analytics.anomaly_settings)
            )
        )
        self.uploader = UploaderClient(
            _named(_UPLOADER, "uploader", data, config.store_id, config.cloud_url)
        )
        self.licence = LicenceClient(
            _named(_LICENCE, "licence", data, config.store_id, config.cloud_url)
        )

    def known_tills(self) -> list[str]:
        try:
            return list(orjson.loads(self.known_tills_path.read_bytes()))
        except (FileNotFoundError, ValueError):
            return []

    async def ready(self) -> None:
        """Wait until the selling path is up — ledger, catalogue, the tills with their baskets
        rebuilt — and wake the others, which finish starting in the background."""
        for follower in (self.stock, self.wallet, self.analytics):
            follower.ping()
        self.uploader.wake()
        self.licence.wake()
        await asyncio.gather(
            self.ledger.serve(), self.catalogue.version(), *(t.serve() for t in self.tills.values())
        )
        if self.in_gateway:  # rebuild the known tills' open baskets now, not at the first scan
            await asyncio.gather(*(self._gateway_till(t).ready() for t in self.known_tills()))

    async def extra_status(self) -> dict:
        """Upload backlog and licence state, for the health endpoint and ``kassa store status``."""
        try:
            up, lic = await asyncio.wait_for(
                asyncio.gather(self.uploader.status(), self.licence.status()), 3.0
            )
        except TimeoutError:  # still starting after a restart
            return {
                "upload": {"starting": True},
                "licence": {"ok": None, "code": "licence.starting", "message": "starting"},
            }
        return {
            "upload": up,
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
                )
            },
        }

    def till(self, till_id: str) -> TillClient:
        t = self.tills.get(till_id)
        if t is None:
            t = TillClient(
                _named(_TILL, f"till:{till_id}", till_id, self.config.to_dict(), str(self.data_dir))
            )
            self.tills[till_id] = t
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
    return Handles(data_dir, config)
