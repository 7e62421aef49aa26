"""Staff, permission and wallet top-up commands, each with its one handler (``decide``).

A command is what someone at a counter asked for; its ``decide(book)`` runs inside the ledger, right
before the commit and against the book as it is then (``actors.ledger``: a request body with a
``decide`` method is decided there), and returns the event to journal or raises a ``KassaError``.
The HTTP layer only builds the command from the request; the rules are here:

* only an admin manages admin accounts (``staff.admin_only``);
* nobody changes their own role or deactivates themselves (``staff.self_change``);
* nobody locks their own account (``staff.self_lock``);
* a permission change never takes ``permissions.manage`` from the role making it
  (``permissions.self_lockout``), and admin keeps every action;
* a wallet top-up is paid by cash or card (``input.bad_field``, field ``tender``).

``actor``/``actor_role`` are who asks (the signed-in staff member, or the store PC's first admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.book import Book
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.events import WalletToppedUp
from domain.staff import (
    PermissionsChanged,
    StaffCreated,
    StaffLocked,
    StaffPinChanged,
    StaffUnlocked,
    StaffUpdated,
    check_role,
)

__all__ = [
    "CreateStaff",
    "UpdateStaff",
    "ChangeStaffPin",
    "LockStaff",
    "ChangePermissions",
    "TopUpWallet",
    "TOPUP_TENDERS",
    "may_manage",
]

TOPUP_TENDERS = ("cash", "card")


def may_manage(book: Book, actor_role: str, target_role: str, staff: str) -> None:
    """Only an admin creates, changes or locks an admin account, or makes someone admin."""
    acc = book.staff.accounts.get(staff)
    current = acc.role if acc is not None else None
    if actor_role != "admin" and "admin" in (target_role, current):
        raise Forbidden("staff.admin_only", "only an admin manages admin accounts")


@dataclass(frozen=True, slots=True)
class CreateStaff:
    actor_role: str
    staff: str
    name: str
    role: str
    language: str
    pin_hash: str  # sealed before it leaves the gateway (actors.staff.sealed_pin)

    def decide(self, book: Book) -> StaffCreated:
        may_manage(book, self.actor_role, self.role, self.staff)
        return StaffCreated(self.staff, self.name, self.role, self.language, self.pin_hash)


@dataclass(frozen=True, slots=True)
class UpdateStaff:
    actor: str
    actor_role: str
    staff: str
    name: str = ""  # "" leaves it
    role: str = ""
    language: str = ""
    active: int = -1  # -1 leaves it; 0 deactivates; 1 activates

    def decide(self, book: Book) -> StaffUpdated:
        may_manage(book, self.actor_role, self.role, self.staff)
        if self.staff == self.actor and (
            self.active == 0 or (self.role and self.role != self.actor_role)
        ):
            raise Conflict("staff.self_change", "ask another manager to change your own role")
        return StaffUpdated(self.staff, self.name, self.role, self.language, self.active)


@dataclass(frozen=True, slots=True)
class ChangeStaffPin:
    actor_role: str
    staff: str
    pin_hash: str

    def decide(self, book: Book) -> StaffPinChanged:
        may_manage(book, self.actor_role, "", self.staff)
        return StaffPinChanged(self.staff, self.pin_hash)


@dataclass(frozen=True, slots=True)
class LockStaff:
    actor: str
    actor_role: str
    staff: str
    lock: bool  # False: unlock
    reason: str = ""

    def decide(self, book: Book) -> StaffLocked | StaffUnlocked:
        book.staff.account(self.staff)  # staff.not_found
        may_manage(book, self.actor_role, "", self.staff)
        if not self.lock:
            return StaffUnlocked(self.staff, self.reason)
        if self.staff == self.actor:
            raise Conflict("staff.self_lock", "you cannot lock your own account")
        return StaffLocked(self.staff, self.reason)


@dataclass(frozen=True, slots=True)
class ChangePermissions:
    actor_role: str
    action: str
    roles: tuple[str, ...]  # as asked; admin is always added (see ``of``)

    @classmethod
    def of(cls, actor_role: str, action: str, roles: Iterable[object]) -> ChangePermissions:
        """The command with its roles checked, admin added, sorted (as it is journaled)."""
        return cls(actor_role, action, tuple(sorted({check_role(r) for r in roles} | {"admin"})))

    def decide(self, book: Book) -> PermissionsChanged:
        if self.action == "permissions.manage" and self.actor_role not in self.roles:
            raise Conflict("permissions.self_lockout", "you would lose the right to change it back")
        return PermissionsChanged(self.action, self.roles)


@dataclass(frozen=True, slots=True)
class TopUpWallet:
    member: str
    amount: int
    tender: object  # as sent; cash or card is the rule
    reference: str = ""

    def decide(self, book: Book) -> WalletToppedUp:
        if not isinstance(self.tender, str) or self.tender not in TOPUP_TENDERS:
            raise InvalidInput(
                "input.bad_field", "top-ups are paid by cash or card", field="tender"
            )
        return WalletToppedUp(
            member=self.member, amount=self.amount, tender=self.tender, reference=self.reference
        )
