"""HQ's products: the part of ``cloud.master.MasterData`` that keeps products, their versions
and the audit (see ``cloud.master`` for the whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from cloud.master_db import MASTER_SCHEMA, Db
from cloud.master_rules import check_product, search_text
from domain.catalogue import normalise
from domain.error_codes.hqmaster import ImportFile, Master
from domain.errors import InvalidInput, KassaError, NotFound
from domain.ports import Clock, SystemClock

__all__ = ["MasterProducts", "dumps", "bad_rows"]

DB_FILE = "master.sqlite"
_AUDIT_SKUS = 50  # an audit row names at most this many SKUs of a bulk change


def dumps(d: Any) -> bytes:
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS)


class MasterProducts:
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
            (self.clock.now_us(), who, what, dumps(detail), version),
        )
        return version

    def audit(self, who: str, what: str, detail: dict[str, Any]) -> None:
        """Log an action into HQ's audit (no change of master data: the version stays)."""
        with self.db.write() as con:
            con.execute(
                "INSERT INTO audit(at_us, who, what, detail, version) VALUES (?, ?, ?, ?, ?)",
                (self.clock.now_us(), who, what, dumps(detail), self.version()),
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
        return int(self.apply_products(rows, who, source)["version"])

    def apply_products(
        self,
        rows: list[dict[str, Any]],
        who: str,
        source: str = "hq",
        dry_run: bool = False,
        bad_before: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """``upsert_products`` saying what it did: ``{version, count (changed), added,
        unchanged, dry_run}``; ``dry_run`` checks everything and writes nothing; ``bad_before``:
        rows a reader already refused, reported with the others."""
        forms: list[tuple[int, dict[str, Any]]] = []
        bad: list[dict[str, Any]] = list(bad_before or [])
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
            raise bad_rows(sorted(bad, key=lambda b: b["row"]))
        if not forms:
            raise InvalidInput(ImportFile.NO_ROWS, "no product rows")
        try:
            with self.db.write() as con:
                done = self._write_products(con, forms, who, source)
                if dry_run:
                    raise _DryRun(done)
        except _DryRun as dry:
            done = {**dry.result, "version": self.version()}
        return {**done, "unchanged": len(forms) - done["count"], "dry_run": dry_run}

    def _write_products(
        self, con: Any, forms: list[tuple[int, dict[str, Any]]], who: str, source: str
    ) -> dict[str, Any]:
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
            raise bad_rows(bad)
        changed = [
            (f, dumps(f))
            for _, f in forms
            if f["sku"] not in old
            or old[f["sku"]][2]
            or old[f["sku"]][1] != source
            or old[f["sku"]][0] != dumps(f)
        ]
        if not changed:
            return {"version": self._current(con), "count": 0, "added": 0}
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
        return {"version": version, "count": len(changed), "added": added}

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
            return int(self._write_products(con, [(1, clean)], who, "hq")["version"])

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


class _DryRun(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result


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


def bad_rows(bad: list[dict[str, Any]]) -> InvalidInput:
    return InvalidInput(
        ImportFile.BAD_ROWS,
        f"{len(bad)} bad row(s); nothing was changed",
        rows=bad[:1000],
        bad_rows=len(bad),
    )
