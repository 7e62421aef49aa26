"""Events of members: the member desk's ``member.updated`` (``member.registered`` stays in
``domain.events``), and members' money across the chain (``domain.member_float`` holds the rule).

* ``member.float_caps`` — the store's allowance caps from ``store.json`` (``members``), journaled
  when they change, so HQ splits the store's credits exactly as the store did;
* ``member.float_granted`` — HQ moved ``amount`` from the member's pool to this store's float
  (``POST /v1/members/{m}/float``); ``grant`` is HQ's id, counted once;
* ``member.authorised`` — HQ moved ``amount`` from the pool to this store's float for a spend
  happening now (``POST /v1/members/{m}/authorise``); not bounded by the cap, spent at once;
* ``member.float_returned`` — an authorisation whose sale never committed, given back to the pool
  (the part of the float above the cap), once per authorisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import register

__all__ = [
    "FloatCapsSet",
    "FloatGranted",
    "MemberAuthorised",
    "FloatReturned",
    "FLOAT_IN",
    "MemberUpdated",
]


@register("member.float_caps")
@dataclass(frozen=True, slots=True)
class FloatCapsSet:
    wallet: int  # minor units; -1: no cap (a store alone keeps every credit)
    points: int


@register("member.float_granted")
@dataclass(frozen=True, slots=True)
class FloatGranted:
    member: str
    kind: str  # wallet | points
    amount: int
    grant: str  # HQ's grant id

    @property
    def agg(self) -> str:
        return self.member


@register("member.authorised")
@dataclass(frozen=True, slots=True)
class MemberAuthorised:
    member: str
    kind: str
    amount: int
    auth: str  # HQ's authorisation id; the payment that spends it carries it (``Payment.auth``)

    @property
    def agg(self) -> str:
        return self.member


@register("member.float_returned")
@dataclass(frozen=True, slots=True)
class FloatReturned:
    """The store gives ``amount`` of its float back to HQ's pool: what an authorisation
    (``ref``) moved here for a sale that never committed, while the float is above its cap."""

    member: str
    kind: str
    amount: int
    ref: str  # the authorisation given back (once)

    @property
    def agg(self) -> str:
        return self.member


FLOAT_IN = (FloatGranted, MemberAuthorised)


@register("member.updated")
@dataclass(frozen=True, slots=True)
class MemberUpdated:
    """Every field as it is after the change (not a patch): a reader needs no earlier state."""

    member: str
    name: str
    phone: str = ""
    card: str = ""
    consent: bool = False
