"""Tills hosted in the gateway's own process (``till_placement`` "gateway")."""

from __future__ import annotations

import asyncio
from typing import Any

from actors.client import LedgerCaller, LedgerClient
from actors.shared_catalogue import CATALOGUE_CHECK_S, SharedCatalogue
from actors.till import Till, execute
from domain.store import StoreConfig

__all__ = ["GatewayTill", "SharedCatalogue", "CATALOGUE_CHECK_S"]


class GatewayTill:
    """A till whose core lives in the gateway's own process (``till_placement`` "gateway").

    The same ``Till`` core and ``execute`` as ``TillActor``, one command at a time per till;
    what goes away is a process hop. On a 2-core store PC the two Unix-socket messages to a till
    actor and back cost more CPU than the till's own work (bench/checkout.py, README). The gateway
    crashing is the store server crashing, after which the till is rebuilt from the journal the
    same way (``Till.rebuild`` from its open baskets' events). The ledger is in this process too
    (``ledger_rpc`` calls it directly), so a sale is one process: HTTP, till, commit.
    """

    def __init__(
        self,
        till_id: str,
        config: StoreConfig,
        catalogue: SharedCatalogue,
        ledger: LedgerClient,
        ledger_rpc: LedgerCaller,
    ) -> None:
        self.till_id = till_id
        self.config = config
        self.catalogue = catalogue
        self.ledger = ledger
        self.ledger_rpc = ledger_rpc
        self.core: Till | None = None
        self.lock = asyncio.Lock()

    async def ready(self) -> Till:
        async with self.lock:
            return await self._core()

    async def _core(self) -> Till:
        index = await self.catalogue.index()
        if self.core is None:
            core = Till(self.till_id, self.config, index)
            floor, envs = await self.ledger.till_state(self.till_id)
            core.rebuild(envs, floor)
            self.core = core
        self.core.catalogue = index
        return self.core

    async def call(self, method: str, payload: Any = None) -> Any:
        async with self.lock:
            core = await self._core()
            if method == "do":
                return await execute(core, self.ledger_rpc.call, *payload)
            if method == "view":
                return core.view()
        raise ValueError(f"unknown method {method}")
