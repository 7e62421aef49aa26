"""The store's catalogue: products kept in ``catalogue.json`` in the data folder, with a version.

A plain class; ``actors.remote`` makes it an actor. The file is written atomically (write, fsync,
rename) so a crash leaves either the old or the new catalogue, never half of one. Products are
saved as compact rows (``domain.catalogue_rows``) with the rules they were checked under, so a
start reads 300,000 products without checking each again. A till host gets the catalogue from
``changes``: the products changed since the version it holds, or all of them in a few blobs of
JSON (not one Python object per product over Ray).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from actors.files import atomic_write
from domain.catalogue import (
    CatalogueIndex,
    Product,
    check_product,
    decode_scan,
    product_against,
    product_from_dict,
)
from domain.catalogue_rows import RULES, product_row, product_trusted
from domain.errors import InvalidInput, KassaError
from domain.events import CatalogueUpdated
from domain.store import StoreConfig

__all__ = ["Catalogue", "load_index", "paused_gc", "products_of_chunks", "DELTA_MAX", "CHUNK"]

log = logging.getLogger(__name__)
MAX_ROW_ERRORS = 100  # a refused import names at most this many bad rows
CHUNK = 5000  # products per blob sent to a till host (each decoded in a few milliseconds)
DELTA_MAX = 20_000  # more changed products than this: a till host loads the whole catalogue
START_WARM_S = 5.0  # the search index is built this long after a start (or at the first search)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cycle collection while hundreds of thousands of objects are made (each pass would walk
    them all); afterwards they are left out of later passes (``gc.freeze``: they hold no
    cycles and are freed by reference counting when replaced)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def products_of_chunks(chunks: list[bytes]) -> list[Product]:
    """The products of ``Catalogue.changes`` blobs (rows this store's catalogue checked)."""
    out: list[Product] = []
    for chunk in chunks:
        out.extend(map(product_trusted, orjson.loads(chunk)))
    return out


def load_index(path: Path) -> CatalogueIndex | None:
    """The products of a saved ``catalogue.json`` as an index (None when there is no file): read
    by the catalogue actor, and by the gateway for its tills before Ray is up."""
    if not path.exists():
        return None
    with paused_gc():
        doc = orjson.loads(path.read_bytes())
        rows = doc["products"]
        if doc.get("rules") == RULES:
            products = list(map(product_trusted, rows))
        else:
            products = Catalogue._loadable(rows)
        return CatalogueIndex(products, doc.get("version", ""))


class Catalogue:
    def __init__(self, data_dir: Path | str, config: StoreConfig) -> None:
        self.path = Path(data_dir) / "catalogue.json"
        self.config = config
        self.index = CatalogueIndex()
        self._pending: tuple[str, bytes] | None = None  # (version, products JSON) to commit
        self._chunks: tuple[str, list[bytes]] | None = None  # the whole catalogue for hosts
        self._delta: tuple[str, str, list[Product], list[str]] | None = None
        loaded = load_index(self.path)
        if loaded is not None:
            self.index = loaded
            self._warm(START_WARM_S)

    def _warm(self, after_s: float = 0.0) -> None:
        """Build the search index off the serving path (a search meanwhile waits for it); at a
        start, once the selling path is up (the store's other actors start meanwhile)."""
        if len(self.index) > 1000:
            t = threading.Timer(after_s, lambda: self.index.prepare_search())
            t.daemon = True
            t.name = "catalogue-search"
            t.start()

    @staticmethod
    def _loadable(rows: list[dict]) -> list[Product]:
        """The products of a saved catalogue; a row that breaks today's rules (one saved before
        the bounds) is left out with a warning rather than stopping the store."""
        out = []
        for d in rows:
            try:
                out.append(product_from_dict(d))
            except (KassaError, KeyError, TypeError, ValueError, OverflowError) as exc:
                log.warning("catalogue.json: product %r left out: %s", d.get("sku"), exc)
        return out

    @property
    def version(self) -> str:
        return self.index.version

    def snapshot(self) -> tuple[str, list[Product]]:
        return self.index.version, list(self.index.by_sku.values())

    def rows(self, skus: Sequence[str] | None = None) -> tuple[str, bytes]:
        """The version and the products of ``skus`` this catalogue holds (None: all), as one
        JSON blob of ``Product.to_dict`` rows: what HQ's catalogue is merged with."""
        by_sku = self.index.by_sku
        if skus is None:
            items: Iterable[Product] = list(by_sku.values())
        else:
            items = [p for p in map(by_sku.get, skus) if p is not None]
        with paused_gc():
            return self.index.version, orjson.dumps([p.to_dict() for p in items])

    def changes(self, have: str) -> tuple[str, str, list[bytes], list[str]]:
        """What a till host holding version ``have`` needs to hold this one: ``("same", v, [],
        [])``, ``("delta", v, [changed rows], removed SKUs)`` from the version before the last
        commit, or ``("full", v, blobs of rows, [])``."""
        index = self.index
        if have == index.version:
            return "same", index.version, [], []
        delta = self._delta
        if delta is not None and delta[0] == have and delta[1] == index.version:
            return (
                "delta",
                index.version,
                [orjson.dumps(list(map(product_row, delta[2])))],
                delta[3],
            )
        chunks = self._chunks
        if chunks is None or chunks[0] != index.version:
            items = list(index.by_sku.values())
            blobs = [
                orjson.dumps(list(map(product_row, items[i : i + CHUNK])))
                for i in range(0, len(items), CHUNK)
            ]
            chunks = self._chunks = (index.version, blobs)
        return "full", index.version, chunks[1], []

    def lookup(self, code: str) -> dict[str, Any]:
        return self.index.resolve(decode_scan(code, self.config.embedded)).to_dict()

    def search(self, query: str, limit: int = 50, sellable_only: bool = False) -> list[dict]:
        if not isinstance(query, str) or len(query) > 100:
            raise InvalidInput("search.bad_query", "search for 1–100 characters")
        return [
            p.to_dict() for p in self.index.search(query, max(1, min(limit, 200)), sellable_only)
        ]

    def grid(self, category: str = "") -> dict[str, Any]:
        if not isinstance(category, str) or len(category) > 100:
            raise InvalidInput("input.bad_field", "category is at most 100 characters")
        cats, items = self.index.grid(category)
        return {"categories": cats, "products": [p.to_dict() for p in items]}

    def prepare_update(
        self,
        products: list[dict],
        source: str,
        replace_all: bool = False,
        remove: Sequence[str] = (),
    ) -> tuple[list[Product], CatalogueUpdated]:
        """Validate products and describe the change (the caller journals it, then ``commit``):
        ``products`` added or replacing those of their SKUs, the SKUs in ``remove`` taken out
        (``replace_all``: the catalogue becomes ``products``).
        Any bad row refuses the whole import, naming every bad row (up to ``MAX_ROW_ERRORS``) with
        its code: a price above the store's ``limits`` is ``amount.too_large``."""
        parsed: list[Product] = []
        bad: list[dict] = []
        limits, rate_of, held = self.config.limits, self.config.rate_of, self.index.by_sku
        with paused_gc():
            for i, d in enumerate(products):
                try:
                    p = check_product(product_against(d, held), limits)
                    rate_of(p.tax_class)
                except KassaError as exc:
                    bad.append({"row": i + 1, "code": exc.code, "message": exc.message})
                except (KeyError, TypeError, ValueError, OverflowError) as exc:
                    bad.append({"row": i + 1, "code": "product.bad_row", "message": str(exc)[:200]})
                else:
                    parsed.append(p)
            if bad:
                first = bad[0]
                raise InvalidInput(
                    first["code"],
                    f"row {first['row']}: {first['message']}",
                    row=first["row"],
                    rows=bad[:MAX_ROW_ERRORS],
                    bad_rows=len(bad),
                )
            merged = {} if replace_all else dict(self.index.by_sku)
            for sku in remove:
                merged.pop(sku, None)
            for p in parsed:
                merged[p.sku] = p
            body = orjson.dumps(
                list(map(product_row, merged.values())), option=orjson.OPT_SORT_KEYS
            )
        digest = hashlib.sha256(body).hexdigest()[:16]
        self._pending = (digest, body)
        ev = CatalogueUpdated(
            version=digest,
            count=len(merged),
            source=source[:100],
            skus=tuple(p.sku for p in parsed[:1000]),
        )
        return list(merged.values()), ev

    def commit(self, products: list[Product], version: str) -> None:
        pending, self._pending = self._pending, None
        with paused_gc():
            if pending is not None and pending[0] == version:
                body = pending[1]
            else:
                body = orjson.dumps(list(map(product_row, products)), option=orjson.OPT_SORT_KEYS)
            head = orjson.dumps({"version": version, "rules": RULES})[:-1]
            atomic_write(self.path, head + b',"products":' + body + b"}")
            old, index = self.index, CatalogueIndex(products, version)
            self._delta = self._diff(old, index)
        self.index = index
        self._warm()

    @staticmethod
    def _diff(
        old: CatalogueIndex, new: CatalogueIndex
    ) -> tuple[str, str, list[Product], list[str]] | None:
        """The products changed and the SKUs removed from ``old`` to ``new`` (None: too many)."""
        if not len(old):
            return None
        before = old.by_sku.get
        changed = []
        for p in new.by_sku.values():
            if before(p.sku) != p:
                changed.append(p)
                if len(changed) > DELTA_MAX:
                    return None
        removed = [sku for sku in old.by_sku if sku not in new.by_sku]
        if len(changed) + len(removed) > DELTA_MAX:
            return None
        return old.version, new.version, changed, removed
