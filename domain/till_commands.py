"""A till's commands, typed: what a cashier asks for, parsed once from the wire.

The LAN sends ``{"op": "scan", "args": {...}}``; ``parse_till_command(op, args)`` turns it into one
of these frozen msgspec Structs (``TILL_COMMANDS``: op -> class). A value that does not fit is
refused with the code the store has always answered for it (each class's ``CODES``, see
``domain.coded``), anything else with ``input.invalid``. Rules that depend on the basket are not
checked here but by the command's handler (``domain.till_handlers``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec

from domain.coded import Codes, convert
from domain.errors import InvalidInput, NotFound
from domain.payments import TENDER_CODES, TenderIn

__all__ = [
    "TillCommand",
    "Scan",
    "AddSku",
    "RemoveLine",
    "SetQuantity",
    "DiscountLine",
    "DiscountOrder",
    "Park",
    "Resume",
    "Void",
    "Pay",
    "NameMember",
    "TILL_COMMANDS",
    "parse_till_command",
]

_QTY = (InvalidInput, "basket.bad_quantity", "quantity must be a whole number of at least 1")
_LINE = (NotFound, "basket.line_not_found", "no such line")
_KIND = (InvalidInput, "discount.bad_kind", "discount kind is 'pct' or 'amount'")
_VALUE = (InvalidInput, "discount.bad_value", "discount must be a non-negative whole number")


class TillCommand(msgspec.Struct, frozen=True, kw_only=True):
    """Base of a till's commands: ``op`` is its name on the wire, ``CODES`` its fields' codes."""

    op: ClassVar[str] = ""
    CODES: ClassVar[Codes] = {}


class Scan(TillCommand, frozen=True, kw_only=True):
    """A barcode (or a typed SKU / PLU), with a quantity or a weight."""

    op: ClassVar[str] = "scan"
    CODES: ClassVar[Codes] = {
        "code": (InvalidInput, "scan.bad_code", "scan a barcode, or type a SKU"),
        "qty": _QTY,
        "weight_g": _QTY,
    }
    code: Annotated[str, msgspec.Meta(max_length=64)]
    qty: int | None = None
    weight_g: int | None = None


class AddSku(TillCommand, frozen=True, kw_only=True):
    """A product picked from search results, by SKU."""

    op: ClassVar[str] = "add"
    CODES: ClassVar[Codes] = {
        "sku": (NotFound, "product.not_found", "no such product"),
        "qty": _QTY,
        "weight_g": _QTY,
    }
    sku: str = ""
    qty: int | None = None
    weight_g: int | None = None


class RemoveLine(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "remove"
    CODES: ClassVar[Codes] = {"line_id": _LINE}
    line_id: str = ""


class SetQuantity(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "quantity"
    CODES: ClassVar[Codes] = {"line_id": _LINE, "qty": _QTY}
    line_id: str = ""
    qty: int | None = None


class DiscountLine(TillCommand, frozen=True, kw_only=True):
    """``kind`` "pct" (``value`` in basis points) or "amount" (minor units) off one line."""

    op: ClassVar[str] = "discount_line"
    CODES: ClassVar[Codes] = {"line_id": _LINE, "kind": _KIND, "value": _VALUE}
    line_id: str = ""
    kind: str = ""
    value: int | None = None


class DiscountOrder(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "discount_order"
    CODES: ClassVar[Codes] = {"kind": _KIND, "value": _VALUE}
    kind: str = ""
    value: int | None = None


class Park(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "park"
    note: str = ""


class Resume(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "resume"
    CODES: ClassVar[Codes] = {"basket": (NotFound, "basket.not_found", "no such parked basket")}
    basket: str = ""


class Void(TillCommand, frozen=True, kw_only=True):
    op: ClassVar[str] = "void"
    reason: str = ""


_TENDERS = (
    InvalidInput,
    "payment.bad_tenders",
    "give 1 to 10 tenders (none for a basket that costs nothing)",
)


class Pay(TillCommand, frozen=True, kw_only=True):
    """Up to 10 tenders (none for a basket that costs nothing); ``member`` defaults to the one
    member whose wallet pays."""

    op: ClassVar[str] = "pay"
    CODES: ClassVar[Codes] = {
        "tenders": _TENDERS,
        **{f"tenders[].{k}" if k else "tenders[]": v for k, v in TENDER_CODES.items()},
    }
    tenders: Annotated[tuple[TenderIn, ...], msgspec.Meta(max_length=10)]
    member: str | None = None


class NameMember(TillCommand, frozen=True, kw_only=True):
    """The member this sale is for, with the tier discount the till was told (checked by the
    ledger: ``domain.member_discount``); ``member`` "" takes the member off the sale."""

    op: ClassVar[str] = "member"
    member: Annotated[str, msgspec.Meta(max_length=64)]
    tier: Annotated[str, msgspec.Meta(max_length=40)] = ""
    discount_bp: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


TILL_COMMANDS: dict[str, type[TillCommand]] = {
    c.op: c
    for c in (
        Scan,
        AddSku,
        RemoveLine,
        SetQuantity,
        DiscountLine,
        DiscountOrder,
        Park,
        Resume,
        Void,
        Pay,
        NameMember,
    )
}


def parse_till_command(op: str, args: Any) -> TillCommand:
    """The typed command for ``op`` with ``args`` (a JSON object), or a coded refusal."""
    if not isinstance(args, dict):
        raise InvalidInput("input.invalid", "arguments must be an object")
    cls = TILL_COMMANDS.get(op)
    if cls is None:
        raise InvalidInput("till.unknown_operation", f"unknown till operation {op!r}")
    return convert(args, cls, cls.CODES)
