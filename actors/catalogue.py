"""The store's catalogue: products kept in ``catalogue.json`` in the data folder, with a version.

A plain class; ``actors.remote`` makes it an actor. The file is written atomically (write, fsync,
rename) so a crash leaves either the old or the new catalogue, never half of one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import orjson

from actors.files import atomic_write
from domain.catalogue import CatalogueIndex, Product, check_product, decode_scan, product_from_dict
from domain.errors import InvalidInput, KassaError
from domain.events import CatalogueUpdated
from domain.store import StoreConfig

__all__ = ["Catalogue"]

log = logging.getLogger(__name__)
MAX_ROW_ERRORS = 100  # a refused import names at most this many bad rows


class Catalogue:
    def __init__(self, data_dir: Path | str, config: StoreConfig) -> None:
        self.path = Path(data_dir) / "catalogue.json"
        self.config = config
        self.index = CatalogueIndex()
        if self.path.exists():
            doc = orjson.loads(self.path.read_bytes())
            self.index = CatalogueIndex(self._loadable(doc["products"]), doc.get("version", ""))

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
        self, products: list[dict], source: str, replace_all: bool = False
    ) -> tuple[list[Product], CatalogueUpdated]:
        """Validate products and describe the change (the caller journals it, then ``commit``).
        Any bad row refuses the whole import, naming every bad row (up to ``MAX_ROW_ERRORS``) with
        its code: a price above the store's ``limits`` is ``amount.too_large``."""
        parsed: list[Product] = []
        bad: list[dict] = []
        for i, d in enumerate(products):
            try:
                p = check_product(product_from_dict(d), self.config.limits)
                self.config.rate_of(p.tax_class)
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
        for p in parsed:
            merged[p.sku] = p
        digest = hashlib.sha256(
            orjson.dumps(sorted(p.to_dict()["sku"] + str(p.to_dict()) for p in merged.values()))
        ).hexdigest()[:16]
        ev = CatalogueUpdated(
            version=digest,
            count=len(merged),
            source=source[:100],
            skus=tuple(p.sku for p in parsed[:1000]),
        )
        return list(merged.values()), ev

    def commit(self, products: list[Product], version: str) -> None:
        doc = {"version": version, "products": [p.to_dict() for p in products]}
        atomic_write(self.path, orjson.dumps(doc))
        self.index = CatalogueIndex(products, version)
