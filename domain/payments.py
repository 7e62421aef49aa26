"""Settling an order: cash (tendered and change), card by external terminal, member wallet, any mix.

Rules: card and wallet together may not exceed the total; the rest is due in cash, rounded to the
store's cash increment (``domain.money.round_cash``); cash tendered must cover it and the change is
given back. Without cash, card + wallet must equal the total exactly. Only a terminal reference and
the last 4 digits of a card are kept: anything that looks like a card number is refused
(``domain.pan``). A QR payment, or a card taken through a provider, names the ``key`` of a tender
that succeeded (``domain.tender_flow``): the book fills in its reference when the order commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from domain.coded import Codes, convert
from domain.errors import InvalidInput
from domain.events import Payment
from domain.money import check_amount, round_cash
from domain.pan import looks_like_card_number, refuse_card_number

__all__ = [
    "Tender",
    "TenderIn",
    "TENDER_CODES",
    "Settlement",
    "settle",
    "check_tender",
    "tender_from_dict",
    "looks_like_card_number",
    "checked_key",
]

MAX_AMOUNT = 10**12
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tender:
    kind: str
    amount: int
    reference: str = ""
    last4: str = ""
    member: str = ""
    key: str = ""
    points: int = 0  # a points tender: the points it uses (the ledger checks them)
    auth: str = ""  # HQ's authorisation of a wallet spend (domain.member_float)


@dataclass(frozen=True, slots=True)
class Settlement:
    payments: tuple[Payment, ...]
    rounding: int
    change: int


class TenderIn(msgspec.Struct, frozen=True):
    """A tender as a till sends it (checked into a ``Tender`` by ``check_tender``)."""

    kind: str
    amount: int
    reference: str = ""
    last4: str = ""
    member: str = ""
    key: str = ""
    points: int = 0
    auth: str = ""


# a tender's fields that do not fit their type: the codes a till has always been answered
TENDER_CODES: Codes = {
    "": (InvalidInput, "payment.bad_tender", "a tender is an object"),
    "kind": (InvalidInput, "payment.bad_kind", "tender kind is cash, card or wallet"),
    "amount": (InvalidInput, "payment.bad_amount", "tender amount must be a positive whole number"),
    "last4": (InvalidInput, "payment.bad_last4", "give exactly the last 4 digits of the card"),
    "reference": (InvalidInput, "payment.no_reference", "the card terminal's reference is text"),
    "member": (InvalidInput, "payment.no_member", "a wallet payment needs a member id"),
    "key": (InvalidInput, "payment.no_key", "a QR payment names its payment key"),
    "points": (InvalidInput, "loyalty.bad_points", "points are a whole number"),
}
KINDS = ("cash", "card", "wallet", "qr", "points", "coupon")  # points, coupon: domain.loyalty


def checked_key(key: str, field: str) -> str:
    """A tender's key (the till's request id): refused if written like a card number, unless it
    is a UUID (whose digit runs can pass the Luhn check: one in a few thousand was refused)."""
    return key if _UUID.fullmatch(key) else refuse_card_number(key, field)


def check_tender(t: TenderIn) -> Tender:
    """Refuse a tender that cannot be taken; keep of a card only its reference and last 4."""
    kind, amount = t.kind, t.amount
    if kind not in KINDS:
        raise InvalidInput(
            "payment.bad_kind", "tender kind is cash, card, wallet or qr", kind=str(kind)
        )
    if amount <= 0:
        raise InvalidInput("payment.bad_amount", "tender amount must be a positive whole number")
    check_amount(amount, MAX_AMOUNT, "tender")
    ref = t.reference[:64]
    last4 = t.last4
    member = t.member[:64]
    key = t.key if kind in ("card", "qr") else ""
    if key and not (8 <= len(key) <= 64 and key.isprintable()):
        raise InvalidInput("payment.no_key", "a payment key is 8-64 printable characters")
    checked_key(key, "key")
    if kind == "qr" and not key:
        raise InvalidInput("payment.no_key", "a QR payment names its payment key")
    if kind == "card" and not key:
        if not re.fullmatch(r"\d{4}", last4):
            raise InvalidInput("payment.bad_last4", "give exactly the last 4 digits of the card")
        if not ref.strip():
            raise InvalidInput("payment.no_reference", "the card terminal's reference is required")
    refuse_card_number(ref, "reference")
    refuse_card_number(member, "member")
    if kind in ("wallet", "points") and not member:
        raise InvalidInput("payment.no_member", "a wallet payment needs a member")
    if kind == "points" and not 0 < t.points <= MAX_AMOUNT:
        raise InvalidInput("loyalty.bad_points", "a points tender uses at least one point")
    if kind == "coupon" and not ref.strip():
        raise InvalidInput("coupon.bad", "a coupon tender names its code")
    return Tender(
        kind=kind,
        amount=amount,
        reference=ref if kind in ("card", "coupon") else "",
        last4=last4 if kind == "card" and not key else "",
        member=member if kind in ("wallet", "points") else "",
        key=key,
        points=t.points if kind == "points" else 0,
        auth=t.auth[:64] if kind in ("wallet", "points") else "",
    )


def tender_from_dict(d: object) -> Tender:
    """A tender from plain data (a till's JSON)."""
    return check_tender(convert(d, TenderIn, TENDER_CODES))


def settle(total: int, tenders: list[Tender], cash_increment: int = 1) -> Settlement:
    """Check tenders against ``total`` and compute cash rounding and change."""
    if total < 0:
        raise InvalidInput("payment.negative_total", "a sale cannot have a negative total")
    if not tenders:
        if total == 0:  # fully discounted: completed with no payment at all
            return Settlement(payments=(), rounding=0, change=0)
        raise InvalidInput("payment.none", "no tender given")
    cash = [t for t in tenders if t.kind == "cash"]
    other = [t for t in tenders if t.kind != "cash"]
    if len(cash) > 1:
        raise InvalidInput("payment.cash_twice", "give cash as one tender")
    non_cash = sum(t.amount for t in other)
    if non_cash > total:
        raise InvalidInput(
            "payment.overpaid", "card and wallet exceed the total", total=total, non_cash=non_cash
        )
    payments = [
        Payment(
            kind=t.kind,
            amount=t.amount,
            reference=t.reference,
            last4=t.last4,
            member=t.member,
            key=t.key,
            points=t.points,
            auth=t.auth,
        )
        for t in other
    ]
    rounding = change = 0
    due = total - non_cash
    if cash:
        if due == 0:
            raise InvalidInput("payment.cash_not_needed", "nothing is left to pay in cash")
        rounded = round_cash(due, cash_increment)
        tendered = cash[0].amount
        if tendered < rounded:
            raise InvalidInput(
                "payment.insufficient", "not enough cash tendered", due=rounded, tendered=tendered
            )
        rounding = rounded - due
        change = tendered - rounded
        if rounded > 0:  # a remainder that rounds to nothing is not a payment: all goes back
            payments.append(Payment(kind="cash", amount=rounded, tendered=tendered, change=change))
    elif due != 0:
        raise InvalidInput(
            "payment.unbalanced", "payments must equal the total", total=total, paid=non_cash
        )
    assert sum(p.amount for p in payments) == total + rounding
    return Settlement(payments=tuple(payments), rounding=rounding, change=change)
