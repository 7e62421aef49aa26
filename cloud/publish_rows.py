"""Each store's published catalogue as rows of ``<hq>/publish/publish.sqlite``, so a publish
writes only what changed.

``snap(store, sku)`` holds the product's JSON as the store's newest version has it, its content
hash and the version that last changed it (``doc`` NULL: removed in that version). So the delta
from any version B the store held (since its rows began, ``snap_state.since``) to the newest is
``WHERE store = ? AND version > B``, and the full catalogue is every row with a ``doc``.
``snap_state`` keeps, per store, the newest version, the master version and the time it was
computed at (where the next publish asks master data for changes from) and its meta (scheduled
prices, the fields a store may override, the profile).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

from cloud.publish_snap import encode

__all__ = [
    "SCHEMA_ROWS",
    "State",
    "ChangeSet",
    "change_set",
    "state",
    "docs",
    "write",
    "since",
    "everything",
    "repriced",
]

SCHEMA_ROWS = """
CREATE TABLE IF NOT EXISTS snap (
    store     TEXT NOT NULL,
    sku       TEXT NOT NULL,
    version   INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    doc       BLOB,
    PRIMARY KEY (store, sku)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS snap_version ON snap(store, version);
CREATE TABLE IF NOT EXISTS snap_state (
    store     TEXT PRIMARY KEY,
    since     INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    master    INTEGER NOT NULL,
    at_us     INTEGER NOT NULL,
    meta      BLOB NOT NULL
);
"""

_CHUNK = 500


@dataclass(slots=True)
class State:
    """Where a store's rows stand: deltas start from ``since`` on; the newest is ``version``,
    computed from master version ``master`` at time ``at_us``."""

    since: int
    version: int
    master: int
    at_us: int
    meta: dict[str, Any]


@dataclass(slots=True)
class ChangeSet:
    """What a new version changes in a store's rows: ``lines`` (JSON) with their ``hashes`` of the
    products added or changed, in SKU order, and the SKUs removed."""

    skus: list[str]
    lines: list[bytes]
    hashes: list[str]
    removed: list[str]
    added: set[str]  # of ``skus``: the ones the store did not have
    full: bool  # computed from every product (not from master's changes)
    meta: dict[str, Any]
    master: int  # master data's version before anything was read


def change_set(con: sqlite3.Connection, master: Any, store: str, now: int) -> ChangeSet:
    """What publishing ``store`` at ``now`` changes in its rows: from master data's changes since
    the store's newest version when master data can tell them (``changes_for_store``), else from
    every product; products whose JSON did not change are left out."""
    mv = int(master.version())
    st = state(con, store)
    got = None
    ask = getattr(master, "changes_for_store", None)
    if st is not None and ask is not None:
        got = ask(store, st.master, now, st.at_us)
    if got is None:
        enc = encode(master.products_for_store(store, now))
        old = hashes(con, store, None)
        removed = [s for s in old if s not in enc.hashes]
    else:
        enc = encode(got[0])
        old = hashes(con, store, sorted({*enc.hashes, *got[1]}))
        removed = sorted(s for s in got[1] if s in old and s not in enc.hashes)
    picked = sorted(
        (sku, h, line)
        for (sku, h), line in zip(enc.hashes.items(), enc.lines, strict=True)
        if old.get(sku) != h
    )
    meta = {
        "prices": master.scheduled_prices(store, now),
        "store_fields": master.store_fields(),
        "profile": master.store_profile(store),
    }
    return ChangeSet(
        skus=[p[0] for p in picked],
        hashes=[p[1] for p in picked],
        lines=[p[2] for p in picked],
        removed=removed,
        added={p[0] for p in picked if p[0] not in old},
        full=got is None,
        meta=meta,
        master=mv,
    )


def state(con: sqlite3.Connection, store: str) -> State | None:
    row = con.execute(
        "SELECT since, version, master, at_us, meta FROM snap_state WHERE store = ?", (store,)
    ).fetchone()
    if row is None:
        return None
    return State(int(row[0]), int(row[1]), int(row[2]), int(row[3]), orjson.loads(row[4]))


def hashes(con: sqlite3.Connection, store: str, skus: list[str] | None) -> dict[str, str]:
    """SKU -> hash of the products the store has now (``skus`` None: all of them)."""
    if skus is None:
        q = "SELECT sku, hash FROM snap WHERE store = ? AND doc IS NOT NULL"
        return dict(con.execute(q, (store,)).fetchall())
    out: dict[str, str] = {}
    for i in range(0, len(skus), _CHUNK):
        part = skus[i : i + _CHUNK]
        q = (
            "SELECT sku, hash FROM snap WHERE store = ? AND doc IS NOT NULL"
            f" AND sku IN ({','.join('?' * len(part))})"
        )
        out.update(con.execute(q, (store, *part)).fetchall())
    return out


def docs(con: sqlite3.Connection, store: str, skus: list[str]) -> dict[str, dict[str, Any]]:
    """The products ``skus`` as the store has them now."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(skus), _CHUNK):
        part = skus[i : i + _CHUNK]
        q = (
            "SELECT sku, doc FROM snap WHERE store = ? AND doc IS NOT NULL"
            f" AND sku IN ({','.join('?' * len(part))})"
        )
        out.update((s, orjson.loads(d)) for s, d in con.execute(q, (store, *part)))
    return out


def repriced(
    con: sqlite3.Connection, store: str, ch: ChangeSet
) -> tuple[list[Any], list[list[Any]]]:
    """(products, ``[sku, price]`` pairs) of the delta ``ch`` makes from the store's newest
    version (read before ``write``): a product whose JSON differs from the store's only in a
    whole-number price goes as a pair (a reprice of 300,000 products is 300,000 pairs, not rows
    the store normalises and compares again), the others as they are."""
    old = docs(con, store, [s for s in ch.skus if s not in ch.added])
    lines: list[bytes] = []
    pairs: list[list[Any]] = []
    loads = orjson.loads
    for sku, line in zip(ch.skus, ch.lines, strict=True):
        was = old.get(sku)
        new = loads(line) if was is not None else None
        price = new.pop("price", None) if new is not None else None
        if was is not None and type(price) is int and "price" in was:
            was.pop("price")
            if was == new:
                pairs.append([sku, price])
                continue
        lines.append(line)
    return _embedded(lines), pairs


def write(con: sqlite3.Connection, store: str, version: int, ch: ChangeSet, at_us: int) -> int:
    """Record version ``version`` of ``store`` (inside the caller's transaction); returns how many
    products the store has in it."""
    con.executemany(
        "INSERT OR REPLACE INTO snap(store, sku, version, hash, doc) VALUES (?,?,?,?,?)",
        [
            (store, s, version, h, line)
            for s, h, line in zip(ch.skus, ch.hashes, ch.lines, strict=True)
        ],
    )
    con.executemany(
        "UPDATE snap SET version = ?, hash = '', doc = NULL WHERE store = ? AND sku = ?",
        [(version, store, s) for s in ch.removed],
    )
    con.execute(
        "INSERT INTO snap_state(store, since, version, master, at_us, meta) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT(store) DO UPDATE SET version = excluded.version, master = excluded.master,"
        " at_us = excluded.at_us, meta = excluded.meta",
        (store, version, version, ch.master, at_us, orjson.dumps(ch.meta)),
    )
    q = "SELECT count(*) FROM snap WHERE store = ? AND doc IS NOT NULL"
    return int(con.execute(q, (store,)).fetchone()[0])


def since(con: sqlite3.Connection, store: str, base: int) -> tuple[list[Any], list[str]]:
    """(products, removed SKUs) that changed after version ``base``."""
    lines: list[bytes] = []
    removed: list[str] = []
    for sku, doc in con.execute(
        "SELECT sku, doc FROM snap WHERE store = ? AND version > ? ORDER BY sku", (store, base)
    ):
        if doc is None:
            removed.append(sku)
        else:
            lines.append(doc)
    return _embedded(lines), removed


def everything(con: sqlite3.Connection, store: str) -> list[Any]:
    """Every product the store has now, by SKU."""
    q = "SELECT doc FROM snap WHERE store = ? AND doc IS NOT NULL ORDER BY sku"
    return _embedded([r[0] for r in con.execute(q, (store,))])


def _embedded(lines: list[bytes]) -> list[Any]:
    """The products' JSON as it is stored, embedded unparsed in the bundle's JSON (parsing 300,000
    products only to write them out again took most of a full bundle's time)."""
    return [orjson.Fragment(line) for line in lines]
