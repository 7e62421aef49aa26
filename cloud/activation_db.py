"""HQ's activation requests: ``<hq>/activation.sqlite`` (WAL, 0600), one row per (licence,
install). ``Activations`` takes a store's request, answers its status (with HQ's signed activation
once approved) and records HQ's decisions; the one-install rule is
``domain.licence_activation.approval_conflicts``. Every call opens its own connection, so the
cloud and the ``kassa admin`` CLI never hold a stale copy."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloud.hqauth import private_dir, private_file
from cloud.licence import LicenceAuthority
from domain.errors import NotFound
from domain.licence_activation import (
    Activation,
    approval_conflicts,
    check_request,
    sign_activation,
)
from domain.ports import Clock

__all__ = ["Activations", "DB_NAME"]

DB_NAME = "activation.sqlite"
_COLS = (
    "id",
    "licence_id",
    "store",
    "install_id",
    "status",
    "requested_at",
    "last_seen_at",
    "decided_at",
    "decided_by",
    "note",
    "activation",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS activations (
    id TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL,
    store TEXT NOT NULL,
    install_id TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    activation TEXT NOT NULL DEFAULT '',
    UNIQUE (licence_id, install_id)
);
CREATE TABLE IF NOT EXISTS first_install (
    licence_id TEXT PRIMARY KEY,
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL
);
"""


class Activations:
    def __init__(self, hq_dir: Path | str, authority: LicenceAuthority | None = None) -> None:
        self.dir = private_dir(Path(hq_dir))
        self.authority = authority or LicenceAuthority(self.dir)
        self.path = self.dir / DB_NAME
        private_file(self.path)
        with self._db() as con:
            con.executescript(_SCHEMA)

    @property
    def clock(self) -> Clock:
        return self.authority.clock

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            con.row_factory = sqlite3.Row
            yield con
        finally:
            con.close()

    @staticmethod
    def _row(r: sqlite3.Row) -> dict[str, Any]:
        d = {k: r[k] for k in _COLS}
        d["activation"] = json.loads(d["activation"]) if d["activation"] else None
        return d

    # ------------------------------------------------------------ the store asks
    def request(self, body: Any) -> dict[str, Any]:
        """A store's request (``domain.licence_activation.check_request``): recorded as pending
        the first time; the answer is ``{id, status, install_id, activation}``."""
        auth = self.authority
        lic, store, install = check_request(body, auth.key.public_key())
        revoked = auth.revoked()
        now = self.clock.now_us()
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            r = con.execute(
                "SELECT * FROM activations WHERE licence_id=? AND install_id=?",
                (lic.licence_id, install),
            ).fetchone()
            if r is None:
                rid = f"A-{secrets.token_hex(4).upper()}"
                con.execute(
                    "INSERT INTO activations (id, licence_id, store, install_id, status, "
                    "requested_at, last_seen_at) VALUES (?,?,?,?,?,?,?)",
                    (rid, lic.licence_id, store, install, "pending", now, now),
                )
            else:  # asked again (polling, or confirming): the answer is HQ's decision so far
                rid = r["id"]
                con.execute("UPDATE activations SET last_seen_at=? WHERE id=?", (now, rid))
            con.execute("COMMIT")
        rec = self.get(rid)
        if rec["status"] == "pending" and self._first_granted(lic.licence_id):
            rec = self.approve(
                rid, "first-install", note="approved in advance for the first install"
            )
        if lic.licence_id in revoked and rec["status"] != "approved":
            rec["status"] = "denied"
        return {
            "id": rid,
            "status": rec["status"],
            "install_id": install,
            "licence_id": lic.licence_id,
            "activation": rec["activation"] if rec["status"] == "approved" else None,
        }

    def allow_first(self, licence_id: str, who: str) -> None:
        """Approve in advance the first install that asks for ``licence_id`` (a new store set up
        from HQ's setup bundle: its setup code is the second factor). Used once."""
        with self._db() as con:
            con.execute(
                "INSERT OR REPLACE INTO first_install VALUES (?,?,?)",
                (licence_id, who, self.clock.now_us()),
            )

    def _first_granted(self, licence_id: str) -> bool:
        """Take the advance approval for ``licence_id`` if there is one and no install holds the
        licence yet."""
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            held = con.execute(
                "SELECT 1 FROM activations WHERE licence_id=? AND status='approved'", (licence_id,)
            ).fetchone()
            cur = con.execute("DELETE FROM first_install WHERE licence_id=?", (licence_id,))
            con.execute("COMMIT" if not held else "ROLLBACK")
            return cur.rowcount == 1 and not held

    # ------------------------------------------------------------ HQ decides
    def get(self, rid: str) -> dict[str, Any]:
        with self._db() as con:
            r = con.execute("SELECT * FROM activations WHERE id=?", (rid,)).fetchone()
        if r is None:
            raise NotFound("activation.not_found", f"no activation request {rid}")
        return self._row(r)

    def rows(self, status: str | None = None, licence: str | None = None) -> list[dict[str, Any]]:
        q, args = "SELECT * FROM activations WHERE 1=1", list[str]()
        if status:
            q, args = q + " AND status=?", [*args, status]
        if licence:
            q, args = q + " AND licence_id=?", [*args, licence]
        with self._db() as con:
            rows = con.execute(q + " ORDER BY requested_at, id", args).fetchall()
        return [self._row(r) for r in rows]

    def approve(self, rid: str, who: str, move: bool = False, note: str = "") -> dict[str, Any]:
        """Approve request ``rid``: HQ signs the activation. Refused while the licence is active
        on another install, unless ``move`` (that install is released by this approval)."""
        key = self.authority.key
        now = self.clock.now_us()
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            r = con.execute("SELECT * FROM activations WHERE id=?", (rid,)).fetchone()
            if r is None:
                con.execute("ROLLBACK")
                raise NotFound("activation.not_found", f"no activation request {rid}")
            rec = self._row(r)
            same = [
                self._row(x)
                for x in con.execute(
                    "SELECT * FROM activations WHERE licence_id=?", (rec["licence_id"],)
                )
            ]
            try:
                release = approval_conflicts(same, rec, move)
            except Exception:
                con.execute("ROLLBACK")
                raise
            if rec["status"] != "approved":
                for other in release:
                    con.execute(
                        "UPDATE activations SET status='released', decided_at=?, decided_by=?, "
                        "note=?, activation='' WHERE id=?",
                        (now, who, f"moved to {rec['install_id']}", other),
                    )
                act = Activation(rec["licence_id"], rec["store"], rec["install_id"], now)
                con.execute(
                    "UPDATE activations SET status='approved', decided_at=?, decided_by=?, "
                    "note=?, activation=? WHERE id=?",
                    (now, who, note, json.dumps(sign_activation(act, key)), rid),
                )
            con.execute("COMMIT")
        return self.get(rid)

    def _decide(self, rid: str, status: str, who: str, note: str, allowed: tuple[str, ...]):
        from domain.errors import Conflict

        rec = self.get(rid)
        if rec["status"] not in allowed:
            raise Conflict(
                "activation.not_pending",
                f"activation {rid} is {rec['status']}",
                status=rec["status"],
            )
        with self._db() as con:
            con.execute(
                "UPDATE activations SET status=?, decided_at=?, decided_by=?, note=?, "
                "activation='' WHERE id=?",
                (status, self.clock.now_us(), who, note, rid),
            )
        return self.get(rid)

    def deny(self, rid: str, who: str, note: str = "") -> dict[str, Any]:
        return self._decide(rid, "denied", who, note, ("pending",))

    def release(self, rid: str, who: str, note: str = "") -> dict[str, Any]:
        """The install of an approved activation no longer holds the licence (a PC replaced):
        another install may be approved; this one drops its activation when it next confirms
        online, and opens no day until HQ approves it again."""
        return self._decide(rid, "released", who, note, ("approved",))

    def carry_over(self, old_licence: str, new_licence: str, who: str) -> list[str]:
        """A renewal: the installs that hold ``old_licence`` hold ``new_licence`` too (approved
        at once, so a renewed store opens its day without waiting for HQ)."""
        key = self.authority.key
        now = self.clock.now_us()
        out = []
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            for r in con.execute(
                "SELECT * FROM activations WHERE licence_id=? AND status='approved'",
                (old_licence,),
            ).fetchall():
                rid = f"A-{secrets.token_hex(4).upper()}"
                act = Activation(new_licence, r["store"], r["install_id"], now)
                con.execute(
                    "INSERT OR IGNORE INTO activations (id, licence_id, store, install_id, "
                    "status, requested_at, last_seen_at, decided_at, decided_by, note, "
                    "activation) VALUES (?,?,?,?,'approved',?,?,?,?,?,?)",
                    (
                        rid,
                        new_licence,
                        r["store"],
                        r["install_id"],
                        now,
                        now,
                        now,
                        who,
                        f"renewal of {old_licence}",
                        json.dumps(sign_activation(act, key)),
                    ),
                )
                out.append(r["install_id"])
            con.execute("COMMIT")
        return out
