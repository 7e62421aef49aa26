"""The staff and sign-in events: accounts, permissions, sessions, PIN attempts and approvals."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import register

__all__ = [
    "ActionApproved",
    "PermissionsChanged",
    "PinAccepted",
    "PinAttempted",
    "SignInFailed",
    "SignedIn",
    "SignedOut",
    "StaffCreated",
    "StaffLocked",
    "StaffPinChanged",
    "StaffUnlocked",
    "StaffUpdated",
]


@register("staff.created")
@dataclass(frozen=True, slots=True)
class StaffCreated:
    staff: str
    name: str
    role: str
    language: str
    pin_hash: str  # argon2id


@register("staff.updated")
@dataclass(frozen=True, slots=True)
class StaffUpdated:
    staff: str
    name: str = ""  # empty: unchanged
    role: str = ""
    language: str = ""
    active: int = -1  # -1 unchanged, 0 deactivated, 1 active


@register("staff.pin_changed")
@dataclass(frozen=True, slots=True)
class StaffPinChanged:
    staff: str
    pin_hash: str


@register("staff.locked")
@dataclass(frozen=True, slots=True)
class StaffLocked:
    staff: str
    reason: str = ""


@register("staff.unlocked")
@dataclass(frozen=True, slots=True)
class StaffUnlocked:
    staff: str
    reason: str = ""


@register("permissions.changed")
@dataclass(frozen=True, slots=True)
class PermissionsChanged:
    action: str
    roles: tuple[str, ...]


@register("auth.signed_in")
@dataclass(frozen=True, slots=True)
class SignedIn:
    staff: str
    till: str
    session: str  # sha256 hex of the session token
    role: str = ""
    language: str = ""


@register("auth.signed_out")
@dataclass(frozen=True, slots=True)
class SignedOut:
    staff: str
    till: str
    session: str
    reason: str = "sign_out"  # sign_out | idle | replaced | locked


@register("auth.sign_in_failed")
@dataclass(frozen=True, slots=True)
class SignInFailed:
    staff: str
    till: str
    reason: str  # bad_pin | approval_bad_pin
    failures: int = 0  # consecutive failures after this one (filled at commit)


@register("auth.pin_attempt")
@dataclass(frozen=True, slots=True)
class PinAttempted:
    """A PIN is about to be checked for ``staff``: counted as a failure until proven right."""

    staff: str
    till: str
    purpose: str  # sign_in | approval
    limit: int  # the lock policy in force: this many failures lock the account...
    lock_s: int  # ...for this long
    at: int  # the gateway's clock (UTC µs) when it asked
    failures: int = 0  # consecutive failures counting this one (filled at commit)


@register("auth.pin_accepted")
@dataclass(frozen=True, slots=True)
class PinAccepted:
    """An approver's PIN was right: their failure count starts again."""

    staff: str
    till: str


@register("auth.approved")
@dataclass(frozen=True, slots=True)
class ActionApproved:
    approver: str  # the manager who entered their PIN
    staff: str  # who asked
    till: str
    action: str
    command: str  # the id of the approved command
