"""The member desk's rules (issue 15): new member ids, the checks of a registration and of an edit
(a card or phone belongs to one member), and ``MemberIndex``, the search by card, phone or name.

Member ids are ``<home store>-<n>``: unique chain-wide because store ids are, given by the ledger
where commits are serialised (``next_member_id``) when the till sends none."""

from __future__ import annotations

import re
from dataclasses import replace

from domain.book_records import Member
from domain.error_codes.desk import Desk
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import MemberRegistered
from domain.member_events import MemberUpdated

__all__ = [
    "MemberIndex",
    "check_registered",
    "check_updated",
    "member_of",
    "next_member_id",
    "phone_key",
]

ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{3,32}$")


def phone_key(phone: str) -> str:
    """A phone as it is looked up: its digits only (``+66 81-234 5678`` → ``66812345678``)."""
    return "".join(c for c in phone if c.isdigit())


def next_member_id(members: dict[str, Member], home: str) -> str:
    """The first free ``<home>-<n>`` from the number of members known (no scan of them all)."""
    n = len(members) + 1
    while f"{home}-{n}" in members:
        n += 1
    return f"{home}-{n}"


def _check_fields(name: str, phone: str, member: str) -> None:
    if not ID_RE.match(member):
        raise InvalidInput(Desk.BAD_ID, "a member id is 1–64 letters, digits, '-', '_', '.'")
    if not name.strip():
        raise InvalidInput(Desk.NO_NAME, "a member has a name")
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(Desk.BAD_PHONE, "a phone is digits (a leading +, spaces, dashes)")


def _check_unique(members: dict[str, Member], card: str, phone: str, but: str) -> None:
    key = phone_key(phone)
    for m in members.values():
        if m.member == but:
            continue
        if card and card == m.card:
            raise Conflict("member.card_taken", "this card belongs to another member")
        if key and key == phone_key(m.phone):
            raise Conflict(Desk.PHONE_TAKEN, "this phone belongs to another member")


def check_registered(members: dict[str, Member], body: MemberRegistered) -> MemberRegistered:
    """``body`` as it is journaled: an id given when it has none (``home`` must be set then)."""
    if not body.member:
        body = replace(body, member=next_member_id(members, body.home or "M"))
    _check_fields(body.name, body.phone, body.member)
    if body.member in members:
        raise Conflict("member.exists", "this member id is taken", member=body.member)
    _check_unique(members, body.card, body.phone, "")
    return body


def check_updated(members: dict[str, Member], body: MemberUpdated) -> MemberUpdated:
    if body.member not in members:
        raise NotFound("member.not_found", "no such member", member=body.member)
    _check_fields(body.name, body.phone, body.member)
    _check_unique(members, body.card, body.phone, body.member)
    return body


def member_of(body: MemberRegistered | MemberUpdated, was: Member | None = None) -> Member:
    """The member record after ``body`` (an edit keeps the home store)."""
    home = body.home if isinstance(body, MemberRegistered) else (was.home if was else "")
    return Member(body.member, body.name, body.phone, body.card, body.consent, home)


class MemberIndex:
    """Members by card, by phone (digits) and by name (case-folded words): a card or phone finds
    one member at once; a name finds those whose name contains the typed words."""

    def __init__(self) -> None:
        self.cards: dict[str, str] = {}
        self.phones: dict[str, str] = {}
        self.names: dict[str, str] = {}  # member -> its name case-folded

    def add(self, m: Member, was: Member | None = None) -> None:
        if was is not None:
            self.cards.pop(was.card, None)
            self.phones.pop(phone_key(was.phone), None)
        if m.card:
            self.cards[m.card] = m.member
        if phone_key(m.phone):
            self.phones[phone_key(m.phone)] = m.member
        self.names[m.member] = m.name.casefold()

    def exact(self, members: dict[str, Member], key: str) -> Member | None:
        """The member whose id, card or phone (by its digits) is ``key``; None if none."""
        for hit in (key, self.cards.get(key), self.phones.get(phone_key(key))):
            if hit is not None and hit in members:
                return members[hit]
        return None

    def search(self, members: dict[str, Member], q: str, limit: int = 50) -> list[Member]:
        """Exact id, card or phone first (one member); else members whose name holds every word."""
        q = q.strip()
        if not q:
            return []
        one = self.exact(members, q)
        if one is not None:
            return [one]
        words = q.casefold().split()
        found = [m for m, name in self.names.items() if all(w in name for w in words)]
        found.sort(key=lambda m: (self.names[m], m))
        return [members[m] for m in found[:limit]]
