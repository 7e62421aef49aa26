"""A till's shell (``till_placement`` "actor"): the ``Till`` core, one command at a time, served
on its own owner-only socket; its open baskets are loaded at the first call, its catalogue through
``SharedCatalogue`` as in the gateway placement."""

from __future__ import annotations

import asyncio
from typing import Any

from actors.client import CatalogueClient, LedgerClient, ledger_channel
from actors.ray_boot import unwrap
from actors.shared_catalogue import SharedCatalogue
from actors.till import TILL_METHODS, Till, Who, execute
from actors.wire import RpcServer, socket_name
from domain.store import StoreConfig

__all__ = ["TillActor"]


class TillActor:
    def __init__(self, till_id: str, config: dict, data_dir: str) -> None:
        self.till_id = till_id
        self.config = StoreConfig.from_dict(config)
        self.ledger = LedgerClient.named("ledger")
        self.catalogue = CatalogueClient.named("catalogue")
        self.shared = SharedCatalogue(self.catalogue)  # the one catalogue-update path
        self.core: Till | None = None
        self.lock = asyncio.Lock()
        self.ledger_rpc = ledger_channel(data_dir, self.ledger)
        self.rpc = RpcServer(socket_name(data_dir, f"till-{till_id}"), self._rpc, TILL_METHODS)

    async def serve(self) -> str:
        await self._ready()
        await self.rpc.start()
        return self.rpc.name

    async def _rpc(self, method: str, payload: Any) -> Any:
        if method == "do":
            return await self.do(*payload)
        if method == "view":
            return await self.view()
        raise ValueError(f"unknown method {method}")

    async def _ready(self) -> Till:
        index = await self.shared.index()
        if self.core is None:
            core = Till(self.till_id, self.config, index)
            floor, envs = await self.ledger.till_state(self.till_id)
            core.rebuild(envs, floor)
            self.core = core
            await self.catalogue.register_till(f"till:{self.till_id}")
        self.core.catalogue = index
        return self.core

    async def reload_catalogue(self) -> None:
        """Told by the catalogue actor after an update: loaded before the next command."""
        self.shared.changed()

    async def view(self) -> dict:
        return (await self._ready()).view()

    async def do(self, cid: str, op: str, args: dict, who: Who) -> dict:
        core = await self._ready()
        async with self.lock:
            return await execute(core, self.ledger_rpc.call, cid, op, args, who)

    async def do_many(self, cmds: list[tuple[str, str, dict, Who]]) -> list:
        out: list[Any] = []
        for cid, op, args, who in cmds:
            try:
                out.append(await self.do(cid, op, args, who))
            except Exception as exc:
                out.append(unwrap(exc))
        return out
