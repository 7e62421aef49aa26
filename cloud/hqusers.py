"""HQ's users: accounts with argon2id passwords and a role, sessions, and the lock-out.

``<hq>/hqusers.sqlite`` (WAL, 0600) holds:

* users — name, role (``cloud.hqauth.ROLES``: admin, catalogue, finance, support), the argon2id
  hash of the password, active or not;
* sessions — the SHA-256 of a random token (the token itself is never stored); a session ends
  after ``idle_s`` without a request (30 minutes) and at the latest ``max_s`` after sign-in (12 h);
  a user made inactive, or given another role, acts with the new state from the next request;
* attempts — sign-in attempts per user name and per client address, counted BEFORE the password
  is checked (so a burst of parallel guesses is counted in full): more than ``USER_LIMIT`` (5)
  attempts on a name within ``WINDOW_S`` (15 minutes) locks the name, more than ``ADDR_LIMIT`` (20)
  from one address locks the address, each for ``LOCK_S`` (15 minutes); a good password resets the
  name's count, never the address's.

The first administrator: ``kassa admin user add --role admin NAME`` (the password is read from
stdin or asked for, never given on the command line).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cloud.hqauth import ROLES
from cloud.master_db import Db
from domain.error_codes.hqmaster import HqUser
from domain.errors import Conflict, InvalidInput, NotFound, Throttled, Unauthorized
from domain.ports import Clock, SystemClock

__all__ = ["HqUsers", "Session", "USER_LIMIT", "ADDR_LIMIT", "WINDOW_S", "LOCK_S"]

DB_FILE = "hqusers.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS users(
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, active INTEGER NOT NULL,
    created_us INTEGER NOT NULL, changed_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
    token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, created_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL, addr TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts(
    key TEXT PRIMARY KEY, n INTEGER NOT NULL, since_us INTEGER NOT NULL,
    locked_until_us INTEGER NOT NULL);
"""
US = 1_000_000
USER_LIMIT, ADDR_LIMIT = 5, 20
WINDOW_S = LOCK_S = 15 * 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
RESERVED = {"token", "open"}  # who the HQ token and open reads act as
Session = dict[str, Any]  # {token, user, role, expires_us}


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: Any) -> str:
    if role not in ROLES:
        raise InvalidInput(HqUser.UNKNOWN_ROLE, f"role is one of {', '.join(ROLES)}", field="role")
    return str(role)


def check_password(password: Any) -> str:
    if not isinstance(password, str) or not 10 <= len(password) <= 256:
        raise InvalidInput(HqUser.WEAK_PASSWORD, "a password has 10 to 256 characters")
    return password


class HqUsers:
    def __init__(
        self,
        hq_dir: Path | str,
        clock: Clock | None = None,
        *,
        idle_s: int = 30 * 60,
        max_s: int = 12 * 3600,
        hasher: PasswordHasher | None = None,
        audit: Callable[[str, str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.db = Db(Path(hq_dir) / DB_FILE, SCHEMA)
        self.idle_us, self.max_us = idle_s * US, max_s * US
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106's low-memory profile
        self._dummy = self.hasher.hash(secrets.token_hex(16))
        self._audit = audit

    def close(self) -> None:
        self.db.close()

    def _log(self, who: str, what: str, detail: dict[str, Any]) -> None:
        if self._audit is not None:
            self._audit(who, what, detail)

    # ------------------------------------------------------------ accounts
    def users(self) -> list[dict[str, Any]]:
        return [
            {"user": r[0], "role": r[1], "active": bool(r[2]), "created_us": r[3]}
            for r in self.db.con.execute(
                "SELECT name, role, active, created_us FROM users ORDER BY name"
            )
        ]

    def add(self, name: str, role: str, password: str, who: str) -> dict[str, Any]:
        if not isinstance(name, str) or not _NAME.match(name) or name in RESERVED:
            raise InvalidInput(HqUser.BAD_NAME, "a user name: small letters, digits, . - _")
        check_role(role)
        digest = self.hasher.hash(check_password(password))
        now = self.clock.now_us()
        with self.db.write() as con:
            if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(HqUser.EXISTS, f"user {name} exists")
            con.execute(
                "INSERT INTO users(name, role, hash, active, created_us, changed_us)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (name, role, digest, now, now),
            )
        self._log(who, "user.add", {"user": name, "role": role})
        return {"user": name, "role": role, "active": True, "created_us": now}

    def change(
        self,
        name: str,
        who: str,
        *,
        role: str | None = None,
        active: bool | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        """Change a user's role, active flag or password; a password change or making the user
        inactive ends the user's sessions. HQ keeps at least one active admin."""
        if role is not None:
            check_role(role)
        if active is not None and not isinstance(active, bool):
            raise InvalidInput("input.bad_field", "active is true or false", field="active")
        digest = None if password is None else self.hasher.hash(check_password(password))
        with self.db.write() as con:
            row = con.execute("SELECT role, active FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(HqUser.NOT_FOUND, f"no user {name}")
            new_role = row[0] if role is None else role
            new_active = bool(row[1]) if active is None else active
            if row[0] == "admin" and row[1] and not (new_role == "admin" and new_active):
                others = con.execute(
                    "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND name != ?",
                    (name,),
                ).fetchone()[0]
                if not others:
                    raise Conflict(HqUser.LAST_ADMIN, "HQ keeps one active admin")
            con.execute(
                "UPDATE users SET role = ?, active = ?, hash = coalesce(?, hash), changed_us = ?"
                " WHERE name = ?",
                (new_role, int(new_active), digest, self.clock.now_us(), name),
            )
            if digest is not None or not new_active:
                con.execute("DELETE FROM sessions WHERE user = ?", (name,))
        detail: dict[str, Any] = {"user": name}
        if role is not None:
            detail["role"] = role
        if active is not None:
            detail["active"] = active
        if password is not None:
            detail["password"] = "changed"
        self._log(who, "user.change", detail)
        return {"user": name, "role": new_role, "active": new_active}

    # ------------------------------------------------------------ sign-in
    def _count(self, con: Any, key: str, limit: int, now: int) -> bool:
        """Count one attempt on ``key``; True if ``key`` is (now) locked."""
        row = con.execute(
            "SELECT n, since_us, locked_until_us FROM attempts WHERE key = ?", (key,)
        ).fetchone()
        n, since, locked = row if row else (0, now, 0)
        if locked > now:
            return True
        if since + WINDOW_S * US <= now:
            n, since = 0, now
        n += 1
        locked = now + LOCK_S * US if n > limit else 0
        con.execute(
            "INSERT OR REPLACE INTO attempts(key, n, since_us, locked_until_us)"
            " VALUES (?, ?, ?, ?)",
            (key, n, since, locked),
        )
        return bool(locked)

    def login(self, name: Any, password: Any, addr: str) -> Session:
        """A new session for ``name``, or ``hquser.bad_login`` / ``hquser.locked`` /
        ``hquser.throttled``. The attempt is counted before the password is looked at."""
        name = name if isinstance(name, str) else ""
        password = password if isinstance(password, str) else ""
        now = self.clock.now_us()
        with self.db.write() as con:
            addr_locked = self._count(con, f"addr:{addr}", ADDR_LIMIT, now)
            user_locked = self._count(con, f"user:{name[:64]}", USER_LIMIT, now)
        if addr_locked:
            raise Throttled(HqUser.THROTTLED, "too many sign-in attempts from this address")
        if user_locked:
            self._log(name[:64] or "?", "user.locked", {"addr": addr})
            raise Throttled(HqUser.LOCKED, "too many sign-in attempts for this user")
        row = self.db.con.execute(
            "SELECT hash, role, active FROM users WHERE name = ?", (name,)
        ).fetchone()
        try:
            self.hasher.verify(row[0] if row else self._dummy, password[:256])
            ok = row is not None and bool(row[2])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            raise Unauthorized(HqUser.BAD_LOGIN, "wrong user name or password")
        token = secrets.token_urlsafe(32)
        with self.db.write() as con:
            if self.hasher.check_needs_rehash(row[0]):  # the hasher's parameters were raised
                con.execute(
                    "UPDATE users SET hash = ? WHERE name = ?", (self.hasher.hash(password), name)
                )
            con.execute("DELETE FROM attempts WHERE key = ?", (f"user:{name}",))
            con.execute(
                "INSERT INTO sessions(token_hash, user, created_us, last_us, addr)"
                " VALUES (?, ?, ?, ?, ?)",
                (_hash_token(token), name, now, now, addr),
            )
            con.execute(
                "DELETE FROM sessions WHERE last_us < ? OR created_us < ?",
                (now - self.idle_us, now - self.max_us),
            )
        self._log(name, "user.login", {"addr": addr})
        return {"token": token, "user": name, "role": row[1], "expires_us": now + self.idle_us}

    def resolve(self, token: str) -> tuple[str, str] | None:
        """(user, role) of a live session, touching its idle timer; None otherwise."""
        if not token:
            return None
        now = self.clock.now_us()
        key = _hash_token(token)
        row = self.db.con.execute(
            "SELECT s.user, u.role, u.active, s.created_us, s.last_us FROM sessions s"
            " JOIN users u ON u.name = s.user WHERE s.token_hash = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        user, role, active, created, last = row
        if not active or last + self.idle_us <= now or created + self.max_us <= now:
            return None
        if now - last >= 30 * US:  # a write at most every 30 s per session
            with self.db.write() as con:
                con.execute("UPDATE sessions SET last_us = ? WHERE token_hash = ?", (now, key))
        return str(user), str(role)

    def expires_us(self, token: str) -> int:
        row = self.db.con.execute(
            "SELECT created_us, last_us FROM sessions WHERE token_hash = ?", (_hash_token(token),)
        ).fetchone()
        return 0 if row is None else min(row[1] + self.idle_us, row[0] + self.max_us)

    def logout(self, token: str) -> None:
        with self.db.write() as con:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash_token(token),))
