"""The store's catalogue: products kept in ``catalogue.json`` in the data folder, with a version.

A plain class; ``actors.remote`` makes it an actor. The file is written atomically (write, fsync,
rename) so a crash leaves either the old or the new catalogue, never half of one. Products are
saved as compact rows (``domain.catalogue_rows``) with the rules they were checked under, so a
start reads 300,000 products without checking each again. A till host gets the catalogue from
``changes``: the products changed since the version it holds, or all of them in a few blobs of
JSON (not one Python object per product over Ray).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from actors.catalogue_file import (
    CatalogueDelta,
    Delta,
    index_diff,
    load_index,
    paused_gc,
    products_of_chunks,
    saved_version,
)
from actors.files import atomic_write
from domain import catalogue_reprice as rp
from domain.catalogue import CatalogueIndex, Product, check_product, decode_scan, product_against
from domain.catalogue_rows import RULES, product_row
from domain.errors import InvalidInput, KassaError
from domain.events import CatalogueUpdated
from domain.store import StoreConfig

__all__ = [
    "Catalogue",
    "CatalogueDelta",
    "load_index",
    "paused_gc",
    "products_of_chunks",
    "DELTA_MAX",
    "CHUNK",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ROW_ERRORS = 100  # a refused import names at most this many bad rows
CHUNK = 5000  # products per blob sent to a till host (each decoded in a few milliseconds)
DELTA_MAX = 20_000  # more changed products than this: a till host loads the whole catalogue
ROWS_STEP = 1000  # rows made between two pauses of the background build (``_saved_rows``)
START_WARM_S = 5.0  # the search index is built this long after a start (or at the first search)


Saved = CatalogueDelta | tuple[CatalogueIndex, Delta | None]


class Catalogue:
    def __init__(self, data_dir: Path | str, config: StoreConfig, lazy: bool = False) -> None:
        """``lazy``: the saved products are read in a thread; the version answers at once (from
        the file's head) and whatever needs the products waits for them (the catalogue actor at
        a start: the tills sell from the gateway's own copy meanwhile)."""
        self.path = Path(data_dir) / "catalogue.json"
        self.config = config
        self._index = CatalogueIndex()
        self._head: str | None = saved_version(self.path) if lazy else None
        self._loading: threading.Thread | None = None
        self._pending: tuple[str, bytes] | None = None  # (version, products JSON) to commit
        self._chunks: tuple[str, list[bytes]] | None = None  # the whole catalogue for hosts
        self._delta: Delta | None = None
        self._rows: tuple[str, dict[str, bytes]] | None = None  # catalogue.json's rows, version
        self._rows_lock = threading.RLock()
        self._gen = 0  # odd while an update is put into the index (``swap``)
        if self._head is None:
            self._load()
        else:
            self._loading = threading.Thread(target=self._load, name="catalogue-load", daemon=True)
            self._loading.start()

    def _load(self) -> None:
        loaded = load_index(self.path)
        if loaded is not None:
            self._index = loaded
            # read lazily, off the start's path: the search index and the saved rows right away
            # (a delta soon after a start would otherwise wait for the rows)
            self._warm(0.0 if self._head is not None else START_WARM_S)

    @property
    def index(self) -> CatalogueIndex:
        """The products held (waiting for a lazy start's read of them)."""
        loading = self._loading
        if loading is not None:
            loading.join()
            self._loading = None
        return self._index

    @index.setter
    def index(self, index: CatalogueIndex) -> None:
        self._index = index

    def _warm(self, after_s: float = 0.0) -> None:
        """Build the search index off the serving path (a search meanwhile waits for it), and
        the file's rows for the next small update; at a start, once the selling path is up (the
        store's other actors start meanwhile)."""
        if len(self._index) > 1000:

            def warm() -> None:
                self.index.prepare_search()
                self._saved_rows(gentle=True)

            t = threading.Timer(after_s, warm)
            t.daemon = True
            t.name = "catalogue-search"
            t.start()

    @property
    def version(self) -> str:
        if self._loading is not None and self._head is not None:
            return self._head  # still reading the products the file's head names
        return self.index.version

    def snapshot(self) -> tuple[str, list[Product]]:
        return self.index.version, list(self.index.by_sku.values())

    def rows(self, skus: Sequence[str] | None = None) -> tuple[str, bytes]:
        """The version and the products of ``skus`` this catalogue holds (None: all), as one
        JSON blob of ``Product.to_dict`` rows: what HQ's catalogue is merged with."""

        def read(index: CatalogueIndex) -> tuple[str, list[Product]]:
            by_sku = index.by_sku
            if skus is None:
                return index.version, list(by_sku.values())
            return index.version, [p for p in map(by_sku.get, skus) if p is not None]

        version, items = self._steady(read)
        with paused_gc():
            return version, orjson.dumps([p.to_dict() for p in items])

    def price_split(
        self, hq: dict[str, dict[str, Any]], pairs: Sequence[Sequence[Any]] = ()
    ) -> tuple[str, bytes | None, bytes]:
        """HQ's new rows (by SKU) against the products held: the version, the ``[sku, price]``
        pairs of those whose price alone changes (HQ's ``pairs`` first; None if one is refused)
        and the ``Product.to_dict`` rows of the other products held, as JSON."""

        def split(index: CatalogueIndex) -> tuple[str, list[tuple[str, int]] | None, list[Product]]:
            limits, rate_of = self.config.limits, self.config.rate_of
            given = rp.hq_prices(index.by_sku, pairs, limits, rate_of)
            prices, rest = rp.price_split(index.by_sku, hq, limits, rate_of)
            return index.version, None if given is None else given + prices, rest

        with paused_gc():
            version, prices, rest = self._steady(split)
            got = None if prices is None else orjson.dumps(prices)
            return version, got, orjson.dumps([p.to_dict() for p in rest])

    def changes(self, have: str) -> tuple[str, str, list[bytes], list[str]]:
        """What a till host holding ``have`` needs: ``("same", v, [], [])``, ``("delta", v,
        [changed rows], removed SKUs)`` from the version before the last commit (``("prices", v,
        [rows, [sku, price] pairs], removed)``: HQ repriced), or ``("full", v, blobs, [])``."""
        index = self.index
        if have == index.version:
            return "same", index.version, [], []
        delta = self._delta
        if delta is not None and delta[0] == have and delta[1] == index.version:
            priced = delta[4]
            rows = [product_row(p) for p in delta[2] if p.sku not in priced]
            if len(rows) + len(delta[3]) <= DELTA_MAX and not priced:
                return "delta", delta[1], [orjson.dumps(rows)], delta[3]
            if len(rows) + len(delta[3]) <= DELTA_MAX:  # HQ repricing: prices
                pairs = [(p.sku, p.price) for p in delta[2] if p.sku in priced]
                return "prices", delta[1], [orjson.dumps(rows), orjson.dumps(pairs)], delta[3]
        chunks = self._chunks
        if chunks is None or chunks[0] != index.version:
            version, items = self._steady(lambda i: (i.version, list(i.by_sku.values())))
            blobs = [
                orjson.dumps(list(map(product_row, items[i : i + CHUNK])))
                for i in range(0, len(items), CHUNK)
            ]
            chunks = self._chunks = (version, blobs)
        return "full", chunks[0], chunks[1], []

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
        prices: Sequence[Sequence[Any]] = (),
    ) -> tuple[list[Product] | CatalogueDelta, CatalogueUpdated]:
        """Validate products and describe the change (the caller journals it, then ``commit``):
        ``products`` added or replacing those of their SKUs, the SKUs in ``remove`` taken out
        (``replace_all``: the catalogue becomes ``products``). What ``commit`` takes back: a
        ``CatalogueDelta`` for an update of at most ``DELTA_MAX`` products (not ``replace_all``),
        else the whole catalogue's products.
        Any bad row refuses the whole import, naming every bad row (up to ``MAX_ROW_ERRORS``) with
        its code: a price above the store's ``limits`` is ``amount.too_large``.
        ``prices``: ``[sku, price]`` of held products whose price alone changes (``price_split``
        found them, on this version): they come first, as HQ's rows would; the update is then
        put into the index and the saved rows in place whatever its size, ending as it would."""
        held, limits, rate_of = self.index.by_sku, self.config.limits, self.config.rate_of
        bad: list[dict] = []
        with paused_gc():  # 300,000 products made: no collection meanwhile
            parsed: list[Product] = rp.repriced_products(held, prices, limits, rate_of)
            at = len(parsed)  # the rows' numbers follow the repriced products
            for i, d in enumerate(products):
                try:
                    p = check_product(product_against(d, held), limits)
                    rate_of(p.tax_class)
                except KassaError as exc:
                    bad.append({"row": at + i + 1, "code": exc.code, "message": exc.message})
                except (KeyError, TypeError, ValueError, OverflowError) as exc:
                    msg = str(exc)[:200]
                    bad.append({"row": at + i + 1, "code": "product.bad_row", "message": msg})
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
            priced = frozenset(str(pair[0]) for pair in prices)
            if not replace_all and len(parsed) + len(remove) <= DELTA_MAX:
                return self._in_place(parsed, remove, source, priced)
            if not replace_all and priced:
                return self._in_place(parsed, remove, source, priced, large=True)
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

    def _in_place(
        self,
        parsed: list[Product],
        remove: Sequence[str],
        source: str,
        priced: frozenset[str] = frozenset(),
        large: bool = False,
    ) -> tuple[CatalogueDelta, CatalogueUpdated]:
        """An update put into the index and the saved rows in place: the products that really
        change and the SKUs that go (not 300,000 products for 1,000 prices). A small one's
        version follows from the version before and the change; a ``large`` one (HQ repricing
        every product) remakes the saved rows of the products that change, and its version is
        the hash of the whole file's products, as when the catalogue is written whole."""
        held = self.index.by_sku
        last = {p.sku: p for p in parsed}  # a SKU named twice: the later row
        changed = [p for p in last.values() if held.get(p.sku) is not p]
        gone = [s for s in dict.fromkeys(remove) if s in held and s not in last]
        version, rows = self.index.version, None
        dumps, opt = orjson.dumps, orjson.OPT_SORT_KEYS
        added = [p.sku for p in changed if p.sku not in held]
        only = frozenset(p.sku for p in changed if p.sku in priced and p.sku in held)
        if large:
            with self._rows_lock:
                rows = dict(self._saved_rows(version))
            for sku in gone:
                rows.pop(sku, None)
            at = b'"price":'
            for p in changed:  # a new price alone: the price in the saved row changed
                sku = p.sku
                if sku in only:  # ``row_repriced``, written out: 300,000 rows
                    row = rows[sku]
                    i = row.rindex(at) + 8
                    rows[sku] = row[:i] + str(p.price).encode() + row[row.index(b",", i) :]
                else:
                    rows[sku] = dumps(product_row(p), option=opt)
            body = b"[" + b",".join(rows.values()) + b"]"
            version = hashlib.sha256(body).hexdigest()[:16]
            self._pending = (version, body)
        elif changed or gone:
            made = dumps(list(map(product_row, changed)), option=opt)
            seed = b"\n".join([version.encode(), made, dumps(gone)])
            version = hashlib.sha256(seed).hexdigest()[:16]
        ev = CatalogueUpdated(
            version=version,
            count=len(held) + len(added) - len(gone),
            source=source[:100],
            skus=tuple(p.sku for p in parsed[:1000]),
        )
        return CatalogueDelta(self.index.version, version, changed, gone, only, rows), ev

    def commit(self, products: list[Product] | CatalogueDelta, version: str) -> None:
        """Save the update ``prepare_update`` described, then hold it (``save`` + ``swap``)."""
        self.swap(self.save(products, version))

    def save(self, products: list[Product] | CatalogueDelta, version: str) -> Saved:
        """Write the catalogue file of the update (off the loop that answers look-ups): a small
        one changes the rows it names in the held rows; a large one makes a new index."""
        pending, self._pending = self._pending, None
        head = orjson.dumps({"version": version, "rules": RULES})[:-1]
        with paused_gc():
            if isinstance(products, CatalogueDelta) and products.rows is not None:
                assert pending is not None and pending[0] == version
                d, index = products, rp.index_copy(self.index)  # HQ repricing: a copy changed
                put = threading.Thread(  # while the file is written (the write frees the GIL)
                    target=rp.index_put, args=(index, d.changed, d.removed, d.new, d.priced)
                )
                put.start()
                try:
                    with self._rows_lock:
                        atomic_write(self.path, head + b',"products":' + pending[1] + b"}")
                        self._rows = (products.new, products.rows)
                finally:
                    put.join()
                return index, (d.old, d.new, d.changed, d.removed, d.priced)
            if isinstance(products, CatalogueDelta):
                with self._rows_lock:
                    rows = self._saved_rows(products.old)
                    try:
                        for sku in products.removed:
                            rows.pop(sku, None)
                        for p in products.changed:
                            rows[p.sku] = orjson.dumps(product_row(p), option=orjson.OPT_SORT_KEYS)
                        self._rows = (products.new, rows)
                        body = b"[" + b",".join(rows.values()) + b"]"
                        atomic_write(self.path, head + b',"products":' + body + b"}")
                    except BaseException:
                        self._rows = None  # no longer the file's: made again next time
                        raise
                return products
            if pending is not None and pending[0] == version:
                body = pending[1]
            else:
                body = orjson.dumps(list(map(product_row, products)), option=orjson.OPT_SORT_KEYS)
            atomic_write(self.path, head + b',"products":' + body + b"}")
            index = CatalogueIndex(products, version)
            return index, index_diff(self.index, index, DELTA_MAX)

    def swap(self, saved: Saved) -> None:
        """Hold a saved update (on the loop that answers look-ups: a small update is put into
        the index in place, in milliseconds; the search index stays for a change of prices)."""
        self._gen += 1  # odd: changing (``_steady`` readers in other threads read again)
        try:
            if isinstance(saved, CatalogueDelta):
                rp.index_put(self.index, saved.changed, saved.removed, saved.new, saved.priced)
                self._delta = (saved.old, saved.new, saved.changed, saved.removed, saved.priced)
            else:
                self.index, self._delta = saved
        finally:
            self._gen += 1
        self._warm()

    def _steady(self, read: Callable[[CatalogueIndex], T]) -> T:
        """``read(index)`` in a worker thread, again if an update was put in meanwhile."""
        while True:
            gen = self._gen
            if gen % 2 == 0:
                out = read(self.index)
                if self._gen == gen:
                    return out
            time.sleep(0.005)

    def _saved_rows(self, version: str | None = None, gentle: bool = False) -> dict[str, bytes]:
        """Each product's row in ``catalogue.json`` by SKU, in catalogue order, of the catalogue
        of ``version`` (None: the one held), made once and then kept in step: a small update
        rewrites the file without serialising every product again. ``gentle``: made in the
        background after a start or a large update, pausing so look-ups and searches go first."""
        with self._rows_lock:
            rows = self._rows
            if rows is not None and rows[0] == (self.version if version is None else version):
                return rows[1]
            dumps, opt = orjson.dumps, orjson.OPT_SORT_KEYS
            with paused_gc():
                held, items = self._steady(lambda i: (i.version, list(i.by_sku.values())))
                made: dict[str, bytes] = {}
                for i in range(0, len(items), ROWS_STEP):
                    made.update(
                        (p.sku, dumps(product_row(p), option=opt)) for p in items[i : i + ROWS_STEP]
                    )
                    if gentle:  # in the background: searches on the actor's loop go first
                        time.sleep(0.002)
            self._rows = (held, made)
            return made
