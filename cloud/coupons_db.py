"""HQ's coupons: ``<data>/coupons/coupons.sqlite`` (0600 in a 0700 folder).

A coupon HQ issues is one row: what it is worth (``domain.loyalty.CouponIssued``'s fields), the
stores it is for (frozen at issue: the named stores, or every store HQ knew then), each store's
offline quota and a ``version`` (the next chain-wide number at issue and at revocation, which the
stores' pull pages by). Claims (a store's online use, ``domain.coupon_chain.may_claim``) are rows
of their own, idempotent by key. Thread-safe: one lock (the cloud's executor calls it).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import private_dir, private_file
from domain.coupon_chain import FIELDS, may_claim, pool_of, quota_fits
from domain.error_codes.coupon15b import CouponChain
from domain.errors import Conflict, InvalidInput, NotFound
from domain.loyalty import CouponIssued, check_coupon
from domain.ports import Clock

__all__ = ["CouponsHQ"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS coupons (
    code TEXT PRIMARY KEY, doc TEXT NOT NULL, stores TEXT NOT NULL, quota INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL, issued_us INTEGER NOT NULL,
    issued_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS coupons_version ON coupons(version);
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY, id TEXT NOT NULL, code TEXT NOT NULL, store TEXT NOT NULL,
    at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_code ON claims(code);
"""
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as the store's codes: no 0/O, 1/I
PAGE = 500


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


class CouponsHQ:
    def __init__(self, data_dir: Path | str, registry: Any, clock: Clock) -> None:
        folder = private_dir(Path(data_dir) / "coupons")
        path = folder / "coupons.sqlite"
        private_file(path)
        self.con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.executescript(SCHEMA)
        self.registry, self.clock = registry, clock
        self.lock = threading.Lock()

    def close(self) -> None:
        self.con.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction, taken at once: a running cloud and ``kassa admin coupons``
        never hand out the same version."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _version(self) -> int:
        row = self.con.execute("SELECT max(version) FROM coupons").fetchone()
        return int(row[0] or 0) + 1

    # ------------------------------------------------------------ HQ's routes
    def issue(self, doc: dict[str, Any], by: str) -> dict[str, Any]:
        """A new coupon from HQ (``doc``: the coupon's fields, ``stores``, ``quota``)."""
        try:
            c = check_coupon(
                CouponIssued(
                    code=str(doc.get("code") or _new_code()).strip().upper(),
                    kind=doc.get("kind", ""),
                    value=doc.get("value", 0),
                    min_spend=doc.get("min_spend", 0),
                    valid_from=doc.get("valid_from", 0),
                    valid_to=doc.get("valid_to", 0),
                    uses=doc.get("uses", 1),
                    member=str(doc.get("member") or ""),
                    issued_by="hq",
                )
            )
        except TypeError:
            raise InvalidInput("coupon.bad", "a coupon's fields are numbers and text") from None
        if c.uses == 0:
            raise InvalidInput("coupon.bad", "a coupon has at least one use")
        known = [s.id for s in self.registry.stores() if s.active]
        stores = doc.get("stores") or known
        if not isinstance(stores, list) or not all(s in known for s in stores):
            raise InvalidInput("input.bad_field", "stores: ids of stores HQ knows", field="stores")
        stores = sorted(set(stores))
        quota = doc.get("quota")
        if quota is None:  # half the uses offline, spread over the stores; the rest online
            quota = c.uses // (2 * len(stores)) if stores else 0
        if isinstance(quota, bool) or not isinstance(quota, int):
            raise InvalidInput("input.bad_field", "quota: a whole number", field="quota")
        if not quota_fits(c.uses, len(stores), quota):
            raise InvalidInput(
                CouponChain.QUOTA,
                "the quota per store times the stores exceeds the uses",
                uses=c.uses,
                stores=len(stores),
                quota=quota,
            )
        body = {f: getattr(c, f) for f in FIELDS}
        with self.lock, self._tx():
            if self.con.execute("SELECT 1 FROM coupons WHERE code=?", (c.code,)).fetchone():
                raise Conflict("coupon.exists", "this coupon code is taken", code=c.code)
            version = self._version()
            self.con.execute(
                "INSERT INTO coupons VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (
                    c.code,
                    orjson.dumps(body).decode(),
                    orjson.dumps(stores).decode(),
                    quota,
                    version,
                    self.clock.now_us(),
                    by,
                ),
            )
        return self.one(c.code)

    def revoke(self, code: str) -> dict[str, Any]:
        with self.lock, self._tx():
            row = self.con.execute("SELECT revoked FROM coupons WHERE code=?", (code,)).fetchone()
            if row is None:
                raise NotFound("coupon.not_found", "no such coupon", code=code)
            if not row[0]:
                self.con.execute(
                    "UPDATE coupons SET revoked=1, version=? WHERE code=?", (self._version(), code)
                )
        return self.one(code)

    def _view(self, row: tuple[Any, ...]) -> dict[str, Any]:
        code, doc, stores, quota, revoked, version, issued_us, by = row
        stores = orjson.loads(stores)
        body = orjson.loads(doc)
        claimed = self.con.execute("SELECT count(*) FROM claims WHERE code=?", (code,)).fetchone()
        return {
            **body,
            "stores": stores,
            "quota": quota,
            "pool": pool_of(body["uses"], len(stores), quota),
            "claimed": int(claimed[0]),
            "revoked": bool(revoked),
            "version": version,
            "issued_us": issued_us,
            "issued_by": by,
        }

    def one(self, code: str) -> dict[str, Any]:
        row = self.con.execute("SELECT * FROM coupons WHERE code=?", (code,)).fetchone()
        if row is None:
            raise NotFound("coupon.not_found", "no such coupon", code=code)
        return self._view(row)

    def listing(self) -> list[dict[str, Any]]:
        rows = self.con.execute("SELECT * FROM coupons ORDER BY issued_us DESC, code").fetchall()
        return [self._view(r) for r in rows]

    # ------------------------------------------------------------ the stores' routes
    def changes(self, store: str, since: int) -> dict[str, Any]:
        """The coupons for ``store`` issued or revoked after version ``since`` (a page), each
        with this store's offline quota."""
        rows = self.con.execute(
            "SELECT * FROM coupons WHERE version > ? ORDER BY version LIMIT ?", (since, PAGE + 1)
        ).fetchall()
        more = len(rows) > PAGE
        out, last = [], since
        for row in rows[:PAGE]:
            v = self._view(row)
            last = v["version"]
            if store not in v["stores"] and not v["revoked"]:
                continue  # another store's coupon (a revocation is sent to every store)
            body = {f: v[f] for f in FIELDS}
            body["uses"] = v["quota"] if store in v["stores"] else 0
            out.append({**body, "revoked": v["revoked"], "version": v["version"]})
        return {"coupons": out, "since": last, "more": more}

    def pool_left(self, code: str, store: str) -> dict[str, Any]:
        """What ``store`` could still claim of ``code`` online (0 when revoked or not its)."""
        v = self.one(code)
        left = max(0, v["pool"] - v["claimed"])
        mine = store in v["stores"] and not v["revoked"]
        return {"code": code, "left": left if mine else 0, "revoked": v["revoked"]}

    def claim(self, code: str, store: str, key: str) -> dict[str, Any]:
        """One online use of ``code`` for ``store`` from HQ's pool; the same key, the same
        answer."""
        with self.lock, self._tx():
            had = self.con.execute(
                "SELECT id, code, store FROM claims WHERE key=?", (key,)
            ).fetchone()
            if had is not None:
                if (had[1], had[2]) != (code, store):
                    raise Conflict(CouponChain.KEY_REUSED, "this key named another claim")
                return {"granted": True, "claim": had[0], "code": code}
            v = self.one(code)
            if v["revoked"]:
                raise Conflict(CouponChain.REVOKED, "HQ revoked this coupon", code=code)
            if store not in v["stores"]:
                raise NotFound("coupon.not_found", "no such coupon at this store", code=code)
            if not may_claim(v["uses"], len(v["stores"]), v["quota"], v["claimed"]):
                return {"granted": False, "claim": "", "code": code}
            cid = "C" + secrets.token_hex(8)
            self.con.execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                (key, cid, code, store, self.clock.now_us()),
            )
            return {"granted": True, "claim": cid, "code": code}
