"""The cloud's own small database (``<data>/cloud.sqlite``): registered stores and their HMAC
secrets, alerts HQ must see, and the request nonces seen recently per store (replay refusal).

The secrets are kept in clear because HMAC needs them to verify; the file is mode 0600 in a 0700
folder.
"""

from __future__ import annotations

import secrets as _secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud.hqauth import private_dir, private_file

__all__ = ["Registry", "StoreEntry", "valid_store_id"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    id      TEXT PRIMARY KEY,
    secret  TEXT NOT NULL,
    zone    TEXT NOT NULL DEFAULT 'UTC',
    name    TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    active  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS alerts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    store   TEXT NOT NULL,
    code    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    message TEXT NOT NULL,
    first   INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    count   INTEGER NOT NULL DEFAULT 1,
    UNIQUE (store, code, seq)
);
CREATE TABLE IF NOT EXISTS nonces (
    store   TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (store, nonce)
);
DROP TABLE IF EXISTS seen;
"""


def valid_store_id(store: str) -> bool:
    return 1 <= len(store) <= 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in store)


@dataclass(frozen=True, slots=True)
class StoreEntry:
    id: str
    secret: bytes
    zone: str
    name: str
    active: bool


class Registry:
    def __init__(self, data_dir: Path | str) -> None:
        self.dir = private_dir(Path(data_dir))
        path = private_file(self.dir / "cloud.sqlite")
        self.con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.execute("PRAGMA busy_timeout=10000")
        self.con.executescript(SCHEMA)
        self.lock = threading.Lock()
        self._cache: dict[str, StoreEntry] = {}
        self._seen: dict[tuple[str, str], int] = {}
        self._seen_loaded = False
        self._prune_at = 4096

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ stores
    def add_store(self, store: str, zone: str = "UTC", name: str = "", now_us: int = 0) -> str:
        """Register a store; returns the hex secret to install on it."""
        if not valid_store_id(store):
            raise ValueError("a store id is 1–32 letters, digits, '-' or '_'")
        secret = _secrets.token_hex(32)
        with self.lock:
            try:
                self.con.execute(
                    "INSERT INTO stores(id, secret, zone, name, created) VALUES (?,?,?,?,?)",
                    (store, secret, zone, name, now_us),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"store {store} is already registered") from None
            self._cache.pop(store, None)
        return secret

    def rotate_secret(self, store: str) -> str:
        secret = _secrets.token_hex(32)
        with self.lock:
            cur = self.con.execute("UPDATE stores SET secret = ? WHERE id = ?", (secret, store))
            if cur.rowcount != 1:
                raise KeyError(store)
            self._cache.pop(store, None)
        return secret

    def store(self, store: str) -> StoreEntry | None:
        e = self._cache.get(store)
        if e is not None:
            return e
        with self.lock:
            row = self.con.execute(
                "SELECT id, secret, zone, name, active FROM stores WHERE id = ?", (store,)
            ).fetchone()
        if row is None:
            return None
        e = StoreEntry(row[0], bytes.fromhex(row[1]), row[2], row[3], bool(row[4]))
        self._cache[store] = e
        return e

    def stores(self) -> list[StoreEntry]:
        with self.lock:
            rows = self.con.execute(
                "SELECT id, secret, zone, name, active FROM stores ORDER BY id"
            ).fetchall()
        return [StoreEntry(r[0], bytes.fromhex(r[1]), r[2], r[3], bool(r[4])) for r in rows]

    # ------------------------------------------------------------ replay
    def remember_nonce(self, store: str, nonce: str, now_us: int, window_s: int) -> bool:
        """True the first time a store's request nonce is seen within the window; False for a
        replay. The nonce is signed, so a replay cannot change it; the signature's spelling (case,
        spaces) plays no part."""
        key = (store, nonce)
        with self.lock:
            if not self._seen_loaded:
                for s, n, exp in self.con.execute(
                    "SELECT store, nonce, expires FROM nonces WHERE expires > ?", (now_us,)
                ):
                    self._seen[(s, n)] = exp
                self._seen_loaded = True
            exp = self._seen.get(key)
            if exp is not None and exp > now_us:
                return False
            expires = now_us + 2 * window_s * 1_000_000
            self._seen[key] = expires
            self.con.execute(
                "INSERT OR REPLACE INTO nonces(store, nonce, expires) VALUES (?,?,?)",
                (store, nonce, expires),
            )
            if len(self._seen) > self._prune_at:  # amortised: many stores keep many live nonces
                self._seen = {k: e for k, e in self._seen.items() if e > now_us}
                self.con.execute("DELETE FROM nonces WHERE expires <= ?", (now_us,))
                self._prune_at = max(4096, 2 * len(self._seen))
            return True

    # ------------------------------------------------------------ alerts
    def alert(self, store: str, code: str, seq: int, message: str, now_us: int) -> None:
        with self.lock:
            self.con.execute(
                "INSERT INTO alerts(store, code, seq, message, first, last) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(store, code, seq) DO UPDATE SET count = count + 1,"
                " last = excluded.last, message = excluded.message",
                (store, code, seq, message, now_us, now_us),
            )

    def alerts(self, store: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT id, store, code, seq, message, first, last, count FROM alerts"
        args: tuple = ()
        if store:
            q += " WHERE store = ?"
            args = (store,)
        with self.lock:
            rows = self.con.execute(q + " ORDER BY id", args).fetchall()
        keys = ("id", "store", "code", "seq", "message", "first_us", "last_us", "count")
        return [dict(zip(keys, r, strict=True)) for r in rows]
