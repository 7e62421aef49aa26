"""Staff accounts, roles, per-action permissions and sign-in sessions: events and pure rules.

Roles match the shop's counters:

* ``cashier``    — the sale counter: selling only (and only sellable products), wallet top-ups;
* ``aftersales`` — the after-sales counter: refunds, reprints, freeze/unfreeze;
* ``manager``    — reports, staff, permissions, stock, product import, opening/closing the day,
  discounts over the cashier limit, and everything the counters do;
* ``admin``      — everything, always (permissions never take anything away from admin);
* ``display``    — a device, not a person: the sales big screen (大屏). It reads the sales feed
  (totals and counts, no personal data) and nothing else.

Every action the gateway serves is named in ``ACTIONS`` with the roles allowed by default. A manager
changes an action's roles with a ``permissions.changed`` event; ``Permissions`` folds those over the
defaults. PINs are never stored: accounts carry an argon2id hash, sealed with a key that never
leaves the store PC (``SEALED_PREFIX``; computed outside ``domain``), so the journal that HQ
receives holds nothing a PIN can be guessed from. Journals written before sealing hold plain
argon2id hashes and still load.

The rules (roles, ``ACTIONS``, checks) are in ``domain.staff_rules``, the events in
``domain.staff_events``; this module holds the projection (``StaffBook``) and re-exports both.

A PIN attempt is journaled before the PIN is checked (``auth.pin_attempt``, counting a failure until
``auth.signed_in`` or ``auth.pin_accepted`` says it was right): a crash or a flood of concurrent
guesses cannot get more than ``limit`` PINs checked. The attempt that reaches the limit locks the
account until ``lock_s`` later and ends its sessions; the first attempt after that starts afresh.
Sessions are journaled by the SHA-256 of their token, so they survive a restart of the store server
while the token itself exists only on the till.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.staff_events import (
    ActionApproved,
    PermissionsChanged,
    PinAccepted,
    PinAttempted,
    SignedIn,
    SignedOut,
    SignInFailed,
    StaffCreated,
    StaffLocked,
    StaffPinChanged,
    StaffUnlocked,
    StaffUpdated,
)
from domain.staff_rules import (
    ACTIONS,
    LANGUAGES,
    LOCK_S,
    MAX_FAILURES,
    ROLES,
    SEALED_PREFIX,
    check_language,
    check_pin_hash,
    check_role,
    check_staff_id,
)

__all__ = [
    "ROLES",
    "ACTIONS",
    "LANGUAGES",
    "Permissions",
    "StaffAccount",
    "SessionRecord",
    "StaffBook",
    "StaffCreated",
    "StaffUpdated",
    "StaffPinChanged",
    "StaffLocked",
    "StaffUnlocked",
    "PermissionsChanged",
    "SignedIn",
    "SignedOut",
    "SignInFailed",
    "ActionApproved",
    "PinAttempted",
    "PinAccepted",
    "check_staff_id",
    "check_role",
    "check_language",
    "MAX_FAILURES",
    "LOCK_S",
    "SEALED_PREFIX",
    "check_pin_hash",
    "failure_lock_end",
]

# ---------------------------------------------------------------- projection


@dataclass
class StaffAccount:
    staff: str
    name: str
    role: str
    language: str
    pin_hash: str
    active: bool = True
    locked: bool = False
    locked_reason: str = ""
    failures: int = 0
    last_failure_ts: int = 0
    locked_until: int = 0  # UTC µs; set by the attempt that reached the limit

    def public(self) -> dict[str, Any]:
        return {
            "staff": self.staff,
            "name": self.name,
            "role": self.role,
            "language": self.language,
            "active": self.active,
            "locked": self.locked,
            "locked_reason": self.locked_reason,
            "failures": self.failures,
            "locked_until": self.locked_until,
        }

    def lock_end(self, limit: int, lock_s: int) -> int:
        return failure_lock_end(
            self.failures, self.locked_until, self.last_failure_ts, limit, lock_s
        )


def failure_lock_end(
    failures: int, locked_until: int, last_failure_ts: int, limit: int, lock_s: int
) -> int:
    """When an account's failure lock ends (UTC µs), or 0 if its failures have not reached
    ``limit``. Accounts from before ``locked_until`` was kept count from their last failure."""
    if failures < limit:
        return 0
    return locked_until or last_failure_ts + lock_s * 1_000_000


@dataclass
class SessionRecord:
    session: str  # token hash
    staff: str
    till: str
    ts: int  # signed in at
    last_ts: int  # last event made in this session (or sign-in)


class Permissions:
    """Action → roles: the defaults of ``ACTIONS`` with a manager's changes folded over them."""

    def __init__(self, changes: dict[str, tuple[str, ...]] | None = None) -> None:
        self.changes: dict[str, tuple[str, ...]] = dict(changes or {})

    def roles(self, action: str) -> tuple[str, ...]:
        if action not in ACTIONS:
            raise NotFound("permissions.unknown_action", f"no action {action!r}", action=action)
        roles = self.changes.get(action, ACTIONS[action][0])
        return tuple(sorted(set(roles) | {"admin"}))

    def allows(self, role: str, action: str) -> bool:
        return role == "admin" or role in self.roles(action)

    def table(self) -> dict[str, list[str]]:
        return {a: list(self.roles(a)) for a in ACTIONS}


@dataclass
class StaffBook:
    """The staff part of the store's book: accounts, permissions, open sessions."""

    accounts: dict[str, StaffAccount] = field(default_factory=dict)
    permissions: Permissions = field(default_factory=Permissions)
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    by_staff_till: dict[tuple[str, str], str] = field(default_factory=dict)
    by_till: dict[str, str] = field(default_factory=dict)

    def account(self, staff: str) -> StaffAccount:
        acc = self.accounts.get(staff)
        if acc is None:
            raise NotFound("staff.not_found", f"no staff account {staff!r}", staff=staff)
        return acc

    # ------------------------------------------------------------ check
    def check(self, body: Any) -> Any:
        if isinstance(body, StaffCreated):
            check_staff_id(body.staff)
            check_role(body.role)
            check_language(body.language)
            if body.staff in self.accounts:
                raise Conflict("staff.exists", "this staff id is taken", staff=body.staff)
            check_pin_hash(body.pin_hash)
        elif isinstance(body, StaffUpdated):
            self.account(body.staff)
            if body.role:
                check_role(body.role)
            if body.language:
                check_language(body.language)
        elif isinstance(body, StaffPinChanged):
            self.account(body.staff)
            check_pin_hash(body.pin_hash)
        elif isinstance(body, StaffLocked):
            self.account(body.staff)
        elif isinstance(body, StaffUnlocked):
            acc = self.account(body.staff)
            if not acc.locked and not acc.failures:
                raise Conflict("staff.not_locked", "this account is not locked", staff=body.staff)
        elif isinstance(body, PermissionsChanged):
            if body.action not in ACTIONS:
                raise NotFound("permissions.unknown_action", f"no action {body.action!r}")
            for r in body.roles:
                check_role(r)
        elif isinstance(body, SignedIn):
            acc = self.account(body.staff)
            if not acc.active:
                raise Forbidden("auth.inactive", "this account is not active", staff=body.staff)
            if acc.locked:
                raise Forbidden(
                    "auth.locked",
                    "this account is locked",
                    staff=body.staff,
                    reason=acc.locked_reason,
                )
            if body.session in self.sessions:
                raise Conflict("auth.session_exists", "this session exists already")
            return replace(body, role=acc.role, language=acc.language)
        elif isinstance(body, SignedOut):
            if body.session not in self.sessions:
                raise Conflict("auth.not_signed_in", "this session has ended")
        elif isinstance(body, SignInFailed):
            acc = self.account(body.staff)
            return replace(body, failures=acc.failures + 1)
        elif isinstance(body, PinAttempted):
            return self._check_attempt(body)
        elif isinstance(body, PinAccepted):
            self.account(body.staff)
        elif isinstance(body, ActionApproved):
            self.account(body.approver)
        return body

    def _check_attempt(self, body: PinAttempted) -> PinAttempted:
        if body.purpose not in ("sign_in", "approval") or body.limit < 1 or body.lock_s < 1:
            raise InvalidInput("auth.bad_attempt", "purpose sign_in|approval, limit and lock_s > 0")
        acc = self.account(body.staff)
        if not acc.active:
            raise Forbidden("auth.inactive", "this account is not active", staff=body.staff)
        if acc.locked:
            raise Forbidden(
                "auth.locked", "this account is locked", staff=body.staff, reason=acc.locked_reason
            )
        failures = acc.failures
        end = acc.lock_end(body.limit, body.lock_s)
        if end:
            if body.at < end:
                raise Forbidden(
                    "auth.locked",
                    "too many wrong PINs; wait or ask a manager",
                    staff=body.staff,
                    reason="failures",
                    retry_after_s=(end - body.at) // 1_000_000 + 1,
                )
            failures = 0  # the lock has expired: count afresh
        return replace(body, failures=failures + 1)

    # ------------------------------------------------------------ apply
    def _end(self, session: str) -> None:
        rec = self.sessions.pop(session, None)
        if rec is not None:
            self.by_staff_till.pop((rec.staff, rec.till), None)
            if self.by_till.get(rec.till) == session:
                self.by_till.pop(rec.till, None)

    def _end_staff(self, staff: str) -> None:
        for s in [s for s, r in self.sessions.items() if r.staff == staff]:
            self._end(s)

    def apply(self, body: Any, ts: int) -> None:
        if isinstance(body, StaffCreated):
            self.accounts[body.staff] = StaffAccount(
                body.staff, body.name, body.role, body.language, body.pin_hash
            )
        elif isinstance(body, StaffUpdated):
            acc = self.accounts[body.staff]
            acc.name = body.name or acc.name
            acc.role = body.role or acc.role
            acc.language = body.language or acc.language
            if body.active in (0, 1):
                acc.active = bool(body.active)
                if not acc.active:
                    self._end_staff(body.staff)
        elif isinstance(body, StaffPinChanged):
            acc = self.accounts[body.staff]
            acc.pin_hash, acc.failures, acc.locked_until = body.pin_hash, 0, 0
        elif isinstance(body, StaffLocked):
            acc = self.accounts[body.staff]
            acc.locked, acc.locked_reason = True, body.reason
            self._end_staff(body.staff)
        elif isinstance(body, StaffUnlocked):
            acc = self.accounts[body.staff]
            acc.locked, acc.locked_reason, acc.failures, acc.locked_until = False, "", 0, 0
        elif isinstance(body, PermissionsChanged):
            self.permissions.changes[body.action] = tuple(body.roles)
        elif isinstance(body, SignedIn):
            who = self.accounts.get(body.staff)
            if who is not None:
                who.failures, who.locked_until = 0, 0
            old = self.by_till.get(body.till)  # one person signed in per till
            if old is not None:
                self._end(old)
            self.sessions[body.session] = SessionRecord(body.session, body.staff, body.till, ts, ts)
            self.by_staff_till[(body.staff, body.till)] = body.session
            self.by_till[body.till] = body.session
        elif isinstance(body, SignedOut):
            self._end(body.session)
        elif isinstance(body, SignInFailed):
            who = self.accounts.get(body.staff)
            if who is not None:
                who.failures += 1
                who.last_failure_ts = ts
        elif isinstance(body, PinAttempted):
            acc = self.accounts[body.staff]
            acc.failures, acc.last_failure_ts, acc.locked_until = body.failures, ts, 0
            if body.failures >= body.limit:  # locked from now: its sessions end
                acc.locked_until = ts + body.lock_s * 1_000_000
                self._end_staff(body.staff)
        elif isinstance(body, PinAccepted):
            acc = self.accounts[body.staff]
            acc.failures, acc.locked_until = 0, 0

    def touch(self, staff: str, till: str, ts: int) -> None:
        """An event made by ``staff`` at ``till``: its session was active then."""
        s = self.by_staff_till.get((staff, till))
        if s is not None:
            rec = self.sessions[s]
            if ts > rec.last_ts:
                rec.last_ts = ts

    def state(self) -> dict[str, Any]:
        """JSON-safe snapshot for the gateway (hashes included: it verifies PINs)."""
        return {
            "accounts": {
                k: {**a.public(), "pin_hash": a.pin_hash, "last_failure_ts": a.last_failure_ts}
                for k, a in self.accounts.items()
            },
            "permissions": dict(self.permissions.changes),
            "sessions": {
                k: {"staff": r.staff, "till": r.till, "ts": r.ts, "last_ts": r.last_ts}
                for k, r in self.sessions.items()
            },
        }
