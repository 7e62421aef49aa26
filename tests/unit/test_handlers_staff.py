"""Staff, permission and top-up commands, decided by their handlers inside a real ledger (no Ray):
the rules the gateway used to hold now refuse at the commit, and nothing refused is journaled."""

from __future__ import annotations

import uuid

import pytest

from actors.ledger import Ledger, Request
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.events import MemberRegistered
from domain.handlers_staff import (
    ChangePermissions,
    ChangeStaffPin,
    CreateStaff,
    LockStaff,
    TopUpWallet,
    UpdateStaff,
)
from domain.staff import SEALED_PREFIX

H = SEALED_PREFIX + "c2VhbGVk"


def submit(ledger: Ledger, body, staff: str = "m1"):
    cid = str(uuid.uuid4())
    return ledger.submit(Request(cid, cid.encode(), body, staff=staff, till="T1"))


@pytest.fixture
def staffed(ledger: Ledger) -> Ledger:
    for staff, role in (("c1", "cashier"), ("m1", "manager"), ("a1", "admin")):
        submit(ledger, CreateStaff("admin", staff, staff, role, "en", H), staff="")
    return ledger


def refused(ledger: Ledger, body, exc: type, code: str) -> None:
    seq = ledger.seq
    with pytest.raises(exc) as info:
        submit(ledger, body)
    assert info.value.code == code
    assert ledger.seq == seq  # nothing journaled


def test_nobody_changes_their_own_role_or_deactivates_themselves(staffed):
    refused(
        staffed, UpdateStaff("m1", "manager", "m1", role="cashier"), Conflict, "staff.self_change"
    )
    refused(staffed, UpdateStaff("m1", "manager", "m1", active=0), Conflict, "staff.self_change")
    ack = submit(staffed, UpdateStaff("m1", "manager", "m1", name="Mina", role="manager"))
    assert ack.kind == "staff.updated" and ack.body.name == "Mina"
    ack = submit(staffed, UpdateStaff("m1", "manager", "c1", role="aftersales"))
    assert staffed.book.staff.account("c1").role == "aftersales"


def test_only_an_admin_manages_admin_accounts(staffed):
    refused(staffed, UpdateStaff("m1", "manager", "a1", name="x"), Forbidden, "staff.admin_only")
    refused(
        staffed, UpdateStaff("m1", "manager", "c1", role="admin"), Forbidden, "staff.admin_only"
    )
    refused(
        staffed, CreateStaff("manager", "a2", "x", "admin", "en", H), Forbidden, "staff.admin_only"
    )
    refused(staffed, ChangeStaffPin("manager", "a1", H), Forbidden, "staff.admin_only")
    refused(staffed, LockStaff("m1", "manager", "a1", True), Forbidden, "staff.admin_only")
    assert submit(staffed, UpdateStaff("a1", "admin", "m1", role="admin")).kind == "staff.updated"


def test_nobody_locks_their_own_account(staffed):
    refused(staffed, LockStaff("m1", "manager", "m1", True, "x"), Conflict, "staff.self_lock")
    refused(staffed, LockStaff("m1", "manager", "nobody", True), NotFound, "staff.not_found")
    assert submit(staffed, LockStaff("m1", "manager", "c1", True, "left")).kind == "staff.locked"
    assert staffed.book.staff.account("c1").locked
    assert submit(staffed, LockStaff("m1", "manager", "c1", False)).kind == "staff.unlocked"


def test_no_permission_change_locks_its_maker_out(staffed):
    cmd = ChangePermissions.of("manager", "permissions.manage", ["cashier"])
    assert cmd.roles == ("admin", "cashier")  # admin always keeps it
    refused(staffed, cmd, Conflict, "permissions.self_lockout")
    ack = submit(
        staffed, ChangePermissions.of("manager", "permissions.manage", ["manager", "manager"])
    )
    assert ack.body.roles == ("admin", "manager")
    # another action may be taken from the maker's own role
    assert submit(staffed, ChangePermissions.of("manager", "stock.change", [])).body.roles == (
        "admin",
    )
    with pytest.raises(InvalidInput):
        ChangePermissions.of("manager", "stock.change", ["boss"])


def test_top_ups_are_paid_by_cash_or_card_only(staffed):
    submit(staffed, MemberRegistered("M1", "Ann"))
    for tender in ("wallet", "voucher", "", None, ["cash"]):
        refused(staffed, TopUpWallet("M1", 500, tender), InvalidInput, "input.bad_field")
    assert staffed.balance("M1") == 0
    for tender in ("cash", "card"):
        ack = submit(staffed, TopUpWallet("M1", 500, tender, "r1"))
        assert ack.kind == "wallet.topped_up" and ack.body.tender == tender
    assert staffed.balance("M1") == 1000
    refused(staffed, TopUpWallet("M9", 500, "cash"), NotFound, "member.not_found")
