"""HQ's side of the store's catalogue on disk: ``<data>/hq_catalogue/hq.sqlite``.

Two tables: ``meta`` (the HQ version the store runs, its base and bundle hash, the scheduled prices
still to come, the store-owned fields, the store catalogue that version made) and ``products``
(HQ's products as of that version, one row per SKU, in HQ's order). An apply writes the products it
changes and the new meta in one transaction, so a crash leaves the old version or the new one; a
delta of 1,000 prices writes 1,000 rows, not 300,000 (``hq.json`` was rewritten whole, 100 MB at
300,000 products). A store that still has ``hq.json`` moves it here once, at the first open.

The connection is opened for each call and closed after it (the file moves with its folder in
``kassa store setup``; readers such as ``kassa store catalogue status`` open it themselves).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from actors.catalogue import paused_gc
from actors.files import FILE_MODE

__all__ = ["HqStore", "EMPTY_META"]

Products = dict[str, dict[str, Any]]
EMPTY_META: dict[str, Any] = {"version": None, "prices": [], "store_fields": []}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, row BLOB NOT NULL);"
)


class HqStore:
    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.path = self.dir / "hq.sqlite"
        self._migrated = False

    def _open(self) -> sqlite3.Connection:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        con = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        con.execute("PRAGMA synchronous=FULL")
        con.executescript(_SCHEMA)
        if not self._migrated:
            self._migrated = True
            self._from_json(con)
        return con

    def _from_json(self, con: sqlite3.Connection) -> None:
        """A store's ``hq.json`` (before ``hq.sqlite``), moved into the tables once."""
        old = self.dir / "hq.json"
        if not old.exists():
            return
        if con.execute("SELECT 1 FROM meta LIMIT 1").fetchone() is None:
            doc = orjson.loads(old.read_bytes())
            if isinstance(doc, dict):
                products = doc.pop("products", None) or {}
                self._save(con, doc, products, (), replace=True)
        old.unlink(missing_ok=True)

    # ------------------------------------------------------------ reading
    def meta(self) -> dict[str, Any] | None:
        """The version and the rest of ``meta`` (None: no HQ version applied yet)."""
        if not self.path.exists() and not (self.dir / "hq.json").exists():
            return None
        con = self._open()
        try:
            rows = con.execute("SELECT k, v FROM meta").fetchall()
        finally:
            con.close()
        return {k: orjson.loads(v) for k, v in rows} if rows else None

    def get(self, skus: Iterable[str]) -> Products:
        """HQ's products of ``skus`` that it sends (in HQ's order)."""
        wanted = orjson.dumps(list(skus))
        con = self._open()
        try:
            cur = con.execute(
                "SELECT sku, row FROM products WHERE sku IN (SELECT value FROM json_each(?))"
                " ORDER BY rowid",
                (wanted,),
            )
            with paused_gc():
                return {sku: orjson.loads(row) for sku, row in cur}
        finally:
            con.close()

    def has(self, skus: Iterable[str]) -> set[str]:
        """The SKUs of ``skus`` HQ sends."""
        wanted = orjson.dumps(list(skus))
        con = self._open()
        try:
            cur = con.execute(
                "SELECT sku FROM products WHERE sku IN (SELECT value FROM json_each(?))",
                (wanted,),
            )
            return {sku for (sku,) in cur}
        finally:
            con.close()

    def all(self) -> Products:
        """Every HQ product, in HQ's order."""
        con = self._open()
        try:
            cur = con.execute("SELECT sku, row FROM products ORDER BY rowid")
            with paused_gc():
                return {sku: orjson.loads(row) for sku, row in cur}
        finally:
            con.close()

    # ------------------------------------------------------------ writing
    def save(
        self,
        meta: dict[str, Any],
        upsert: Products,
        delete: Iterable[str] = (),
        replace: bool = False,
    ) -> None:
        """One transaction: ``meta`` replaced, ``upsert`` written (``replace``: they become all
        of HQ's products), the SKUs of ``delete`` taken out."""
        con = self._open()
        try:
            with paused_gc():
                self._save(con, meta, upsert, delete, replace)
        finally:
            con.close()

    @staticmethod
    def _save(
        con: sqlite3.Connection,
        meta: dict[str, Any],
        upsert: Products,
        delete: Iterable[str],
        replace: bool,
    ) -> None:
        dumps = orjson.dumps
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("DELETE FROM meta")
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)", [(k, dumps(v)) for k, v in meta.items()]
            )
            if replace:
                con.execute("DELETE FROM products")
            else:
                con.executemany("DELETE FROM products WHERE sku = ?", [(s,) for s in delete])
            con.executemany(
                "INSERT INTO products VALUES (?, ?)"
                " ON CONFLICT(sku) DO UPDATE SET row = excluded.row",
                [(sku, dumps(p)) for sku, p in upsert.items()],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
