"""The catalogue's shell: the store's product file (``actors.catalogue.Catalogue``); an update is
journaled through the ledger, then the tills that asked are told to load it."""

from __future__ import annotations

import asyncio

import orjson

from actors.catalogue import Catalogue, paused_gc
from actors.client import LedgerClient, TillClient
from actors.ledger import Request, command_hash
from actors.till import Who
from domain.catalogue_reprice import BAD_PRICE
from domain.errors import InvalidInput
from domain.store import StoreConfig

__all__ = ["CatalogueActor"]


class CatalogueActor:
    def __init__(self, data_dir: str, config: dict) -> None:
        # not lazy (Catalogue(lazy=True)): with the products read in a thread, a 1,000-product
        # delta 20 s after a start took 2.8 s instead of 0.8 s (cause not yet found)
        self.cat = Catalogue(data_dir, StoreConfig.from_dict(config))
        self.ledger = LedgerClient.named("ledger")
        self.tills: set[str] = set()
        self.updating = asyncio.Lock()  # one update at a time (they run in a worker thread)

    async def snapshot(self) -> tuple:
        return self.cat.snapshot()

    async def version(self) -> str:
        return self.cat.version

    async def rows(self, skus: list[str] | None = None) -> tuple[str, bytes]:
        if skus is not None and len(skus) <= 1000:
            return self.cat.rows(skus)
        return await asyncio.to_thread(self.cat.rows, skus)  # 300k rows: off the loop

    async def price_split(self, hq: bytes, pairs: bytes = b"[]") -> tuple[str, bytes | None, bytes]:
        """HQ's new rows (a JSON object by SKU) and HQ's ``[sku, price]`` pairs: the products
        whose price alone changes and the store's rows of the others (``Catalogue.price_split``);
        no update meanwhile."""
        async with self.updating:
            return await asyncio.to_thread(self._price_split, hq, pairs)

    def _price_split(self, blob: bytes, pairs: bytes) -> tuple[str, bytes | None, bytes]:
        with paused_gc():
            hq, given = orjson.loads(blob), orjson.loads(pairs)
        return self.cat.price_split(hq, given)

    async def changes(self, have: str) -> tuple:
        return await asyncio.to_thread(self.cat.changes, have)  # 300k rows: off the loop

    async def lookup(self, code: str) -> dict:
        return self.cat.lookup(code)

    async def search(self, query: str, limit: int = 50, sellable_only: bool = False) -> list:
        return self.cat.search(query, limit, sellable_only)

    async def grid(self, category: str = "") -> dict:
        return self.cat.grid(category)

    async def register_till(self, name: str) -> None:
        self.tills.add(name)

    async def update(
        self,
        cid: str,
        products: list[dict] | bytes,
        source: str,
        who: Who,
        replace_all: bool = False,
        remove: list[str] | None = None,
        prices: bytes | None = None,
        base: str | None = None,
    ) -> dict:
        """``prices`` and ``base``: ``price_split``'s (or HQ's) pairs, made on version ``base``
        (another version, or a pair refused: nothing is done, ``{"moved": True}``)."""
        async with self.updating:
            if base is not None and base != self.cat.version:
                return {"moved": True, "version": self.cat.version}
            pairs = await asyncio.to_thread(orjson.loads, prices) if prices else []
            try:
                return await self._update(
                    cid, products, source, who, replace_all, remove or [], pairs
                )
            except InvalidInput as exc:
                if exc.code == BAD_PRICE:  # the sync sends them the long way
                    return {"moved": True, "version": self.cat.version}
                raise

    async def _update(
        self,
        cid: str,
        products: list[dict] | bytes,
        source: str,
        who: Who,
        replace_all: bool,
        remove: list[str],
        prices: list[list],
    ) -> dict:
        if isinstance(products, bytes):  # a large update comes as one JSON blob (CatalogueClient)
            products = await asyncio.to_thread(orjson.loads, products)
            assert isinstance(products, list)
        # checking and indexing 300,000 products takes seconds: off the loop answering look-ups
        merged, ev = await asyncio.to_thread(
            self.cat.prepare_update, products, source, replace_all, remove, prices
        )
        req = Request(
            id=cid,
            cmd=command_hash("catalogue.update", {"v": ev.version}),
            body=ev,
            staff=who.staff,
            ip=who.ip,
        )
        ack = await self.ledger.submit(req)
        if not ack.duplicate:  # written off the loop, then put into the index on it
            self.cat.swap(await asyncio.to_thread(self.cat.save, merged, ev.version))
        # every till actor has marked its copy stale before the answer: a scan right after an
        # import sees the new catalogue (a till that does not answer in time checks the version
        # itself within CATALOGUE_CHECK_S)
        told = []
        for name in list(self.tills):
            try:
                told.append(TillClient.named(name).reload_catalogue())
            except ValueError:
                self.tills.discard(name)
        if told:
            done, _ = await asyncio.wait([asyncio.ensure_future(t) for t in told], timeout=5.0)
            for t in done:
                t.exception()  # a till actor gone meanwhile: restarted, it loads the catalogue
        return {"version": self.cat.version, "count": len(self.cat.index), "seq": ack.seq}
