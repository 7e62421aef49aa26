"""HQ publishes signed catalogue versions; each store pulls a full bundle or a delta from its own.

``Publisher.publish(stores, who, note)`` takes a new version number N (one counter for all
publications, so two publishes never share a number) and records what each named store gets at that
moment from ``cloud.master.MasterData``: its products with the prices in force now, the scheduled
price changes after now, the fields a store may override and its profile. A store's catalogue is
kept as rows (``cloud.publish_rows``): a publish asks master data only for what changed since the
store's previous version (``changes_for_store``; every product when it cannot tell) and writes only
the rows that changed, each marked with version N. The delta from the previous version is signed
from those changes at once; a delta from an older version B is the rows changed after B; the full
bundle is built on its first request. Bundles are kept once built (``cloud.publish_snap``). A store
running N gets nothing.

State: ``<hq>/publish/publish.sqlite`` (publications, each store's versions, the version each store
last pulled and when, the stores' rows) and the bundle files; a file lock (``publish.lock``)
serialises publishes, so ``kassa admin publish`` and the running cloud share the folder safely.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol

import orjson
from aiohttp import web

from cloud import publish_rows as rows
from cloud.hqauth import private_dir, private_file
from cloud.publish_snap import BundleFiles, field_changes
from domain.catalogue_bundle import Kind, pack, read_header, unpack
from domain.errors import InvalidInput, NotFound
from domain.ports import Clock

__all__ = ["Publisher", "Master", "Authority", "setup", "PUBLISHER"]

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS publications (
    version   INTEGER PRIMARY KEY AUTOINCREMENT,
    created   INTEGER NOT NULL,
    who       TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    master    INTEGER NOT NULL DEFAULT 0,
    stores    TEXT NOT NULL DEFAULT '[]',
    state     TEXT NOT NULL DEFAULT 'building'
);
CREATE TABLE IF NOT EXISTS store_versions (
    store     TEXT NOT NULL,
    version   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    created   INTEGER NOT NULL,
    PRIMARY KEY (store, version)
);
CREATE TABLE IF NOT EXISTS pulls (
    store     TEXT PRIMARY KEY,
    version   INTEGER NOT NULL,
    have      INTEGER,
    kind      TEXT NOT NULL,
    at        INTEGER NOT NULL
);
"""


class Master(Protocol):
    """What publishing reads of ``cloud.master.MasterData`` (and, when it has it,
    ``changes_for_store``: without it every publish reads every product)."""

    def version(self) -> int: ...
    def products_for_store(self, store: str, at_us: int) -> list[dict]: ...
    def scheduled_prices(self, store: str, after_us: int) -> list[dict]: ...
    def store_profile(self, store: str) -> dict | None: ...
    def store_fields(self) -> list[str]: ...


class Authority(Protocol):
    """HQ's key holder (``cloud.licence.LicenceAuthority``)."""

    @property
    def key(self) -> Any: ...
    def ensure_key(self) -> bool: ...
    def public_key_text(self) -> str: ...


def _none_published(store: str) -> NotFound:
    return NotFound("catalogue.none_published", f"HQ has published no catalogue for {store} yet")


class Publisher:
    """Publishing, bundles and pulls over ``<hq>/publish/`` (thread-safe)."""

    def __init__(self, hq_dir: Path | str, master: Master, authority: Authority, clock: Clock):
        self.hq = Path(hq_dir)
        self.root = private_dir(self.hq / "publish")
        self.master, self.authority, self.clock = master, authority, clock
        path = private_file(self.root / "publish.sqlite")
        self.con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA busy_timeout=30000")
        self.con.executescript(SCHEMA + rows.SCHEMA_ROWS)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.con.close()

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self.con.execute(sql, args).fetchall()

    def _files(self, store: str) -> BundleFiles:
        return BundleFiles(self.root, store)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One publish at a time, across processes (the cloud and the CLI)."""
        fd = open(private_file(self.root / "publish.lock"), "rb")  # noqa: SIM115
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            fd.close()

    # ------------------------------------------------------------ what is published
    def latest(self, store: str) -> int | None:
        rows = self._q("SELECT max(version) FROM store_versions WHERE store = ?", (store,))
        return rows[0][0] if rows else None

    def versions(self, store: str) -> list[int]:
        rows = self._q(
            "SELECT version FROM store_versions WHERE store = ? ORDER BY version", (store,)
        )
        return [r[0] for r in rows]

    def stores_of(self, version: int) -> list[str]:
        rows = self._q(
            "SELECT store FROM store_versions WHERE version = ? ORDER BY store", (version,)
        )
        return [r[0] for r in rows]

    def next_version(self) -> int:
        rows = self._q("SELECT seq FROM sqlite_sequence WHERE name = 'publications'")
        return (rows[0][0] if rows else 0) + 1

    def known_stores(self) -> list[str]:
        """Stores registered with the cloud (active), with a profile in master data, or published
        for before."""
        from cloud.registry import Registry

        reg = Registry(self.hq)
        try:
            ids = {s.id for s in reg.stores() if s.active}
        finally:
            reg.close()
        ids |= {r[0] for r in self._q("SELECT DISTINCT store FROM store_versions")}
        profiles = getattr(self.master, "store_profiles", None)
        if profiles is not None:
            ids |= {str(p["id"]) for p in profiles()}
        return sorted(ids)

    # ------------------------------------------------------------ publishing
    def publish(self, stores: list[str] | None, who: str, note: str = "") -> int:
        """Publish a new version for ``stores`` (None: every known store); returns its number."""
        known = self.known_stores()
        targets = sorted(set(stores)) if stores is not None else known
        if not targets:
            raise InvalidInput("publish.no_stores", "there is no store to publish to")
        _check_known(targets, known)
        self.authority.ensure_key()
        with self._exclusive():
            now = self.clock.now_us()
            with self._lock:
                cur = self.con.execute(
                    "INSERT INTO publications(created, who, note, master, stores) "
                    "VALUES (?,?,?,?,?)",
                    (now, who, note, self.master.version(), orjson.dumps(targets).decode()),
                )
                version = int(cur.lastrowid or 0)
            try:
                with closing(self._connect()) as con:
                    for s in targets:
                        self._publish_store(con, s, version, now)
            except BaseException:
                self._q("UPDATE publications SET state = 'failed' WHERE version = ?", (version,))
                raise
            self._q("UPDATE publications SET state = 'done' WHERE version = ?", (version,))
        audit = getattr(self.master, "audit", None)
        if audit is not None:
            audit(who, "catalogue.publish", {"version": version, "stores": targets, "note": note})
        log.info("published catalogue version %d to %s (%s)", version, targets, who)
        return version

    def _publish_store(self, con: sqlite3.Connection, store: str, version: int, now: int) -> None:
        """Version ``version`` of ``store``: only the rows that changed are written, and the delta
        from its previous version is signed from those changes (the full bundle waits for its
        first request)."""
        prev = rows.state(con, store)
        ch = rows.change_set(con, self.master, store, now)
        products, pairs = rows.repriced(con, store, ch) if prev is not None else ([], [])
        con.execute("BEGIN IMMEDIATE")
        try:
            count = rows.write(con, store, version, ch, now)
            con.execute(
                "INSERT INTO store_versions(store, version, count, created) VALUES (?,?,?,?)",
                (store, version, count, now),
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        files = self._files(store)
        if prev is not None:  # the delta most stores will ask for
            payload = {"products": products, "removed": ch.removed, **ch.meta}
            if pairs:  # HQ repricing: the prices alone (format 2)
                payload["repriced"] = pairs
            data = self._pack("delta", store, version, payload, now, prev.version)
            files.write_bundle(data, version, prev.version)
        files.prune(version)

    def _pack(
        self,
        kind: Kind,
        store: str,
        version: int,
        payload: dict[str, Any],
        now: int,
        base: int | None = None,
    ) -> bytes:
        key = self.authority.key
        return pack(
            key, kind=kind, store=store, version=version, payload=payload, created_us=now, base=base
        )

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(str(self.root / "publish.sqlite"), isolation_level=None)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    # ------------------------------------------------------------ bundles
    def bundle_for(self, store: str, have: int | None) -> bytes | None:
        """The bundle a store holding ``have`` needs: None when it runs the newest version, a
        delta from ``have`` when ``have`` is one of its versions, else the full bundle (built on
        its first request, then kept). Raises ``catalogue.none_published``."""
        for _ in range(3):  # a publish may make a newer version while this one is read
            latest = self.latest(store)
            if latest is None:
                raise _none_published(store)
            if have == latest:
                return None
            files = self._files(store)
            data = None
            if have is not None and have < latest and have in self.versions(store):
                data = files.read_bundle(latest, have) or self._build(store, latest, have)
            if data is None:
                data = files.read_bundle(latest) or self._build(store, latest, None)
            if data is not None:
                return data
        raise _none_published(store)

    def _build(self, store: str, latest: int, have: int | None) -> bytes | None:
        """The full bundle (``have`` None) or the delta from ``have`` of ``store``'s newest
        version ``latest``, from its rows; None when ``latest`` is not the newest any more or
        the rows do not reach back to ``have``."""
        with closing(self._connect()) as con:
            con.execute("BEGIN")  # rows and state of one moment
            try:
                st = rows.state(con, store)
                if st is None or st.version != latest or (have is not None and have < st.since):
                    return None
                if have is None:
                    payload: dict[str, Any] = {"products": rows.everything(con, store)}
                else:
                    products, removed = rows.since(con, store, have)
                    payload = {"products": products, "removed": removed}
            finally:
                con.execute("COMMIT")
        kind: Kind = "full" if have is None else "delta"
        data = self._pack(kind, store, latest, {**payload, **st.meta}, self.clock.now_us(), have)
        self._files(store).write_bundle(data, latest, have)
        return data

    def pull(self, store: str, have: int | None) -> bytes | None:
        """``bundle_for``, and remember which version the store now holds and when."""
        data = self.bundle_for(store, have)
        version, kind = have, "none"
        if data is not None:  # the version sent, even if a publish has just made a newer one
            head = read_header(data)[0]
            version, kind = int(head["version"]), str(head["kind"])
        self._q(
            "INSERT OR REPLACE INTO pulls(store, version, have, kind, at) VALUES (?,?,?,?,?)",
            (store, version, have, kind, self.clock.now_us()),
        )
        return data

    def export(self, store: str, full: bool = True) -> bytes:
        """A bundle for a USB stick: full, or a delta from the version the store last pulled."""
        have = None if full else self.last_pulled(store)
        return self.bundle_for(store, have) or self.bundle_for(store, None) or b""

    def last_pulled(self, store: str) -> int | None:
        rows = self._q("SELECT version FROM pulls WHERE store = ?", (store,))
        return rows[0][0] if rows else None

    def setup_bundle(self, store: str, extra: dict[str, Any]) -> bytes:
        """A ``setup`` bundle: the store's newest published version plus ``extra`` (profile,
        cloud URL, HQ's public key, the sealed secrets)."""
        latest = self.latest(store)
        if latest is None:
            raise _none_published(store)
        full = self.bundle_for(store, None) or b""
        payload = unpack(full, self.authority.public_key_text(), store=store).payload
        now = self.clock.now_us()
        return self._pack("setup", store, latest, {**payload, **extra}, now)

    # ------------------------------------------------------------ preview and lists
    def preview(self, store: str, limit: int = 1000) -> dict[str, Any]:
        """What publishing now would change for ``store``, against its newest published version
        (at most ``limit`` products per list; ``counts`` has the totals)."""
        _check_known([store], self.known_stores())
        with closing(self._connect()) as con:
            st = rows.state(con, store)
            ch = rows.change_set(con, self.master, store, self.clock.now_us())
            added = [s for s in ch.skus if s in ch.added]
            changed = [s for s in ch.skus if s not in ch.added]
            old = rows.docs(con, store, changed[:limit])
        shown = set(added[:limit]) | set(changed[:limit])
        by_sku = {
            s: orjson.loads(line) for s, line in zip(ch.skus, ch.lines, strict=True) if s in shown
        }
        old_meta = st.meta if st is not None else {}
        meta = ch.meta
        return {
            "store": store,
            "from_version": self.latest(store),
            "to_version": self.next_version(),
            "added": [_brief(by_sku[s]) for s in added[:limit]],
            "changed": [
                {"sku": s, "fields": field_changes(old.get(s, {}), by_sku[s])}
                for s in changed[:limit]
            ],
            "removed": ch.removed[:limit],
            "prices": meta["prices"],
            "currency": (meta.get("profile") or {}).get("currency", ""),
            "zone": (meta.get("profile") or {}).get("zone", "UTC"),
            "counts": {"added": len(added), "changed": len(changed), "removed": len(ch.removed)},
            "prices_changed": old_meta.get("prices") != meta["prices"],
            "profile_changed": old_meta.get("profile") != meta["profile"],
            "store_fields_changed": old_meta.get("store_fields") != meta["store_fields"],
        }

    def publications(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._q(
            "SELECT version, created, who, note, master, stores, state FROM publications "
            "ORDER BY version DESC LIMIT ?",
            (limit,),
        )
        keys = ("version", "created_us", "who", "note", "master_version", "stores", "state")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for d in out:
            d["stores"] = orjson.loads(d["stores"])
        return out

    def stores_catalogue(self) -> list[dict[str, Any]]:
        """Per store: the newest version published for it, the version it last pulled, when."""
        pulls = {r[0]: r[1:] for r in self._q("SELECT store, version, kind, at FROM pulls")}
        out = []
        for s in self.known_stores():
            latest = self.latest(s)
            version, kind, at = pulls.get(s, (None, None, None))
            out.append(
                {
                    "store": s,
                    "published": latest,
                    "pulled": version,
                    "pulled_kind": kind,
                    "pulled_at_us": at,
                    "up_to_date": latest is not None and version == latest,
                }
            )
        return out


def _check_known(stores: list[str], known: list[str]) -> None:
    unknown = sorted(set(stores) - set(known))
    if unknown:
        raise InvalidInput(
            "publish.unknown_store",
            f"HQ does not know store {', '.join(unknown)}: create or register it first",
            stores=unknown,
        )


def _brief(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p.get(k) for k in ("sku", "names", "price", "barcodes", "category")}


PUBLISHER: web.AppKey[Publisher] = web.AppKey("kassa_publisher")


def setup(app: web.Application, data_dir: Path | str, clock: Clock | None = None) -> None:
    """Mount the publishing routes (``cloud.publish_http``) when HQ's master data is mounted."""
    from cloud.publish_http import mount

    mount(app, Path(data_dir), clock)
