"""HQ's master data: products, prices per store group, store profiles, templates, feeds, audit.

Everything lives in ``<hq>/master.sqlite`` (WAL, 0600), shared by ``kassa cloud serve --data <hq>``
and ``kassa admin ... --hq <hq>``. One counter, ``version()``, grows with every change; each change
writes its audit row (who, when, what, detail) in the same transaction, and a product's every
version is kept in ``history``.

Prices: a product has a base price; a scheduled change ``{sku, group, price, from_us}`` sets the
price of ``sku`` for the stores of ``group`` (``*``: every group) from ``from_us`` (UTC µs) on.
The price in force at T for group G is the change with the latest ``from_us <= T`` for G or ``*``
(ties: the one made last), else the base price.

Products come from HQ (``source`` "hq") or from a product feed (``source`` ``feed:NAME``); a
feed's products reach only the stores subscribed to that feed (``subscribe(store, NAME)``).
``setup(app, data_dir)`` mounts the HTTP routes (``cloud.master_http``) and HQ's users
(``cloud.hqusers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.master_changes import changes_for_store, store_dict
from cloud.master_products import MasterProducts, dumps
from cloud.master_rules import (
    DEFAULT_STORE_FIELDS,
    check_price,
    check_profile,
    check_store_fields,
    check_templates,
)
from domain.error_codes.hqmaster import Master
from domain.errors import NotFound
from domain.ports import Clock, SystemClock

__all__ = ["MasterData", "MASTER", "setup", "DOMAIN_KEYS"]

# keys of a product dict a store reads (domain.catalogue.product_from_dict) + HQ's extras
DOMAIN_KEYS = (
    "sku",
    "names",
    "price",
    "tax_class",
    "category",
    "barcodes",
    "unit",
    "plu",
    "sellable",
    "low_stock",
    "favourite",
    "image",
    "merge",
    "brand",
    "spec",
    "tags",
)


class MasterData(MasterProducts):
    """HQ's master data (see the module's doc)."""

    # ------------------------------------------------------------ prices
    def add_price(self, change: dict[str, Any], who: str) -> tuple[int, int]:
        """Schedule a price change; returns (its id, the version)."""
        c = check_price(change)
        with self.db.write() as con:
            if not con.execute(
                "SELECT 1 FROM products WHERE sku = ? AND deleted = 0", (c["sku"],)
            ).fetchone():
                raise NotFound(Master.NOT_FOUND, f"no product {c['sku']}")
            cur = con.execute(
                "INSERT INTO prices(sku, grp, price, from_us, version, created_us, created_by)"
                " VALUES (?, ?, ?, ?, 0, ?, ?)",
                (c["sku"], c["group"], c["price"], c["from_us"], self.clock.now_us(), who),
            )
            pid = int(cur.lastrowid or 0)
            version = self._bump(con, who, "price.add", {"id": pid, **c})
            con.execute("UPDATE prices SET version = ? WHERE id = ?", (version, pid))
            return pid, version

    def delete_price(self, pid: int, who: str) -> int:
        with self.db.write() as con:
            row = con.execute(
                "SELECT sku, grp, price, from_us FROM prices WHERE id = ?", (pid,)
            ).fetchone()
            if row is None:
                raise NotFound(Master.PRICE_NOT_FOUND, f"no price change {pid}")
            con.execute("DELETE FROM prices WHERE id = ?", (pid,))
            detail = {"id": pid, "sku": row[0], "group": row[1], "price": row[2], "from_us": row[3]}
            return self._bump(con, who, "price.delete", detail)

    def prices(self, sku: str = "", group: str = "") -> list[dict[str, Any]]:
        sql, args = (
            "SELECT id, sku, grp, price, from_us, created_us, created_by FROM prices WHERE 1",
            list[str](),
        )
        if sku:
            sql, args = sql + " AND sku = ?", [*args, sku]
        if group:
            sql, args = sql + " AND grp = ?", [*args, group]
        return [
            {
                "id": r[0],
                "sku": r[1],
                "group": r[2],
                "price": r[3],
                "from_us": r[4],
                "created_us": r[5],
                "created_by": r[6],
            }
            for r in self.db.con.execute(sql + " ORDER BY from_us, id", args)
        ]

    def prices_in_force(self, group: str, at_us: int) -> dict[str, int]:
        """SKU -> the scheduled price in force at ``at_us`` for ``group`` (SKUs with no change in
        force are left out: their base price holds)."""
        out: dict[str, int] = {}
        for sku, price in self.db.con.execute(
            "SELECT sku, price FROM prices WHERE grp IN (?, '*') AND from_us <= ?"
            " ORDER BY from_us, id",
            (group, at_us),
        ):
            out[sku] = price
        return out

    def price_at(self, sku: str, group: str, at_us: int) -> int | None:
        p = self.product(sku)
        if p is None:
            return None
        return self.prices_in_force(group, at_us).get(sku, p["price"])

    # ------------------------------------------------------------ what a store gets
    def _group(self, store: str) -> str:
        row = self.db.con.execute("SELECT grp FROM profiles WHERE store = ?", (store,)).fetchone()
        return row[0] if row else "default"

    def _sources(self, store: str) -> list[str]:
        """Product sources a store gets: HQ's own, and each feed it subscribes to (a feed's
        products carry ``source`` ``feed:NAME``; a bare ``NAME`` is read the same)."""
        feeds = [
            r[0]
            for r in self.db.con.execute("SELECT feed FROM subscriptions WHERE store = ?", (store,))
        ]
        return ["hq", *feeds, *(f"feed:{f}" for f in feeds)]

    def products_for_store(self, store: str, at_us: int) -> list[dict[str, Any]]:
        """The store's products (domain dicts + brand, spec, tags) at the prices in force at
        ``at_us`` for its group; a feed's products only if the store subscribes to the feed."""
        sources = self._sources(store)
        prices = self.prices_in_force(self._group(store), at_us)
        out = []
        for sku, doc in self.db.con.execute(
            "SELECT sku, doc FROM products WHERE deleted = 0 AND source IN"
            f" ({','.join('?' * len(sources))}) ORDER BY sku",
            sources,
        ):
            d = orjson.loads(doc)
            out.append(store_dict(d, prices.get(sku, d["price"]), DOMAIN_KEYS))
        return out

    def changes_for_store(
        self, store: str, since_version: int, at_us: int, since_us: int
    ) -> tuple[list[dict[str, Any]], list[str]] | None:
        """What ``products_for_store(store, at_us)`` holds that differs from what it held at
        master version ``since_version`` and time ``since_us``: ``(products changed or added,
        SKUs removed)``, read through indexes (``cloud.master_changes``); None when the store's
        subscriptions or profile changed (read the whole list then). Lists may name SKUs whose
        store form did not change, or that the store never had."""
        con = self.db.con
        con.execute("BEGIN")  # one consistent view of every table
        try:
            return changes_for_store(
                con,
                store,
                self._group(store),
                self._sources(store),
                since_version,
                at_us,
                since_us,
                DOMAIN_KEYS,
            )
        finally:
            con.execute("COMMIT")

    def scheduled_prices(self, store: str, after_us: int) -> list[dict[str, Any]]:
        """Price changes for the store's group that start after ``after_us`` (of the products
        the store gets)."""
        sources = self._sources(store)
        return [
            {"sku": r[0], "price": r[1], "from_us": r[2]}
            for r in self.db.con.execute(
                "SELECT p.sku, p.price, p.from_us FROM prices p JOIN products d ON d.sku = p.sku"
                " WHERE d.deleted = 0 AND p.grp IN (?, '*') AND p.from_us > ?"
                f" AND d.source IN ({','.join('?' * len(sources))})"
                " ORDER BY p.from_us, p.id",
                (self._group(store), after_us, *sources),
            )
        ]

    # ------------------------------------------------------------ profiles, fields, feeds
    def store_profile(self, store: str) -> dict[str, Any] | None:
        row = self.db.con.execute("SELECT doc FROM profiles WHERE store = ?", (store,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def store_profiles(self) -> list[dict[str, Any]]:
        return [
            orjson.loads(r[0])
            for r in self.db.con.execute("SELECT doc FROM profiles ORDER BY store")
        ]

    def put_store_profile(self, profile: dict[str, Any], who: str) -> int:
        p = check_profile(profile)
        with self.db.write() as con:
            version = self._bump(con, who, "profile.put", p)
            con.execute(
                "INSERT OR REPLACE INTO profiles(store, doc, grp, version) VALUES (?, ?, ?, ?)",
                (p["id"], dumps(p), p["group"], version),
            )
            return version

    def _doc(self, name: str, default: Any) -> Any:
        row = self.db.con.execute("SELECT doc FROM docs WHERE name = ?", (name,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def _put_doc(self, name: str, doc: Any, who: str) -> int:
        with self.db.write() as con:
            version = self._bump(con, who, f"{name}.put", {name: doc})
            con.execute(
                "INSERT OR REPLACE INTO docs(name, doc, version) VALUES (?, ?, ?)",
                (name, dumps(doc), version),
            )
            return version

    def store_fields(self) -> list[str]:
        return list(self._doc("store_fields", DEFAULT_STORE_FIELDS))

    def put_store_fields(self, fields: list[str], who: str) -> int:
        return self._put_doc("store_fields", check_store_fields(fields), who)

    def staff_templates(self) -> dict[str, Any]:
        return dict(self._doc("staff_templates", {"roles": {}, "staff": []}))

    def put_staff_templates(self, doc: dict[str, Any], who: str) -> int:
        return self._put_doc("staff_templates", check_templates(doc), who)

    def subscribe(self, store: str, feed: str, who: str = "hq") -> None:
        with self.db.write() as con:
            if con.execute(
                "INSERT OR IGNORE INTO subscriptions(store, feed) VALUES (?, ?)", (store, feed)
            ).rowcount:
                self._bump(con, who, "feed.subscribe", {"store": store, "feed": feed})

    def unsubscribe(self, store: str, feed: str, who: str = "hq") -> None:
        with self.db.write() as con:
            if con.execute(
                "DELETE FROM subscriptions WHERE store = ? AND feed = ?", (store, feed)
            ).rowcount:
                self._bump(con, who, "feed.unsubscribe", {"store": store, "feed": feed})

    def subscribers(self, feed: str) -> list[str]:
        return [
            r[0]
            for r in self.db.con.execute(
                "SELECT store FROM subscriptions WHERE feed = ? ORDER BY store", (feed,)
            )
        ]


MASTER = web.AppKey("kassa_master", MasterData)


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> MasterData:
    """Mount HQ's master data and users on the cloud app."""
    from cloud.master_http import mount

    master = MasterData(data_dir, clock)
    app[MASTER] = master
    mount(app, master, Path(data_dir), clock or SystemClock())
    return master
