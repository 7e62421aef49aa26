"""Staff sign-in for the gateway: PIN hashing, session tokens, the gateway's mirror of the staff
book.

* PINs (or passwords) are hashed with argon2id (argon2-cffi's RFC 9106 low-memory profile: t=3,
  m=64 MiB, p=4 — above OWASP's minimum of m=19 MiB, t=2, p=1). Verifying takes ~0.1 s of CPU, so
  the gateway runs it in a thread.
* The hash is journaled sealed (AES-256-GCM, the staff id as associated data) with the store's own
  key ``<data>/pin_key`` (0600), so the journal that HQ receives holds nothing to guess a PIN from.
  A lost key makes every sealed PIN unreadable (``auth.pin_reset_needed``): set the PINs again on
  the store PC with ``kassa store set-pin`` (which makes a new key).
* ``Throttle`` makes a client address wait (``auth.throttled``, 429, ``retry_after_s``) once it has
  typed ``ip_free_failures`` wrong PINs, doubling the wait per further wrong PIN: one till on the
  LAN cannot lock the manager and the admin out by guessing.
* A session token is ``HMAC-SHA256(secret, command id | staff | till)``, base64url: a retried
  sign-in (same command id, right PIN) gets the same token back. Only ``sha256(token)`` is journaled
  (``auth.signed_in``), so sessions survive a restart of the store server while the token itself is
  only on the till. The secret lives in ``<data>/auth_secret`` (0600).
* ``Directory`` mirrors the ledger's staff book (accounts, permissions, sessions, days) in the
  gateway process, so checking a session and a permission on every request costs a dict look-up.
  It is reloaded from the ledger after every staff/auth/day event the gateway commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import Conflict, Forbidden, InvalidInput, Throttled, Unauthorized
from domain.staff import ACTIONS, LOCK_S, MAX_FAILURES, SEALED_PREFIX, Permissions, failure_lock_end
from domain.store import AuthPolicy

__all__ = [
    "hash_pin",
    "verify_pin",
    "check_pin",
    "token_hash",
    "make_token",
    "load_secret",
    "load_pin_key",
    "seal_pin_hash",
    "unseal_pin_hash",
    "sealed_pin",
    "Throttle",
    "Session",
    "Directory",
    "HASHER",
]

HASHER = PasswordHasher()  # argon2id, t=3, m=65536 KiB, p=4


# the demo shop's staff: (id, name, role, language, PIN) — documented in docs/readme/gateway.md
def check_pin(pin: object, field: str = "pin") -> str:
    if not isinstance(pin, str) or not 4 <= len(pin) <= 64 or not pin.isprintable():
        raise InvalidInput("auth.bad_pin_format", "a PIN is 4–64 characters", field=field)
    return pin


def hash_pin(pin: str) -> str:
    return HASHER.hash(check_pin(pin))


def verify_pin(pin_hash: str, pin: str) -> bool:
    try:
        return HASHER.verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(secret: bytes, cid: str, staff: str, till: str) -> str:
    mac = hmac.new(secret, f"{cid}|{staff}|{till}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def load_secret(data_dir: Path) -> bytes:
    """The store's session-token secret (created on first use, readable by the owner only)."""
    return _owner_secret(Path(data_dir) / "auth_secret")


def load_pin_key(data_dir: Path) -> bytes:
    """The store's key that seals PIN hashes (created on first use, readable by the owner only).
    It never leaves the store PC; back it up with the data folder."""
    return _owner_secret(Path(data_dir) / "pin_key")


def _owner_secret(path: Path) -> bytes:
    """32 random bytes kept as hex in ``path`` (0600), made by the first caller."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # first writer wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())


def _aad(staff: str) -> bytes:
    return b"kassa-pin|" + staff.encode()


def seal_pin_hash(key: bytes, staff: str, pin_hash: str) -> str:
    """``pin_hash`` sealed for the journal: only a holder of ``key`` can open it, and only as the
    hash of ``staff``'s PIN."""
    nonce = secrets.token_bytes(12)
    blob = nonce + AESGCM(key).encrypt(nonce, pin_hash.encode(), _aad(staff))
    return SEALED_PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")


def unseal_pin_hash(key: bytes, staff: str, stored: str) -> str:
    """The argon2id hash in a journaled PIN hash (sealed, or plain from an older journal); 409
    ``auth.pin_reset_needed`` when it cannot be opened (the store's key was lost or replaced)."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    try:
        raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :] + "==")
        return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(staff)).decode()
    except (InvalidTag, ValueError):
        raise Conflict(
            "auth.pin_reset_needed",
            "this PIN cannot be read with the store's key; "
            "set it again on the store PC (kassa store set-pin)",
            staff=staff,
        ) from None


def sealed_pin(key: bytes, staff: str, pin: str) -> str:
    """Hash ``pin`` (argon2id, ~0.1 s: call it off the event loop) and seal the hash."""
    return seal_pin_hash(key, staff, hash_pin(pin))


class Throttle:
    """Back-off per client address for wrong PINs (in memory; a restart forgets it).

    ``begin(ip)`` before checking a PIN (429 ``auth.throttled`` with ``retry_after_s`` if the
    address must wait), ``end(ip, failed)`` after. An attempt in flight counts as a failure until
    it ends, so concurrent guesses from one address cannot pass together. IPv6 addresses count
    per /64."""

    MAX_ADDRESSES = 4096

    def __init__(self, policy: AuthPolicy, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self.clock = clock
        self.addrs: dict[str, list[float]] = {}  # key -> [failures, in flight, last failure]

    @staticmethod
    def key(ip: str) -> str:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return ip
        if isinstance(addr, ipaddress.IPv6Address):
            if addr.ipv4_mapped is not None:
                return str(addr.ipv4_mapped)
            return str(ipaddress.ip_network(f"{addr}/64", strict=False))
        return str(addr)

    def wait_s(self, n: int) -> float:
        p = self.policy
        if n < p.ip_free_failures:
            return 0.0
        return float(min(p.ip_backoff_max_s, p.ip_backoff_s * 2 ** min(n - p.ip_free_failures, 40)))

    def begin(self, ip: str) -> None:
        k, now = self.key(ip), self.clock()
        rec = self.addrs.get(k)
        if rec is None:
            if len(self.addrs) >= self.MAX_ADDRESSES:
                self._prune(now)
            rec = self.addrs[k] = [0, 0, 0.0]
        elif rec[1] == 0 and now - rec[2] > self.policy.ip_forget_s:
            rec[0] = 0
        n = int(rec[0] + rec[1])
        if n >= self.policy.ip_free_failures:
            left = rec[2] + self.wait_s(n) - now
            if rec[1] or left > 0:
                raise Throttled(
                    "auth.throttled",
                    "too many wrong PINs from this address; wait",
                    retry_after_s=max(1, math.ceil(left)),
                )
        rec[1] += 1

    def end(self, ip: str, failed: bool) -> None:
        rec = self.addrs.get(self.key(ip))
        if rec is None:
            return
        rec[1] = max(0, rec[1] - 1)
        if failed:
            rec[0] += 1
            rec[2] = self.clock()

    def _prune(self, now: float) -> None:
        for k in [
            k for k, r in self.addrs.items() if not r[1] and now - r[2] > self.policy.ip_forget_s
        ]:
            del self.addrs[k]
        if len(self.addrs) >= self.MAX_ADDRESSES:  # a flood of fresh addresses: oldest go
            for k in sorted(
                (k for k, r in self.addrs.items() if not r[1]), key=lambda k: self.addrs[k][2]
            )[: len(self.addrs) // 2]:
                del self.addrs[k]


@dataclass
class Session:
    session: str  # sha256 of the token
    staff: str
    till: str
    ts: int  # signed in at (UTC µs)
    last: float  # last request (time.time())


class Directory:
    """The gateway's mirror of the staff book, and the session checks done on every request."""

    def __init__(
        self,
        idle_timeout_s: float = 900.0,
        lock_s: float = LOCK_S,
        max_failures: int = MAX_FAILURES,
        clock: Any = time.time,
    ) -> None:
        self.started = clock()  # a restart of the server gives open sessions a fresh idle window
        self.idle_timeout_s = idle_timeout_s
        self.lock_s = lock_s
        self.max_failures = max_failures
        self.clock = clock
        self.accounts: dict[str, dict[str, Any]] = {}
        self.permissions = Permissions()
        self.sessions: dict[str, Session] = {}
        self.days: dict[str, dict[str, Any]] = {}
        self.approvals: dict[str, dict[str, Any]] = {}  # one-time approval tokens

    # ------------------------------------------------------------ mirror
    def load(self, state: dict[str, Any]) -> None:
        self.accounts = dict(state.get("accounts", {}))
        self.permissions = Permissions(
            {k: tuple(v) for k, v in state.get("permissions", {}).items()}
        )
        self.days = dict(state.get("days", {}))
        old = self.sessions
        fresh: dict[str, Session] = {}
        for key, rec in state.get("sessions", {}).items():
            journal_last = rec.get("last_ts", rec.get("ts", 0)) / 1e6
            prev = old.get(key)
            fresh[key] = Session(
                key,
                rec["staff"],
                rec["till"],
                rec["ts"],
                max(journal_last, prev.last if prev else self.started),
            )
        self.sessions = fresh

    # ------------------------------------------------------------ checks
    def session(self, token: str | None) -> Session:
        """The live session of ``token`` (touched), or 401."""
        if not token:
            raise Unauthorized("auth.required", "sign in first (Authorization: Bearer <token>)")
        s = self.sessions.get(token_hash(token))
        if s is None:
            raise Unauthorized("auth.session_expired", "this session has ended; sign in again")
        acc = self.accounts.get(s.staff)
        if acc is None or not acc.get("active", True) or acc.get("locked") or self.lock_left(acc):
            raise Unauthorized("auth.session_expired", "this account can no longer sign in")
        return s

    def lock_left(self, acc: dict[str, Any]) -> float:
        """Seconds until the account's failure lock ends (0: not locked by failures)."""
        end = failure_lock_end(
            acc.get("failures", 0),
            acc.get("locked_until", 0),
            acc.get("last_failure_ts", 0),
            self.max_failures,
            int(self.lock_s),
        )
        return max(0.0, end / 1e6 - self.clock()) if end else 0.0

    def idle(self, s: Session) -> bool:
        return self.clock() - s.last > self.idle_timeout_s

    def touch(self, s: Session) -> None:
        s.last = self.clock()

    def role_of(self, staff: str) -> str:
        return str(self.accounts.get(staff, {}).get("role", ""))

    def allows(self, staff: str, action: str) -> bool:
        return self.permissions.allows(self.role_of(staff), action)

    def allowed_actions(self, staff: str) -> list[str]:
        role = self.role_of(staff)
        return [a for a in ACTIONS if self.permissions.allows(role, a)]

    def may_try(self, staff: str) -> dict[str, Any]:
        """The account, if a PIN may be tried for it now; else 401/403 (nothing journaled)."""
        acc = self.accounts.get(staff)
        if acc is None:
            raise Unauthorized("auth.bad_credentials", "unknown staff or wrong PIN")
        if not acc.get("active", True):
            raise Forbidden("auth.inactive", "this account is not active", staff=staff)
        if acc.get("locked"):
            raise Forbidden(
                "auth.locked",
                "this account is locked; a manager unlocks it",
                staff=staff,
                reason=acc.get("locked_reason", ""),
            )
        left = self.lock_left(acc)
        if left > 0:
            raise Forbidden(
                "auth.locked",
                "too many wrong PINs; wait or ask a manager",
                staff=staff,
                reason="failures",
                retry_after_s=int(left) + 1,
            )
        return acc

    # ------------------------------------------------------------ approvals
    def grant_approval(self, approver: str, action: str, till: str, ttl_s: float = 120.0) -> str:
        now = self.clock()
        for k in [k for k, v in self.approvals.items() if v["expires"] < now]:
            del self.approvals[k]
        token = secrets.token_urlsafe(24)
        self.approvals[token] = {
            "approver": approver,
            "action": action,
            "till": till,
            "expires": now + ttl_s,
        }
        return token

    def use_approval(self, token: str, action: str, till: str) -> str:
        rec = self.approvals.get(token)
        if rec is None or rec["expires"] < self.clock():
            raise Forbidden("auth.approval_invalid", "this approval has expired or was used")
        if rec["action"] != action or rec["till"] != till:
            raise Forbidden(
                "auth.approval_invalid",
                "this approval is for another action or till",
                action=rec["action"],
            )
        del self.approvals[token]
        return rec["approver"]

    # ------------------------------------------------------------ days
    def open_tills(self) -> list[str]:
        return sorted(t for t, d in self.days.items() if d.get("open"))
