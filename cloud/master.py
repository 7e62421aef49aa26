"""HQ's master data: products, prices per store group, store profiles, templates, feeds, audit.

Everything lives in ``<hq>/master.sqlite`` (WAL, 0600), shared by ``kassa cloud serve --data <hq>``
and ``kassa admin ... --hq <hq>``. One counter, ``version()``, grows with every change; each change
writes its audit row (who, when, what, detail) in the same transaction, and a product's every
version is kept in ``history``.

Prices: a product has a base price; a scheduled change ``{sku, group, price, from_us}`` sets the
price of ``sku`` for the stores of ``group`` (``*``: every group) from ``from_us`` (UTC µs) on.
The price in force at T for group G is the change with the latest ``from_us <= T`` for G or ``*``
(ties: the one made last), else the base price.

Products come from HQ (``source`` "hq") or from a product feed (``source`` = the feed's name); a
feed's products reach only the stores subscribed to that feed. ``setup(app, data_dir)`` mounts the
HTTP routes (``cloud.master_http``) and HQ's users (``cloud.hqusers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from cloud.master_db import MASTER_SCHEMA, Db
from cloud.master_rules import (
    DEFAULT_STORE_FIELDS,
    check_price,
    check_product,
    check_profile,
    check_store_fields,
    check_templates,
    search_text,
)
from domain.catalogue import normalise
from domain.error_codes.hqmaster import ImportFile, Master
from domain.errors import InvalidInput, KassaError, NotFound
from domain.ports import Clock, SystemClock

__all__ = ["MasterData", "MASTER", "setup", "DOMAIN_KEYS"]

DB_FILE = "master.sqlite"
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
_AUDIT_SKUS = 50  # an audit row names at most this many SKUs of a bulk change


def _dumps(d: Any) -> bytes:
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS)


class MasterData:
    def __init__(self, hq_dir: Path | str, clock: Clock | None = None) -> None:
        self.dir = Path(hq_dir)
        self.clock = clock or SystemClock()
        self.db = Db(self.dir / DB_FILE, MASTER_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------ versions and audit
    def version(self) -> int:
        row = self.db.con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self, con: Any, who: str, what: str, detail: dict[str, Any]) -> int:
        row = con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        version = (int(row[0]) if row else 0) + 1
        con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('version', ?)", (version,))
        con.execute(
            "INSERT INTO audit(at_us, who, what, detail, version) VALUES (?, ?, ?, ?, ?)",
            (self.clock.now_us(), who, what, _dumps(detail), version),
        )
        return version

    def audit(self, who: str, what: str, detail: dict[str, Any]) -> None:
        """Log an action into HQ's audit (no change of master data: the version stays)."""
        with self.db.write() as con:
            con.execute(
                "INSERT INTO audit(at_us, who, what, detail, version) VALUES (?, ?, ?, ?, ?)",
                (self.clock.now_us(), who, what, _dumps(detail), self.version()),
            )

    def audit_log(
        self, since_us: int = 0, who: str = "", what: str = "", limit: int = 500
    ) -> list[dict[str, Any]]:
        """Audit rows from ``since_us`` on, oldest first; ``what`` matches a prefix."""
        sql = "SELECT id, at_us, who, what, detail, version FROM audit WHERE at_us >= ?"
        args: list[Any] = [since_us]
        if who:
            sql += " AND who = ?"
            args.append(who)
        if what:
            sql += " AND what LIKE ? ESCAPE '\\'"
            args.append(what.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        sql += " ORDER BY id LIMIT ?"
        args.append(max(1, min(limit, 5000)))
        return [
            {
                "id": r[0],
                "at_us": r[1],
                "who": r[2],
                "what": r[3],
                "detail": orjson.loads(r[4]),
                "version": r[5],
            }
            for r in self.db.con.execute(sql, args)
        ]

    # ------------------------------------------------------------ products
    def upsert_products(self, rows: list[dict[str, Any]], who: str, source: str = "hq") -> int:
        """Add or change products, all or nothing. A bad row raises ``InvalidInput(
        "import.bad_rows", rows=[{row, code, message}], bad_rows=N)`` and nothing is written
        (``row``: a row's own ``"row"`` key when it has one, else its place from 1). Returns the
        version after the change (unchanged when every row equals what HQ has)."""
        forms: list[tuple[int, dict[str, Any]]] = []
        bad: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        codes: dict[str, tuple[int, str]] = {}
        for i, raw in enumerate(rows, start=1):
            num = raw.get("row", i) if isinstance(raw, dict) else i
            body = {k: v for k, v in raw.items() if k != "row"} if isinstance(raw, dict) else raw
            try:
                form = check_product(body)
                if form["sku"] in seen:
                    raise InvalidInput(
                        "import.duplicate_sku", f"SKU also on row {seen[form['sku']]}"
                    )
                for code in form["barcodes"]:
                    if code in codes and codes[code][1] != form["sku"]:
                        raise InvalidInput(
                            Master.BARCODE_TAKEN, f"barcode {code} also on row {codes[code][0]}"
                        )
                    codes[code] = (num, form["sku"])
            except KassaError as exc:
                bad.append({"row": num, "code": exc.code, "message": exc.message})
                continue
            seen[form["sku"]] = num
            forms.append((num, form))
        bad += _barcode_clashes(self.db.con, forms)  # checked again in the write step
        if bad:
            raise _bad_rows(sorted(bad, key=lambda b: b["row"]))
        if not forms:
            raise InvalidInput(ImportFile.NO_ROWS, "no product rows")
        with self.db.write() as con:
            return self._write_products(con, forms, who, source)

    def _write_products(
        self, con: Any, forms: list[tuple[int, dict[str, Any]]], who: str, source: str
    ) -> int:
        skus = {f["sku"] for _, f in forms}
        listed = sorted(skus)
        old: dict[str, tuple[bytes, str, int]] = {}
        for chunk in range(0, len(listed), 500):
            part = listed[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            q = f"SELECT sku, doc, source, deleted FROM products WHERE sku IN ({marks})"
            old.update({r[0]: (r[1], r[2], r[3]) for r in con.execute(q, part)})
        bad = _barcode_clashes(con, forms)
        if bad:
            raise _bad_rows(bad)
        changed = [
            (f, _dumps(f))
            for _, f in forms
            if f["sku"] not in old
            or old[f["sku"]][2]
            or old[f["sku"]][1] != source
            or old[f["sku"]][0] != _dumps(f)
        ]
        if not changed:
            return self._current(con)
        added = sum(1 for f, _ in changed if f["sku"] not in old or old[f["sku"]][2])
        version = self._bump(
            con,
            who,
            "products.upsert",
            {
                "source": source,
                "count": len(changed),
                "added": added,
                "skus": [f["sku"] for f, _ in changed[:_AUDIT_SKUS]],
            },
        )
        now = self.clock.now_us()
        for f, _ in changed:
            con.execute("DELETE FROM barcodes WHERE sku = ?", (f["sku"],))
        con.executemany(
            "INSERT OR REPLACE INTO products(sku, doc, search, category, source, version, deleted,"
            " updated_us, updated_by) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [
                (f["sku"], doc, search_text(f), f["category"], source, version, now, who)
                for f, doc in changed
            ],
        )
        con.executemany(
            "INSERT INTO barcodes(code, sku) VALUES (?, ?)",
            [(code, f["sku"]) for f, _ in changed for code in f["barcodes"]],
        )
        con.executemany(
            "INSERT INTO history(version, sku, doc) VALUES (?, ?, ?)",
            [(version, f["sku"], doc) for f, doc in changed],
        )
        return version

    def _current(self, con: Any) -> int:
        row = con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        return int(row[0]) if row else 0

    def put_product(self, form: dict[str, Any], who: str, if_version: int | None = None) -> int:
        """One product added or changed. With ``if_version``, refused with
        ``master.edit_conflict`` when the product changed since that version."""
        if if_version is None:
            return self.upsert_products([form], who)
        clean = check_product(form)
        with self.db.write() as con:
            row = con.execute(
                "SELECT version FROM products WHERE sku = ? AND deleted = 0", (clean["sku"],)
            ).fetchone()
            if (row[0] if row else 0) != if_version:
                raise KassaError(
                    Master.EDIT_CONFLICT,
                    f"{clean['sku']} is at version {row[0] if row else 0}, not {if_version}",
                )
            return self._write_products(con, [(1, clean)], who, "hq")

    def delete_product(self, sku: str, who: str) -> int:
        with self.db.write() as con:
            if not con.execute(
                "SELECT 1 FROM products WHERE sku = ? AND deleted = 0", (sku,)
            ).fetchone():
                raise NotFound(Master.NOT_FOUND, f"no product {sku}")
            version = self._bump(con, who, "product.delete", {"sku": sku})
            con.execute(
                "UPDATE products SET deleted = 1, version = ?, updated_us = ?, updated_by = ?"
                " WHERE sku = ?",
                (version, self.clock.now_us(), who, sku),
            )
            con.execute("DELETE FROM barcodes WHERE sku = ?", (sku,))
            con.execute(
                "INSERT INTO history(version, sku, doc) VALUES (?, ?, NULL)", (version, sku)
            )
            return version

    def product(self, sku: str) -> dict[str, Any] | None:
        r = self.db.con.execute(
            "SELECT doc, source, version, updated_us, updated_by FROM products"
            " WHERE sku = ? AND deleted = 0",
            (sku,),
        ).fetchone()
        return None if r is None else _hq_row(r)

    def history(self, sku: str) -> list[dict[str, Any]]:
        """Every version of a product, oldest first (``doc`` None: deleted)."""
        return [
            {"version": v, "doc": None if d is None else orjson.loads(d)}
            for v, d in self.db.con.execute(
                "SELECT version, doc FROM history WHERE sku = ? ORDER BY version", (sku,)
            )
        ]

    def products(
        self, q: str = "", category: str = "", offset: int = 0, limit: int = 50
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of products (by SKU) whose SKU, barcode, name in any language, brand or tag
        holds ``q``, in ``category`` or below it; and how many match."""
        where, args = "deleted = 0", list[Any]()
        if q.strip():
            where += " AND instr(search, ?) > 0"
            args.append(normalise(q))
        if category:
            where += " AND (category = ? OR substr(category, 1, ?) = ?)"
            args += [category, len(category) + 1, category + "/"]
        total = self.db.con.execute(
            f"SELECT count(*) FROM products WHERE {where}", args
        ).fetchone()[0]
        rows = self.db.con.execute(
            f"SELECT doc, source, version, updated_us, updated_by FROM products WHERE {where}"
            " ORDER BY sku LIMIT ? OFFSET ?",
            [*args, max(0, min(limit, 1000)), max(0, offset)],
        )
        return [_hq_row(r) for r in rows], int(total)

    def categories(self) -> list[dict[str, Any]]:
        """The category tree: ``[{name, path, count, children}]`` (count includes children)."""
        root: dict[str, Any] = {"children": {}}
        for cat, n in self.db.con.execute(
            "SELECT category, count(*) FROM products WHERE deleted = 0 AND category != ''"
            " GROUP BY category"
        ):
            node, path = root, []
            for part in cat.split("/"):
                path.append(part)
                node = node["children"].setdefault(
                    part, {"name": part, "path": "/".join(path), "count": 0, "children": {}}
                )
                node["count"] += n

        def tree(children: dict[str, Any]) -> list[dict[str, Any]]:
            return [{**c, "children": tree(c["children"])} for _, c in sorted(children.items())]

        return tree(root["children"])

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

    def products_for_store(self, store: str, at_us: int) -> list[dict[str, Any]]:
        """The store's products (domain dicts + brand, spec, tags) at the prices in force at
        ``at_us`` for its group; a feed's products only if the store subscribes to the feed."""
        feeds = [
            r[0]
            for r in self.db.con.execute("SELECT feed FROM subscriptions WHERE store = ?", (store,))
        ]
        feeds += [f"feed:{f}" for f in feeds]  # a feed marks its products "feed:NAME" (cloud.feed)
        prices = self.prices_in_force(self._group(store), at_us)
        out = []
        for sku, doc in self.db.con.execute(
            "SELECT sku, doc FROM products WHERE deleted = 0 AND (source = 'hq' OR source IN"
            f" ({','.join('?' * len(feeds))})) ORDER BY sku",
            feeds,
        ):
            d = orjson.loads(doc)
            d["price"] = prices.get(sku, d["price"])
            out.append({k: d[k] for k in DOMAIN_KEYS})
        return out

    def scheduled_prices(self, store: str, after_us: int) -> list[dict[str, Any]]:
        """Price changes for the store's group that start after ``after_us``."""
        return [
            {"sku": r[0], "price": r[1], "from_us": r[2]}
            for r in self.db.con.execute(
                "SELECT p.sku, p.price, p.from_us FROM prices p JOIN products d ON d.sku = p.sku"
                " WHERE d.deleted = 0 AND p.grp IN (?, '*') AND p.from_us > ?"
                " ORDER BY p.from_us, p.id",
                (self._group(store), after_us),
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
                (p["id"], _dumps(p), p["group"], version),
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
                (name, _dumps(doc), version),
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


def _hq_row(r: Any) -> dict[str, Any]:
    return {
        **orjson.loads(r[0]),
        "source": r[1],
        "version": r[2],
        "updated_us": r[3],
        "updated_by": r[4],
    }


def _barcode_clashes(con: Any, forms: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows using a barcode another product (not among ``forms``) has at HQ."""
    skus = {f["sku"] for _, f in forms}
    bad = []
    for num, form in forms:
        for code in form["barcodes"]:
            owner = con.execute("SELECT sku FROM barcodes WHERE code = ?", (code,)).fetchone()
            if owner and owner[0] != form["sku"] and owner[0] not in skus:
                bad.append(
                    {
                        "row": num,
                        "code": Master.BARCODE_TAKEN.value,
                        "message": f"barcode {code} belongs to {owner[0]}",
                    }
                )
    return bad


def _bad_rows(bad: list[dict[str, Any]]) -> InvalidInput:
    return InvalidInput(
        ImportFile.BAD_ROWS,
        f"{len(bad)} bad row(s); nothing was changed",
        rows=bad[:1000],
        bad_rows=len(bad),
    )


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> MasterData:
    """Mount HQ's master data and users on the cloud app."""
    from cloud.master_http import mount

    master = MasterData(data_dir, clock)
    app[MASTER] = master
    mount(app, master, Path(data_dir), clock or SystemClock())
    return master
