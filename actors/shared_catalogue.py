"""The catalogue a till host keeps in memory, and when it loads a new one (both placements)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from actors.catalogue import load_index, paused_gc, products_of_chunks
from actors.client import CatalogueClient
from domain.catalogue import CatalogueIndex, Product
from domain.catalogue_cache import CatalogueCache
from domain.catalogue_reprice import index_copy, index_put, put_prices

__all__ = ["SharedCatalogue", "CATALOGUE_CHECK_S"]

CATALOGUE_CHECK_S = 30.0


def _build(chunks: list[bytes], version: str) -> CatalogueIndex:
    with paused_gc():
        return CatalogueIndex(products_of_chunks(chunks), version)


class SharedCatalogue:
    """The catalogue as a till host's tills see it (one copy per host: the gateway for its tills,
    each till actor for itself). The one way a till gets a new catalogue, in either placement: an
    update marks it stale (``changed()``: the gateway after an update made through it, the
    catalogue actor for the till actors it knows) and it is loaded before the next command; a
    version check at most every ``CATALOGUE_CHECK_S`` catches an update the host was not told of.

    Loading asks the catalogue for its changes since the version held: after an update of a few
    thousand products that is those products, put into the index held (milliseconds); after HQ
    repriced many, their new prices, put into a copy of the index in a worker thread; otherwise
    the whole catalogue in a few blobs of JSON rows, indexed in a worker thread.

    The gateway's copy starts without the catalogue actor (``catalogue`` None): ``load_file``
    reads ``catalogue.json`` in this process before Ray is up, and ``attach`` joins the actor once
    it is; from then on it is kept in step as above (the first check right away)."""

    def __init__(self, catalogue: CatalogueClient | None) -> None:
        self.catalogue = catalogue
        self.cache: CatalogueCache[CatalogueIndex] = CatalogueCache(CATALOGUE_CHECK_S)
        self.lock: asyncio.Lock | None = None

    def load_file(self, data_dir: Path) -> None:
        """Hold the catalogue saved in ``data_dir`` (an empty one if there is none yet)."""
        index = load_index(Path(data_dir) / "catalogue.json") or CatalogueIndex()
        self.cache.loaded(index, index.version, time.monotonic())

    def attach(self, catalogue: CatalogueClient) -> None:
        """The catalogue actor is up: ask it for its version before the next command."""
        self.catalogue = catalogue
        self.cache.checked = float("-inf")

    async def index(self) -> CatalogueIndex:
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            cache = self.cache
            now = time.monotonic()
            if self.catalogue is None:  # Ray not up yet: the copy read from catalogue.json
                assert cache.index is not None, "load_file first"
                return cache.index
            if cache.version_check_due(now):
                cache.saw_version(await self.catalogue.version(), now)
            if cache.must_load():
                held = cache.index
                kind, version, chunks, removed = await self.catalogue.changes(
                    cache.version if held is not None else ""
                )
                if kind == "full" or held is None:
                    # indexing a large catalogue takes a while: off the loop that serves the tills
                    held = await asyncio.get_running_loop().run_in_executor(
                        None, _build, chunks, version
                    )
                elif kind == "delta":
                    self._apply(held, products_of_chunks(chunks), removed, version)
                elif kind == "prices":  # HQ repricing: new prices, not rows (``put_prices``)
                    held = await asyncio.to_thread(self._reprice, held, chunks, removed, version)
                return cache.loaded(held, version, now)
            assert cache.index is not None
            return cache.index

    @staticmethod
    def _apply(
        index: CatalogueIndex, changed: list[Product], removed: list[str], version: str
    ) -> None:
        index_put(index, changed, removed, version)

    @classmethod
    def _reprice(
        cls, index: CatalogueIndex, chunks: list[bytes], removed: list[str], version: str
    ) -> CatalogueIndex:
        """A copy of ``index`` with the changed rows and the ``[sku, price]`` pairs put in (in
        a worker thread: 300,000 prices; the tills sell from ``index`` meanwhile)."""
        with paused_gc():
            new = index_copy(index)
            cls._apply(new, products_of_chunks(chunks[:1]), removed, "")
            put_prices(new, orjson.loads(chunks[1]))
        new.version = version
        return new

    def changed(self) -> None:
        """A catalogue update committed: the tills here load it before their next command."""
        self.cache.changed()
