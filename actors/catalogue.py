"""The store's catalogue: products kept in ``catalogue.json`` in the data folder, with a version.

A plain class; ``actors.remote`` makes it an actor. The file is written atomically (write, fsync,
rename) so a crash leaves either the old or the new catalogue, never half of one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from actors.files import atomic_write
from domain.catalogue import CatalogueIndex, Product, decode_scan, product_from_dict
from domain.errors import InvalidInput
from domain.events import CatalogueUpdated
from domain.store import StoreConfig

__all__ = ["Catalogue"]


class Catalogue:
    def __init__(self, data_dir: Path | str, config: StoreConfig) -> None:
        self.path = Path(data_dir) / "catalogue.json"
        self.config = config
        self.index = CatalogueIndex()
        if self.path.exists():
            doc = orjson.loads(self.path.read_bytes())
            self.index = CatalogueIndex([product_from_dict(p) for p in doc["products"]],
                                        doc.get("version", ""))

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
        return [p.to_dict() for p in self.index.search(query, max(1, min(limit, 200)),
                                                        sellable_only)]

    def prepare_update(self, products: list[dict], source: str,
                       replace_all: bool = False) -> tuple[list[Product], CatalogueUpdated]:
        """Validate products and describe the change (the caller journals it, then ``commit``)."""
        parsed: list[Product] = []
        for i, d in enumerate(products):
            try:
                p = product_from_dict(d)
                self.config.rate_of(p.tax_class)
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidInput("product.bad_row", f"row {i + 1}: {exc}", row=i + 1) from exc
            parsed.append(p)
        merged = {} if replace_all else dict(self.index.by_sku)
        for p in parsed:
            merged[p.sku] = p
        digest = hashlib.sha256(orjson.dumps(sorted(p.to_dict()["sku"] + str(p.to_dict())
                                                    for p in merged.values()))).hexdigest()[:16]
        ev = CatalogueUpdated(version=digest, count=len(merged), source=source[:100],
                              skus=tuple(p.sku for p in parsed[:1000]))
        return list(merged.values()), ev

    def commit(self, products: list[Product], version: str) -> None:
        doc = {"version": version, "products": [p.to_dict() for p in products]}
        atomic_write(self.path, orjson.dumps(doc))
        self.index = CatalogueIndex(products, version)
