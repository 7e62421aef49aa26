"""``catalogue.json`` read back: the products of a saved catalogue (the catalogue actor at its
start, the gateway for its tills before Ray is up), its version from the file's head alone, and the
blobs of rows a till host gets (``actors.catalogue.Catalogue.changes``)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from domain.catalogue import CatalogueIndex, Product, product_from_dict
from domain.catalogue_rows import RULES, product_trusted
from domain.errors import KassaError

__all__ = [
    "CatalogueDelta",
    "paused_gc",
    "products_of_chunks",
    "load_index",
    "saved_version",
    "loadable",
    "index_diff",
    "Delta",
]

Delta = tuple[str, str, list[Product], list[str], frozenset[str]]  # old, new, changed, gone, priced


@dataclass(frozen=True, slots=True)
class CatalogueDelta:
    """An update put in place (``Catalogue.prepare_update``): version ``old`` to ``new``."""

    old: str
    new: str
    changed: list[Product]
    removed: list[str]
    priced: frozenset[str] = frozenset()  # of ``changed``: those whose price alone changed
    rows: dict[str, bytes] | None = None  # a large update: the file's rows after it (in order)


log = logging.getLogger(__name__)


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
        trusted = doc.get("rules") == RULES  # written under today's rules: not checked again
        products = list(map(product_trusted, rows)) if trusted else loadable(rows)
        return CatalogueIndex(products, doc.get("version", ""))


def saved_version(path: Path) -> str | None:
    """The version at the head of a saved ``catalogue.json`` (``Catalogue.save`` writes it first),
    read without the products (None: no file, or another layout)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except FileNotFoundError:
        return None
    end = head.find(b',"products":')
    try:
        doc = orjson.loads(head[:end] + b"}") if end > 0 else None
    except orjson.JSONDecodeError:
        return None
    version = doc.get("version") if isinstance(doc, dict) else None
    return version if isinstance(version, str) else None


def loadable(rows: list[dict]) -> list[Product]:
    """The products of a saved catalogue; a row that breaks today's rules (one saved before
    the bounds) is left out with a warning rather than stopping the store."""
    out = []
    for d in rows:
        try:
            out.append(product_from_dict(d))
        except (KassaError, KeyError, TypeError, ValueError, OverflowError) as exc:
            log.warning("catalogue.json: product %r left out: %s", d.get("sku"), exc)
    return out


def index_diff(old: CatalogueIndex, new: CatalogueIndex, most: int) -> Delta | None:
    """The products changed and the SKUs removed from ``old`` to ``new`` (None: more than
    ``most``), for a till host holding ``old`` (``Catalogue.changes``)."""
    if not len(old):
        return None
    before = old.by_sku.get
    changed = []
    for p in new.by_sku.values():
        if before(p.sku) != p:
            changed.append(p)
            if len(changed) > most:
                return None
    removed = [sku for sku in old.by_sku if sku not in new.by_sku]
    if len(changed) + len(removed) > most:
        return None
    return old.version, new.version, changed, removed, frozenset()
