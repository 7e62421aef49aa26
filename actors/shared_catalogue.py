"""The catalogue a till host keeps in memory, and when it loads a new one (both placements)."""

from __future__ import annotations

import asyncio
import time

from actors.client import CatalogueClient
from domain.catalogue import CatalogueIndex
from domain.catalogue_cache import CatalogueCache

__all__ = ["SharedCatalogue", "CATALOGUE_CHECK_S"]

CATALOGUE_CHECK_S = 30.0


class SharedCatalogue:
    """The catalogue as a till host's tills see it (one copy per host: the gateway for its tills,
    each till actor for itself). The one way a till gets a new catalogue, in either placement: an
    update marks it stale (``changed()``: the gateway after an update made through it, the
    catalogue actor for the till actors it knows) and it is loaded before the next command; a
    version check at most every ``CATALOGUE_CHECK_S`` catches an update the host was not told of."""

    def __init__(self, catalogue: CatalogueClient) -> None:
        self.catalogue = catalogue
        self.cache: CatalogueCache[CatalogueIndex] = CatalogueCache(CATALOGUE_CHECK_S)
        self.lock: asyncio.Lock | None = None

    async def index(self) -> CatalogueIndex:
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            cache = self.cache
            now = time.monotonic()
            if cache.version_check_due(now):
                cache.saw_version(await self.catalogue.version(), now)
            if cache.index is None:
                version, products = await self.catalogue.snapshot()
                # indexing a large catalogue takes a while: off the loop that serves the tills
                index = await asyncio.get_running_loop().run_in_executor(
                    None, CatalogueIndex, products, version
                )
                return cache.loaded(index, version, now)
            return cache.index

    def changed(self) -> None:
        """A catalogue update committed: the tills here load it before their next command."""
        self.cache.changed()
