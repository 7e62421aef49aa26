"""HQ's members and their money: ``<data>/members/members.sqlite`` (0600 in a 0700 folder).

``MembersHQ.follow`` reads every store's uploaded events past its mark (``cloud.ingest``'s
``stores/<id>/events.sqlite``) and folds them: ``member.registered`` / ``member.updated`` into the
members table (each change gets the next chain-wide ``version``, which ``changes(since)`` pages
by), and every event through the chain rule (``domain.member_pool.Pool``: each store's floats and
what its credits sent to the pool). What HQ itself gives out (authorisations, grants, opening
balances from an import) is kept in ``given``. All of it is rebuilt into memory at start.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from cloud.hqauth import private_dir, private_file
from domain.events import decode_body
from domain.member_float import KINDS, Floats
from domain.member_history import history_for, touched, widest_days
from domain.member_points import PointsFold
from domain.member_pool import Given, Pool
from domain.ports import Clock

__all__ = ["MembersHQ", "MEMBER_FIELDS"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    member TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL, card TEXT NOT NULL,
    home TEXT NOT NULL, consent INTEGER NOT NULL, version INTEGER NOT NULL, updated_us INTEGER
);
CREATE INDEX IF NOT EXISTS members_version ON members(version);
CREATE TABLE IF NOT EXISTS marks (store TEXT PRIMARY KEY, seq INTEGER NOT NULL, floats TEXT);
CREATE TABLE IF NOT EXISTS given (
    key TEXT PRIMARY KEY, id TEXT NOT NULL, what TEXT NOT NULL, store TEXT NOT NULL,
    member TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL, asked INTEGER NOT NULL,
    at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    member TEXT NOT NULL, store TEXT NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (member, store)
);
CREATE INDEX IF NOT EXISTS history_version ON history(version);
"""
MEMBER_FIELDS = ("member", "name", "phone", "card", "home")  # what a till gets (no consent)
_MEMBER_KINDS = ("member.registered", "member.updated")


def _field(body: Any, name: str, default: Any = "") -> Any:
    if isinstance(body, dict):
        return body.get(name, default)
    return getattr(body, name, default)


class MembersHQ:
    """Members chain-wide and the pool; thread-safe (one lock: the cloud's executor calls it)."""

    def __init__(self, data_dir: Path | str, ingestor: Any, registry: Any, clock: Clock) -> None:
        folder = private_dir(Path(data_dir) / "members")
        path = folder / "members.sqlite"
        private_file(path)
        self.con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.executescript(SCHEMA)
        self.ingestor, self.registry, self.clock = ingestor, registry, clock
        self.lock = threading.Lock()
        self.pool = Pool()
        self.marks: dict[str, int] = {}
        for store, seq, floats in self.con.execute("SELECT store, seq, floats FROM marks"):
            self.marks[store] = seq
            if floats:
                state = orjson.loads(floats)
                self.pool.stores[store] = Floats.from_state(state)
                self.pool.points[store] = PointsFold.from_state(state.get("points_fold"))
        self._given()
        if not self.con.execute("SELECT 1 FROM history LIMIT 1").fetchone():  # an older HQ
            for store, fold in sorted(self.pool.points.items()):
                for member in sorted(fold.loyalty.visits):
                    self._touch_member(member, store)

    def _given(self) -> None:
        """What HQ gave out, as kept (also by ``kassa admin members import`` beside the cloud)."""
        for key, gid, what, store, member, kind, amount, asked in self.con.execute(
            "SELECT key, id, what, store, member, kind, amount, asked FROM given"
        ):
            if key not in self.pool.given:
                self.pool.given[key] = Given(gid, key, what, store, member, kind, amount)
                self.pool.asked_amount[key] = asked

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ following the uploads
    def follow(self) -> int:
        """Fold every store's uploaded events past its mark; how many events were read."""
        with self.lock:
            self._given()
            n = 0
            for entry in self.registry.stores():
                n += self._follow(entry.id)
            return n

    def _follow(self, store: str) -> int:
        log, lock = self.ingestor.event_log(store)
        after = self.marks.get(store, 0)
        total = 0
        while True:
            with lock:
                rows = log.read(after, 5_000)
            if not rows:
                return total
            self.con.execute("BEGIN IMMEDIATE")
            try:
                for seq, _id, ts, kind, v, *_rest, raw, _hash in rows:
                    body = decode_body(kind, bytes(raw), v)
                    if kind in _MEMBER_KINDS:
                        self._upsert(kind, body, store, ts)
                    self.pool.fold(store, body, ts)
                    self._touch(store, body)
                    after = seq
                state = self.pool.stores.get(store, Floats()).state()
                state["points_fold"] = self.pool.points.get(store, PointsFold()).state()
                floats = orjson.dumps(state).decode()
                self.con.execute(
                    "INSERT OR REPLACE INTO marks (store, seq, floats) VALUES (?, ?, ?)",
                    (store, after, floats),
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.marks[store] = after
            total += len(rows)

    def _upsert(self, kind: str, body: Any, store: str, ts: int) -> None:
        member = str(_field(body, "member"))
        old = self.con.execute(
            "SELECT name, phone, card, home, consent FROM members WHERE member = ?", (member,)
        ).fetchone()
        if kind == "member.updated" and old is None:
            old = ("", "", "", store, 0)
        row: list[str]
        if old is None:
            row = [str(_field(body, f)) for f in MEMBER_FIELDS[1:4]]
            row.append(str(_field(body, "home") or store))
            consent = bool(_field(body, "consent", False))
        else:
            row = [str(_field(body, f, old[i])) for i, f in enumerate(MEMBER_FIELDS[1:4])]
            row.append(old[3])
            consent = bool(_field(body, "consent", bool(old[4])))
        version = self.con.execute("SELECT coalesce(max(version), 0) + 1 FROM members").fetchone()
        self.con.execute(  # in a write transaction: the next version chain-wide, never reused
            "INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (member, *(str(x) for x in row), int(consent), version[0], ts),
        )

    def _touch(self, store: str, body: Any) -> None:
        """A member's orders at ``store`` changed: the next history version (in the write
        transaction, like a member's version)."""
        fold = self.pool.points.get(store)
        for member in sorted(touched(body, fold.records if fold else {})):
            self._touch_member(member, store)

    def _touch_member(self, member: str, store: str) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO history VALUES (?, ?,"
            " (SELECT coalesce(max(version), 0) + 1 FROM history))",
            (member, store),
        )

    # ------------------------------------------------------------ reading
    def histories(
        self, asker: str, since: int, limit: int = 500, member: str = ""
    ) -> dict[str, Any]:
        """Members whose orders at stores other than ``asker`` changed after HQ's history
        version ``since`` (or the one ``member``), each with those orders per day
        (``domain.member_history``)."""
        one = " AND member = ?" if member else ""
        now, out = self.clock.now_us(), []
        with self.lock:
            rows = self.con.execute(
                f"SELECT member, max(version) AS v FROM history WHERE store != ?{one}"
                " GROUP BY member HAVING v > ? ORDER BY v LIMIT ?",
                (asker, *((member,) if member else ()), since, limit),
            ).fetchall()
            own = self.pool.points.get(asker)
            window = widest_days(own.loyalty.rules if own else None)
            for member, version in rows:
                by_store = {
                    s: f.loyalty.visits.get(member, []) for s, f in self.pool.points.items()
                }
                days = history_for(by_store, asker, now, window)
                out.append({"member": member, "version": version, "as_of_us": now, "days": days})
        return {"members": out, "next": rows[-1][1] if rows else since, "more": len(rows) == limit}

    def changes(self, since: int, limit: int = 1000) -> dict[str, Any]:
        rows = self.con.execute(
            "SELECT member, name, phone, card, home, version FROM members WHERE version > ? "
            "ORDER BY version LIMIT ?",
            (since, limit),
        ).fetchall()
        out = [dict(zip((*MEMBER_FIELDS, "version"), r, strict=True)) for r in rows]
        return {
            "members": out,
            "next": out[-1]["version"] if out else since,
            "more": len(out) == limit,
        }

    def balances(self, member: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in KINDS:
            p = self.pool
            out[kind] = {
                "balance": p.balance(member, kind),
                "pool": p.pool(member, kind),
                "floats": p.floats(member, kind),
                "in_transit": p.in_transit(member, kind),
            }
        return out

    def search(self, q: str, limit: int = 100) -> list[dict[str, Any]]:
        like = f"%{q.strip()}%"
        rows = self.con.execute(
            "SELECT member, name, phone, card, home, consent FROM members WHERE member LIKE ? "
            "OR name LIKE ? OR phone LIKE ? OR card LIKE ? ORDER BY member LIMIT ?",
            (like, like, like, like, limit),
        ).fetchall()
        with self.lock:
            return [
                {
                    **dict(zip((*MEMBER_FIELDS, "consent"), r, strict=True)),
                    "consent": bool(r[5]),
                    **self.balances(r[0]),
                }
                for r in rows
            ]

    def cards(self) -> dict[str, str]:
        return dict(self.con.execute("SELECT card, member FROM members WHERE card != ''"))

    def register(self, member: str, name: str, phone: str, card: str, consent: bool) -> None:
        """A member from HQ's import (its home is ``HQ``), or new details of one."""
        with self.lock:
            old = self.con.execute(
                "SELECT name, phone, card, consent FROM members WHERE member = ?", (member,)
            ).fetchone()
            if old == (name, phone, card, int(consent)):
                return
            body: dict[str, Any] = {"member": member, "name": name, "phone": phone, "card": card}
            self.con.execute("BEGIN IMMEDIATE")
            try:
                kind = "member.updated" if old else "member.registered"
                self._upsert(
                    kind, {**body, "home": "HQ", "consent": consent}, "HQ", self.clock.now_us()
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def known(self, member: str) -> bool:
        q = "SELECT 1 FROM members WHERE member = ?"
        return self.con.execute(q, (member,)).fetchone() is not None

    # ------------------------------------------------------------ giving out
    def _keep(self, g: Given, asked: int) -> None:
        if (
            not g.amount
            or self.con.execute("SELECT 1 FROM given WHERE key = ?", (g.key,)).fetchone()
        ):
            return
        self.con.execute(
            "INSERT INTO given VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (g.key, g.id, g.what, g.store, g.member, g.kind, g.amount, asked, self.clock.now_us()),
        )

    def authorise(self, key: str, store: str, member: str, kind: str, amount: int) -> Given:
        return self._give(self.pool.authorise, "A-", key, store, member, kind, amount)

    def grant(self, key: str, store: str, member: str, kind: str, wanted: int) -> Given:
        return self._give(self.pool.grant, "G-", key, store, member, kind, wanted)

    def _give(
        self, give: Any, prefix: str, key: str, store: str, member: str, kind: str, n: int
    ) -> Given:
        self.follow()  # the pool counts every upload HQ holds
        with self.lock:
            g: Given = give(key, store, member, kind, n, prefix + secrets.token_hex(8))
            self._keep(g, n)
            return g

    def opening(self, key: str, member: str, kind: str, amount: int) -> Given:
        with self.lock:
            g = self.pool.opening(key, member, kind, amount)
            self._keep(g, amount)
            return g
