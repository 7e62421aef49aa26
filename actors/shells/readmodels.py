"""Read models that follow the journal's tail (stock levels, member wallets); and ``Follower``,
the loop they (and the analytics copy) share. A read model starts from its newest valid snapshot
(``actors.snapshots``) and writes a new one every ``EVERY_EVENTS`` events or ``EVERY_S`` seconds
(in its own process: the ledger's commits never wait for it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from actors.client import CatalogueClient, LedgerClient
from actors.ledger import Ack, Request
from actors.projections import StockView, WalletView
from actors.snapshots import EVERY_EVENTS, EVERY_S, restore_image, save_image

__all__ = ["Follower", "StockActor", "WalletActor"]

log = logging.getLogger(__name__)


class Follower:
    """Follows the journal's tail in a background task; restarts rebuild from seq 0.

    A follower reads the journal file through its own read-only SQLite connection (WAL lets it
    read while the ledger commits), so the ledger, on the selling path, never serves its reads.
    """

    view: Any
    ledger: Any
    journal_path: str | Path
    source: Any = None
    task: asyncio.Task | None = None
    pace_s: float = 0.0  # at least this long between two batches (batching costly views)
    idle_s: float = 0.05  # how often an idle follower looks for new events

    def _ensure(self) -> None:
        if self.task is None or self.task.done():
            self._hurry = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self._follow())

    def _source(self) -> Any:
        if self.source is None:  # opened late: a new store's journal may not exist yet
            from actors.uploader import JournalFileSource

            self.source = JournalFileSource(self.journal_path)
        return self.source

    async def _follow(self) -> None:
        while True:
            try:
                envs = await self._source().read(self.view.seq, 20000)
                self.view.apply(envs)
                self._applied()
                self._hurry.clear()
                # a report waiting for fresh figures cuts the pause short
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), self.pace_s if envs else self.idle_s)
            except Exception:  # the journal not there yet, or a bad moment: wait and go on
                log.warning("follower could not read the journal; retrying", exc_info=True)
                if self.source is not None:
                    self.source.close()
                    self.source = None
                await asyncio.sleep(0.5)

    def _applied(self) -> None:
        """After a batch was applied (a snapshot, where a view keeps them)."""

    async def caught_up(self, seq: int, timeout: float = 10.0) -> int:
        """Wait until this view has applied everything up to ``seq``."""
        self._ensure()
        if self.view.seq < seq:
            self._hurry.set()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.view.seq < seq and loop.time() < end:
            await asyncio.sleep(0.01)
        return self.view.seq

    async def ping(self) -> int:
        self._ensure()
        return self.view.seq

    async def synced(self) -> None:
        """Answer only once the view holds everything the journal held when the question came:
        a balance looked up right after a top-up shows it, and a restarted read model never
        answers from nothing."""
        self._ensure()
        try:
            seq = await self._source().last_seq()
        except Exception:
            seq = (await self.ledger.status())["seq"]
        await self.caught_up(seq, timeout=120.0)


class _ViewActor(Follower):
    """A read model of the store in ``data_dir`` whose changes are journaled through it."""

    def __init__(self, data_dir: str, view: Any, name: str) -> None:
        self.journal_path = str(Path(data_dir) / "journal.sqlite")
        self.ledger = LedgerClient.named("ledger")
        self.data_dir, self.name = data_dir, name
        try:
            got = restore_image(data_dir, name)
        except Exception:
            log.exception("the %s snapshot could not be read; reading the journal", name)
            got = None
        self.view = view if got is None else type(view).from_image(*got)
        self._snap_seq, self._snap_at = self.view.seq, time.monotonic()
        self.task = None
        self.pace_s = 0.25

    def _applied(self) -> None:
        fresh = self.view.seq - self._snap_seq
        if fresh >= EVERY_EVENTS or (fresh and time.monotonic() - self._snap_at >= EVERY_S):
            try:
                save_image(self.data_dir, self.name, self.view.image(), self.view.hash)
            except Exception:
                log.exception("the %s snapshot could not be written", self.name)
            self._snap_seq, self._snap_at = self.view.seq, time.monotonic()

    async def submit(self, req: Request) -> Ack:
        self._ensure()
        return await self.ledger.submit(req)


class StockActor(_ViewActor):
    def __init__(self, data_dir: str) -> None:
        super().__init__(data_dir, StockView(), "stock")
        self.catalogue = CatalogueClient.named("catalogue")

    async def level(self, sku: str) -> int:
        await self.synced()
        return self.view.book.level(sku)

    async def report(self) -> dict:
        await self.synced()
        _, products = await self.catalogue.snapshot()
        return self.view.report({p.sku: p.low_stock for p in products})


class WalletActor(_ViewActor):
    def __init__(self, data_dir: str) -> None:
        super().__init__(data_dir, WalletView(), "wallet")

    async def member(self, key: str) -> dict:
        await self.synced()
        return self.view.member(key)

    async def search(self, q: str, limit: int) -> dict:
        await self.synced()
        return self.view.search(q, limit)

    async def rows(self) -> list[dict]:
        await self.synced()
        return self.view.rows()
