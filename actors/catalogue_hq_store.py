"""HQ's side of the store's catalogue on disk: ``<data>/hq_catalogue/hq.sqlite``.

Three tables: ``meta`` (the HQ version the store runs, its base and bundle hash, the scheduled
prices still to come, the store-owned fields, the store catalogue that version made), ``products``
(HQ's products as of that version, one row per SKU, in HQ's order) and ``prices`` (HQ's price of a
product when HQ repriced it after its row was written: a reprice of 300,000 products writes
300,000 small rows there, not every product's row again; a product's row written later takes its
price back). An apply writes the products it
changes and the new meta in one transaction, so a crash leaves the old version or the new one; a
delta of 1,000 prices writes 1,000 rows, not 300,000 (``hq.json`` was rewritten whole, 100 MB at
300,000 products). A store that still has ``hq.json`` moves it here once, at the first open.

The connection is opened for each call and closed after it (the file moves with its folder in
``kassa store setup``; readers such as ``kassa store catalogue status`` open it themselves).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from actors.catalogue import paused_gc
from actors.files import FILE_MODE

__all__ = ["HqStore", "EMPTY_META"]

Products = dict[str, dict[str, Any]]
EMPTY_META: dict[str, Any] = {"version": None, "prices": [], "store_fields": []}
FRESH_SHARE = 0.5  # a save writing at least this share of the rows writes a new file
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, row BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS prices (sku TEXT PRIMARY KEY, price INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS prices_next (sku TEXT PRIMARY KEY, price INTEGER NOT NULL)"
    " WITHOUT ROWID;"
)
STAGE_PRICES = 10_000  # more new prices than this: written ahead into ``prices_next``
_ROWS = "SELECT p.sku, p.row, r.price FROM products p LEFT JOIN prices r ON r.sku = p.sku"
Pairs = Sequence[Sequence[Any]]


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
                f"{_ROWS} WHERE p.sku IN (SELECT value FROM json_each(?)) ORDER BY p.rowid",
                (wanted,),
            )
            with paused_gc():
                return _priced(cur)
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
            cur = con.execute(f"{_ROWS} ORDER BY p.rowid")
            with paused_gc():
                return _priced(cur)
        finally:
            con.close()

    # ------------------------------------------------------------ writing
    def stage(
        self,
        upsert: Products,
        delete: Iterable[str] = (),
        replace: bool = False,
        prices: Pairs = (),
    ) -> Path | None:
        """What a save can write ahead, while the store's catalogue commits (``save(staged=...)``
        finishes it). A save that rewrites most rows (a full catalogue): HQ's products after it,
        written into a new file not yet in use (its path). Many of HQ's new ``prices``: written
        into ``prices_next``, which no reader reads (``hq.sqlite``'s own path). None: a smaller
        save, made in place by ``save``."""
        con = self._open()
        try:
            if replace or len(upsert) >= FRESH_SHARE * self._count(con):
                with paused_gc():
                    return self._fresh(con, upsert, delete, replace, prices)
            if len(prices) <= STAGE_PRICES:
                return None
            con.execute("BEGIN IMMEDIATE")
            con.execute("DELETE FROM prices_next")
            con.executemany("INSERT OR REPLACE INTO prices_next VALUES (?, ?)", prices)
            con.execute("COMMIT")
            return self.path
        finally:
            con.close()

    def save(
        self,
        meta: dict[str, Any],
        upsert: Products,
        delete: Iterable[str] = (),
        replace: bool = False,
        staged: Path | None = None,
        prices: Pairs = (),
    ) -> None:
        """One transaction: ``meta`` replaced, ``upsert`` written (``replace``: they become all
        of HQ's products), the SKUs of ``delete`` taken out, HQ's new ``[sku, price]`` of
        products kept (``prices``, of SKUs in neither). When that rewrites most rows, a new
        file (``stage``, or ``staged`` already) is given ``meta``, fsynced and renamed over the old
        one: 300,000 rows updated in place took seconds."""
        staged = staged or self.stage(upsert, delete, replace, prices)
        if staged is not None and staged != self.path:
            return self._swap_in(staged, meta)
        con = self._open()
        try:
            with paused_gc():
                self._save(con, meta, upsert, delete, replace, prices, ahead=staged is not None)
        finally:
            con.close()

    def discard(self, staged: Path | None) -> None:
        if staged is not None and staged != self.path:
            staged.unlink(missing_ok=True)

    @staticmethod
    def _count(con: sqlite3.Connection) -> int:
        return int(con.execute("SELECT max(rowid) FROM products").fetchone()[0] or 0)

    @staticmethod
    def _fresh_rows(
        old: sqlite3.Connection, upsert: Products, delete: Iterable[str]
    ) -> tuple[list[tuple[str, bytes]], list[tuple[str, int]]]:
        """Every row after the save, in HQ's order (the rows ``upsert`` leaves as they were are
        copied as they are stored), and HQ's later prices of those rows."""
        dumps = orjson.dumps
        order = [sku for (sku,) in old.execute("SELECT sku FROM products ORDER BY rowid")]
        gone = set(delete)
        keep = [s for s in order if s not in upsert and s not in gone]
        cur = old.execute(
            "SELECT sku, row FROM products WHERE sku IN (SELECT value FROM json_each(?))",
            (dumps(keep),),
        )
        rows = dict(cur.fetchall())
        prices = old.execute(
            "SELECT sku, price FROM prices WHERE sku IN (SELECT value FROM json_each(?))",
            (dumps(keep),),
        ).fetchall()
        rows.update((sku, dumps(p)) for sku, p in upsert.items())
        return [(s, rows.pop(s)) for s in order if s not in gone] + list(rows.items()), prices

    def _fresh(
        self,
        old: sqlite3.Connection,
        upsert: Products,
        delete: Iterable[str],
        replace: bool,
        later: Pairs = (),
    ) -> Path:
        """The products after a save, in a new file (no journal while it is written: it is not
        in use until ``_swap_in``; a crash before leaves the old file as it was). HQ's order is
        kept: the old file's rows in their places, with ``upsert``'s values, then new SKUs."""
        dumps = orjson.dumps
        tmp = self.dir / f".hq.sqlite.{os.getpid()}.{secrets.token_hex(4)}.new"
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        try:
            old.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # a hot journal rolled back
            con = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
                con.execute("BEGIN")
                made, prices = (
                    self._fresh_rows(old, upsert, delete)
                    if not replace
                    else ([(sku, dumps(p)) for sku, p in upsert.items()], [])
                )
                con.executemany("INSERT OR REPLACE INTO products VALUES (?, ?)", made)
                con.executemany("INSERT INTO prices VALUES (?, ?)", prices)
                con.executemany("INSERT OR REPLACE INTO prices VALUES (?, ?)", later)
                con.execute("COMMIT")
            finally:
                con.close()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def _swap_in(self, tmp: Path, meta: dict[str, Any]) -> None:
        """A staged file given ``meta``, fsynced and renamed over ``hq.sqlite``."""
        try:
            con = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode=OFF")
                con.execute("BEGIN")
                con.execute("DELETE FROM meta")
                con.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [(k, orjson.dumps(v)) for k, v in meta.items()],
                )
                con.execute("COMMIT")
            finally:
                con.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dfd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _save(
        con: sqlite3.Connection,
        meta: dict[str, Any],
        upsert: Products,
        delete: Iterable[str],
        replace: bool,
        prices: Pairs = (),
        ahead: bool = False,
    ) -> None:
        """``ahead``: ``prices`` are in ``prices_next`` already (``stage``)."""
        dumps = orjson.dumps
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("DELETE FROM meta")
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)", [(k, dumps(v)) for k, v in meta.items()]
            )
            if replace:
                con.execute("DELETE FROM products")
                con.execute("DELETE FROM prices")
            else:
                gone = [(s,) for s in (*delete, *upsert)]  # a row written carries its price
                con.executemany("DELETE FROM products WHERE sku = ?", [(s,) for s in delete])
                con.executemany("DELETE FROM prices WHERE sku = ?", gone)
            con.executemany(
                "INSERT INTO products VALUES (?, ?)"
                " ON CONFLICT(sku) DO UPDATE SET row = excluded.row",
                [(sku, dumps(p)) for sku, p in upsert.items()],
            )
            if ahead:
                con.execute("INSERT OR REPLACE INTO prices SELECT sku, price FROM prices_next")
                con.execute("DELETE FROM prices_next")
            else:
                con.executemany("INSERT OR REPLACE INTO prices VALUES (?, ?)", prices)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _priced(cur: Iterable[tuple[str, bytes, int | None]]) -> Products:
    """HQ's products by SKU from ``_ROWS``: each row with HQ's later price, if any."""
    out: Products = {}
    loads = orjson.loads
    for sku, row, price in cur:
        p = out[sku] = loads(row)
        if price is not None:
            p["price"] = price
    return out
