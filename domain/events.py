"""Typed, versioned events: one per change in a shop, past tense, bodies as frozen dataclasses.

An event travels as an *envelope* (``Envelope``): seq, command id, UTC time, kind, version, who,
where, the aggregate, the canonical JSON body and the hash chaining it to the event before. The
record format — envelope fields, canonical encoding, chain hash, the events table — lives in
``domain.journal_format`` (re-exported here); this module registers the kinds and their bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, is_dataclass
from typing import Any, TypeVar

import msgspec

from domain.errors import InvalidInput
from domain.journal_format import GENESIS, Envelope, chain_hash, encode_body, set_body_decoder
from domain.upcast import upcast

__all__ = [
    "Envelope",
    "GENESIS",
    "chain_hash",
    "encode_body",
    "decode_body",
    "current_body",
    "register",
    "KINDS",
    "kind_of",
    "version_of",
    # bodies
    "LineAdded",
    "LineRemoved",
    "QuantityChanged",
    "LineDiscounted",
    "OrderDiscounted",
    "BasketParked",
    "BasketResumed",
    "BasketVoided",
    "OrderLine",
    "Payment",
    "OrderCompleted",
    "RefundLine",
    "OrderRefunded",
    "OrderFrozen",
    "OrderUnfrozen",
    "MemberRegistered",
    "WalletToppedUp",
    "StockReceived",
    "StockAdjusted",
    "StockCounted",
    "CatalogueUpdated",
    "CatalogueVersionApplied",
]

KINDS: dict[str, tuple[type, int]] = {}
_KIND_OF: dict[type, str] = {}


_T = TypeVar("_T")


def register(kind: str, version: int = 1) -> Callable[[type[_T]], type[_T]]:
    def deco(cls: type[_T]) -> type[_T]:
        KINDS[kind] = (cls, version)
        _KIND_OF[cls] = kind
        if is_dataclass(cls):
            # pickled (by Ray, between the store's processes) as its canonical JSON: msgspec does
            # in C what pickle's dataclass support does field by field in Python
            cls.__reduce__ = _reduce_event  # type: ignore[method-assign,assignment]
        return cls

    return deco


def _reduce_event(body: object) -> tuple[Any, ...]:
    return decode_body, (_KIND_OF[type(body)], encode_body(body))


def kind_of(body: Any) -> str:
    return _KIND_OF[type(body)]


def version_of(kind: str) -> int:
    return KINDS[kind][1]


def decode_body(kind: str, raw: bytes | str, v: int | None = None) -> Any:
    """Decode and type-check a body written as version ``v`` (None: the current one); an older
    body is upcast first (``domain.upcast``), a newer one refused (``event.too_new``); unknown
    kinds come back as plain dicts."""
    entry = KINDS.get(kind)
    if entry is None:
        return msgspec.json.decode(raw)
    cls, current = entry
    try:
        if v is None or v == current:
            return msgspec.json.decode(raw, type=cls)
        return msgspec.convert(upcast(kind, v, current, msgspec.json.decode(raw)), type=cls)
    except msgspec.ValidationError as exc:
        raise InvalidInput("event.bad_body", f"{kind}: {exc}") from exc


def current_body(kind: str, v: int | None, body: dict[str, Any]) -> dict[str, Any]:
    """A body already decoded as a plain dict (the analytics flatten, the event feed), brought
    to its kind's current version; unknown kinds and current bodies as they are."""
    entry = KINDS.get(kind)
    if entry is None or v is None or v == entry[1]:
        return body
    return upcast(kind, v, entry[1], body)


set_body_decoder(decode_body)

# ---------------------------------------------------------------- basket


@register("basket.line_added")
@dataclass(frozen=True, slots=True)
class LineAdded:
    basket: str
    line_id: str
    sku: str
    names: dict[str, str]
    unit: str
    qty: int  # pieces, or grams when unit == "kg"
    unit_price: int  # minor units per piece or per kg
    tax_class: str
    rate_bp: int
    category: str = ""
    code: str = ""
    embedded: bool = False


@register("basket.line_removed")
@dataclass(frozen=True, slots=True)
class LineRemoved:
    basket: str
    line_id: str


@register("basket.quantity_changed")
@dataclass(frozen=True, slots=True)
class QuantityChanged:
    basket: str
    line_id: str
    qty: int


@register("basket.line_discounted")
@dataclass(frozen=True, slots=True)
class LineDiscounted:
    basket: str
    line_id: str
    kind: str  # "pct" (value in basis points) or "amount" (minor units)
    value: int
    approved_by: str = ""


@register("basket.order_discounted")
@dataclass(frozen=True, slots=True)
class OrderDiscounted:
    basket: str
    kind: str
    value: int
    approved_by: str = ""


@register("basket.parked")
@dataclass(frozen=True, slots=True)
class BasketParked:
    basket: str
    note: str = ""


@register("basket.resumed")
@dataclass(frozen=True, slots=True)
class BasketResumed:
    basket: str


@register("basket.voided")
@dataclass(frozen=True, slots=True)
class BasketVoided:
    basket: str
    reason: str = ""
    lines: int = 0
    amount: int = 0


# ---------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    sku: str
    names: dict[str, str]
    category: str
    unit: str
    qty: int
    unit_price: int
    base: int  # unit_price * qty (per-kg prices: rounded by weight)
    discount: int  # line discount + share of the order discount
    amount: int  # base - discount: the price-basis amount tax is computed on
    tax: int
    total: int  # what the customer pays for the line
    tax_class: str
    rate_bp: int


@dataclass(frozen=True, slots=True)
class Payment:
    kind: str  # "cash" | "card" | "wallet" | "qr" | "points" | "coupon" (reference: the code)
    amount: int  # applied to the order (cash: after cash rounding)
    tendered: int = 0  # cash handed over
    change: int = 0
    reference: str = ""  # card terminal's / provider's reference (what its statement shows)
    last4: str = ""
    member: str = ""
    provider: str = ""  # the provider that took it (domain.tender_flow), "" for a typed card
    key: str = ""  # the tender's idempotency key (payment.started), "" for a typed card
    points: int = 0  # a points tender: the points it uses (domain.loyalty)
    auth: str = ""  # HQ's authorisation this wallet spend used (member.authorised), if any


@register("order.completed")
@dataclass(frozen=True, slots=True)
class OrderCompleted:
    order_id: str
    number: str
    currency: str
    prices_include_tax: bool
    lines: tuple[OrderLine, ...]
    subtotal: int  # sum of line bases
    discount: int
    tax: int
    total: int  # sum of line totals
    rounding: int  # cash rounding: payments sum to total + rounding
    payments: tuple[Payment, ...]
    change: int = 0
    member: str = ""
    member_discount: int = 0  # the tier discount in ``discount`` (domain.member_discount)
    member_discount_bp: int = 0
    tier: str = ""


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_id: str
    sku: str
    qty: int
    amount: int  # part of the line total given back
    tax: int


@register("order.refunded")
@dataclass(frozen=True, slots=True)
class OrderRefunded:
    refund_id: str
    order_id: str
    currency: str
    lines: tuple[RefundLine, ...]
    tenders: tuple[Payment, ...]  # money given back, per original tender
    amount: int  # sum of line amounts
    rounding: int = 0  # cash rounding of the cash part: tenders sum to amount + rounding
    reason: str = ""
    original_staff: str = ""  # who sold it (for anomaly rules)
    original_ts: int = 0
    number: str = ""  # short refund number (R-T1-000007), given by the ledger (domain.numbering)


@register("order.frozen")
@dataclass(frozen=True, slots=True)
class OrderFrozen:
    order_id: str
    reason: str
    rule: str = ""


@register("order.unfrozen")
@dataclass(frozen=True, slots=True)
class OrderUnfrozen:
    order_id: str
    reason: str = ""


# ---------------------------------------------------------------- members & wallets


@register("member.registered")
@dataclass(frozen=True, slots=True)
class MemberRegistered:
    member: str  # "" from the till: the ledger gives ``<home>-<n>`` (domain.member_desk)
    name: str
    phone: str = ""
    card: str = ""
    consent: bool = False  # agreed to marketing (asked at the desk: a yes/no choice)
    home: str = ""  # the store that registered the member (set by the gateway)


@register("wallet.topped_up")
@dataclass(frozen=True, slots=True)
class WalletToppedUp:
    member: str
    amount: int
    tender: str  # how the customer paid for the top-up: cash | card
    reference: str = ""
    balance_after: int = 0


# ---------------------------------------------------------------- stock


@register("stock.received", 2)  # v2: supplier, unit_cost, po (upcaster in domain.stock_events)
@dataclass(frozen=True, slots=True)
class StockReceived:
    sku: str
    qty: int
    reference: str = ""
    supplier: str = ""
    unit_cost: int = 0  # minor units per piece (per kg for weighed goods), what the supplier bills
    po: str = ""  # the purchase order received against ("": a free receipt)


@register("stock.adjusted")
@dataclass(frozen=True, slots=True)
class StockAdjusted:
    sku: str
    delta: int
    reason: str


@register("stock.counted")
@dataclass(frozen=True, slots=True)
class StockCounted:
    sku: str
    counted: int
    previous: int = 0


# ---------------------------------------------------------------- catalogue


@register("catalogue.updated")
@dataclass(frozen=True, slots=True)
class CatalogueUpdated:
    version: str
    count: int
    source: str = ""
    skus: tuple[str, ...] = field(default_factory=tuple)


@register("catalogue.version_applied")
@dataclass(frozen=True, slots=True)
class CatalogueVersionApplied:
    """The store runs HQ's catalogue ``version`` (from ``base``, or a full one when None), loaded
    from the cloud (``hq``), a USB bundle (``usb``) or a setup bundle (``setup``);
    ``sha256``: the bundle's payload hash, as HQ signed it."""

    version: int
    base: int | None
    source: str
    count: int
    sha256: str = ""


# kinds registered in modules of their own (a one-line hook each)
from domain import coupon_chain as _coupon_chain  # noqa: E402,F401 - coupon.use_granted, revoked
from domain import exchange_events as _exchange_events  # noqa: E402,F401 - order.exchanged
from domain import loyalty as _loyalty  # noqa: E402,F401 - loyalty.rules_set, coupon.issued
from domain import member_events as _member_events  # noqa: E402,F401 - member.float_*, member.authorised
from domain import member_history as _member_history  # noqa: E402,F401 - member.history
from domain import payment_events as _payment_events  # noqa: E402,F401
from domain import stock_events as _stock_events  # noqa: E402,F401 - po.*, count.*, transfer.*
