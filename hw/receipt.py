"""The receipt model: what goes on paper, built from an order dict, independent of the printer.

``build_receipt(order, store, lang)`` turns a completed order (``msgspec.to_builtins`` of
``domain.events.OrderCompleted``) into a ``Receipt``: a tuple of ``Row``s (header, lines, discounts,
tax, total, tenders, change, member balance, barcode, QR). ``build_refund_receipt`` does the same
for an ``OrderRefunded``. Rows keep their *structure* (a label at the line's start, a value at its
end) rather than padded strings, so that the same receipt can be laid out

* as text columns (``Receipt.text_lines(columns)``: 32 for 58 mm paper, 48 for 80 mm; characters of
  East Asian width W/F count double, combining marks count zero), and
* as pixels (``hw.render``), right-to-left for Arabic, with real fonts.

The model and the column layout are in ``hw.receipt_model`` (re-exported here); this module builds.

Money stays in integer minor units until it is formatted with ``domain.money.format_money``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from domain.errors import InvalidInput
from domain.exchange_events import EXCHANGE_TENDER as EXCHANGE
from domain.money import format_money
from domain.numbering import short_id
from hw.labels import base_lang, label, locale_of
from hw.receipt_model import PAPER_COLUMNS as PAPER_COLUMNS
from hw.receipt_model import PAPER_DOTS as PAPER_DOTS
from hw.receipt_model import Receipt as Receipt
from hw.receipt_model import Row as Row
from hw.receipt_model import char_width as char_width
from hw.receipt_model import columns_for as columns_for
from hw.receipt_model import display_width as display_width
from hw.receipt_model import layout_row as layout_row
from hw.receipt_model import wrap_text as wrap_text

__all__ = [
    "Row",
    "Receipt",
    "build_receipt",
    "build_refund_receipt",
    "exchange_receipts",
    "display_width",
    "wrap_text",
    "PAPER_COLUMNS",
    "PAPER_DOTS",
    "columns_for",
]

# ---------------------------------------------------------------- builders

Translator = Callable[[str, str], str]


def _i(value: Any) -> int:
    """Money and quantities are integers (minor units, pieces, grams); floats are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "money.not_integer", "amounts must be integer minor units", got=type(value).__name__
        )
    return value


class _Fmt:
    def __init__(self, currency: str, lang: str, translate: Translator | None) -> None:
        self.currency = currency
        self.lang = lang
        self.locale = locale_of(lang)
        self._t = translate

    def money(self, amount: int) -> str:
        return format_money(_i(amount), self.currency, self.locale)

    def neg(self, amount: int) -> str:
        return format_money(-_i(amount), self.currency, self.locale)

    def l(self, key: str) -> str:  # noqa: E743 - label
        if self._t is not None:
            got = self._t(self.lang, key)
            if got:
                return got
        return label(self.lang, key)

    def qty(self, line: Mapping[str, Any]) -> str:
        q = _i(line.get("qty", 0))
        if line.get("unit") == "kg":
            kg = format_decimal(Decimal(q).scaleb(-3), format="#,##0.000", locale=self.locale)
            return f"{kg} kg × {self.money(_i(line.get('unit_price', 0)))}/kg"
        return f"{q} × {self.money(_i(line.get('unit_price', 0)))}"

    def pct(self, rate_bp: int) -> str:
        return format_percent(
            Decimal(_i(rate_bp)).scaleb(-4), format="#,##0.##%", locale=self.locale
        )

    def when(self, when_us: int | None, zone: str) -> str:
        """The sale's date (month named: never ambiguous) and 24-hour time in the store's zone."""
        if not when_us:
            return ""
        dt = datetime.fromtimestamp(when_us / 1_000_000, tz=UTC)
        try:
            from zoneinfo import ZoneInfo

            dt = dt.astimezone(ZoneInfo(zone))
        except Exception:  # unknown zone: print UTC (and say so) rather than fail a receipt
            zone = "UTC"
        out = (
            format_date(dt, "medium", locale=self.locale)
            + " "
            + format_time(dt, "HH:mm", locale=self.locale)
        )
        return out + " UTC" if zone == "UTC" else out


def _store_get(store: Any, key: str, default: Any = "") -> Any:
    if store is None:
        return default
    if isinstance(store, Mapping):
        return store.get(key, default)
    return getattr(store, key, default)


def line_name(line: Mapping[str, Any], lang: str) -> str:
    names = line.get("names") or {}
    for key in (lang, base_lang(lang), "en"):
        if names.get(key):
            return str(names[key])
    for v in names.values():
        if v:
            return str(v)
    return str(line.get("sku", ""))


def _copy_mark(f: _Fmt) -> Row:
    return Row("text", f"*** {f.l('copy')} ***", align="center", big=True, bold=True)


def _header(
    store: Any,
    f: _Fmt,
    number: str,
    *,
    till: str,
    staff: str,
    when_us: int | None,
    copy: bool,
    refund: bool = False,
) -> list[Row]:
    """Shop (name, address, tax id), COPY, REFUND, the number, date and time, till and cashier."""
    rows = [Row("text", str(_store_get(store, "name", "")), align="center", big=True, bold=True)]
    address = str(_store_get(store, "address", "") or "")
    for part in [p.strip() for p in address.splitlines() if p.strip()]:
        rows.append(Row("text", part, align="center"))
    tax_id = str(_store_get(store, "tax_id", "") or "").strip()
    if tax_id:
        rows.append(Row("text", f"{f.l('tax_id')} {tax_id}", align="center"))
    if copy:
        rows.append(_copy_mark(f))
    if refund:
        rows.append(Row("text", f.l("refund"), align="center", big=True, bold=True))
    rows.append(Row("rule"))
    rows.append(Row("pair", f.l("refund_number" if refund else "order"), number, bold=True))
    when = f.when(when_us, str(_store_get(store, "zone", "UTC")))
    if when:
        rows.append(Row("pair", f.l("date"), when))
    if till or staff:
        rows.append(
            Row(
                "pair",
                f"{f.l('till')} {till}".strip(),
                f"{f.l('staff')} {staff}".strip() if staff else "",
            )
        )
    rows.append(Row("rule"))
    return rows


def _tender_label(p: Mapping[str, Any], f: _Fmt) -> str:
    kind = str(p.get("kind", ""))
    known = ("cash", "card", "wallet", "qr", "points", "coupon", EXCHANGE)
    text = f.l(kind) if kind in known else kind
    if kind in ("points", "coupon"):  # how many points, which coupon (domain.loyalty)
        text += f" {p.get('points') or ''}{p.get('reference') or ''}".rstrip()
    if kind in ("card", "qr"):
        extra = []
        if p.get("last4"):
            extra.append(f"****{p['last4']}")
        if p.get("reference"):
            extra.append(f"{f.l('ref')} {p['reference']}")
        if extra:
            text += " " + " ".join(extra)
    if kind == "wallet" and p.get("member"):
        text += f" {p['member']}"
    return text


def exchange_receipts(ex: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The refund and the sale receipt's bodies of an exchange (``OrderExchanged`` as a dict): its
    credit (the first ``len(credit)`` tenders of both parts, the returned value that paid for the
    new items) is printed as "Exchange credit", not under the original tender's name: no cash or
    card moved for it."""
    n = len(ex.get("credit") or ())

    def credit(pays: Any) -> list[dict[str, Any]]:
        return [{**p, "kind": EXCHANGE} if i < n else dict(p) for i, p in enumerate(pays or ())]

    returned, sold = dict(ex.get("returned") or {}), dict(ex.get("sold") or {})
    returned["tenders"] = credit(returned.get("tenders"))
    sold["payments"] = credit(sold.get("payments"))
    return returned, sold


def _footer(f: _Fmt, number: str, qr: str | None, copy: bool) -> list[Row]:
    """A copy says so at its foot too; then the short number as CODE128 and as a QR code."""
    rows = [_copy_mark(f)] if copy else []
    return [*rows, Row("blank"), Row("barcode", number), Row("qr", qr or number)]


def build_receipt(
    order: Mapping[str, Any],
    store: Any,
    lang: str = "en",
    *,
    member_balance: int | None = None,
    when_us: int | None = None,
    till: str = "",
    staff: str = "",
    copy: bool = False,
    qr: str | None = None,
    translate: Translator | None = None,
) -> Receipt:
    """A sale receipt. ``order`` is ``msgspec.to_builtins(OrderCompleted)``; ``store`` a
    ``StoreConfig`` or its ``to_dict()``; ``member_balance`` the wallet balance after the sale."""
    currency = str(order.get("currency") or _store_get(store, "currency", "USD"))
    f = _Fmt(currency, lang, translate)
    number = str(order.get("number") or short_id(str(order.get("order_id", ""))))
    when_us = when_us if when_us is not None else order.get("ts")
    rows = _header(store, f, number, till=till, staff=staff, when_us=when_us, copy=copy)
    inclusive = bool(order.get("prices_include_tax", _store_get(store, "prices_include_tax", True)))

    lines = list(order.get("lines") or ())
    for line in lines:
        rows.append(Row("text", line_name(line, lang)))
        rows.append(Row("pair", f.qty(line), f.money(_i(line.get("base", 0))), indent=2))
        if _i(line.get("discount", 0)):
            rows.append(Row("pair", f.l("discount"), f.neg(_i(line["discount"])), indent=2))
    rows.append(Row("rule"))
    rows.append(Row("pair", f.l("subtotal"), f.money(_i(order.get("subtotal", 0)))))
    if _i(order.get("discount", 0)):
        rows.append(Row("pair", f.l("discount"), f.neg(_i(order["discount"]))))
    if _i(order.get("member_discount", 0)):  # the tier's part of it (domain.member_discount)
        tier = f"{order.get('tier', '')} {f.pct(_i(order.get('member_discount_bp', 0)))}"
        rows.append(
            Row(
                "pair",
                f"{f.l('member_discount')} {tier}",
                f.neg(_i(order["member_discount"])),
                indent=2,
            )
        )
    # tax by rate
    by_rate: dict[int, int] = {}
    for line in lines:
        by_rate[_i(line.get("rate_bp", 0))] = by_rate.get(_i(line.get("rate_bp", 0)), 0) + _i(
            line.get("tax", 0)
        )
    for rate, tax in sorted(by_rate.items()):
        if rate == 0 and tax == 0:
            continue
        name = f"{f.l('tax_incl') if inclusive else f.l('tax')} {f.pct(rate)}"
        rows.append(Row("pair", name, f.money(tax)))
    rows.append(Row("pair", f.l("total"), f.money(_i(order.get("total", 0))), big=True, bold=True))
    if _i(order.get("rounding", 0)):
        rows.append(Row("pair", f.l("rounding"), f.money(_i(order["rounding"]))))
    rows.append(Row("rule"))
    cash = False
    for p in order.get("payments") or ():
        rows.append(Row("pair", _tender_label(p, f), f.money(_i(p.get("amount", 0)))))
        if p.get("kind") == "cash":
            cash = True
            if _i(p.get("tendered", 0)) and _i(p.get("tendered", 0)) != _i(p.get("amount", 0)):
                rows.append(Row("pair", f.l("tendered"), f.money(_i(p["tendered"])), indent=2))
    change = _i(order.get("change", 0))
    if change:
        rows.append(Row("pair", f.l("change"), f.money(change), big=True, bold=True))
    member = str(order.get("member") or "")
    if member or member_balance is not None:
        rows.append(Row("rule"))
        if member:
            rows.append(Row("pair", f.l("member"), member))
        if member_balance is not None:
            rows.append(Row("pair", f.l("balance"), f.money(_i(member_balance))))
    rows.append(Row("blank"))
    rows.append(Row("text", f.l("thanks"), align="center"))
    rows.extend(_footer(f, number, qr, copy))
    return Receipt(
        tuple(rows), lang, number, "sale", cash, currency, _i(order.get("total", 0)), {"copy": copy}
    )


def build_refund_receipt(
    refund: Mapping[str, Any],
    store: Any,
    lang: str = "en",
    *,
    original: Mapping[str, Any] | None = None,
    member_balance: int | None = None,
    when_us: int | None = None,
    till: str = "",
    staff: str = "",
    copy: bool = False,
    translate: Translator | None = None,
) -> Receipt:
    """A refund receipt from ``msgspec.to_builtins(OrderRefunded)``; ``original`` (the sold
    order's dict) gives the product names and the original order number."""
    currency = str(refund.get("currency") or _store_get(store, "currency", "USD"))
    f = _Fmt(currency, lang, translate)
    number = str(refund.get("number") or short_id(str(refund.get("refund_id", ""))))
    orig_number = str((original or {}).get("number") or short_id(str(refund.get("order_id", ""))))
    when_us = when_us if when_us is not None else refund.get("ts")
    rows = _header(
        store, f, number, till=till, staff=staff, when_us=when_us, copy=copy, refund=True
    )
    rows.append(Row("pair", f.l("refund_of"), orig_number))
    by_id = {ln.get("line_id"): ln for ln in (original or {}).get("lines") or ()}
    for rl in refund.get("lines") or ():
        ol = by_id.get(rl.get("line_id"), {"sku": rl.get("sku", "")})
        rows.append(Row("text", line_name(ol, lang)))
        q = _i(rl.get("qty", 0))
        qty = (
            format_decimal(Decimal(q).scaleb(-3), format="#,##0.000", locale=f.locale) + " kg"
            if ol.get("unit") == "kg"
            else str(q)
        )
        rows.append(Row("pair", f"{qty} ×", f.neg(_i(rl.get("amount", 0))), indent=2))
    rows.append(Row("rule"))
    amount = _i(refund.get("amount", 0))
    rows.append(Row("pair", f.l("refunded"), f.neg(amount), big=True, bold=True))
    if _i(refund.get("rounding", 0)):
        rows.append(Row("pair", f.l("rounding"), f.money(_i(refund["rounding"]))))
    rows.append(Row("rule"))
    cash = False
    for p in refund.get("tenders") or ():
        cash = cash or p.get("kind") == "cash"
        rows.append(Row("pair", _tender_label(p, f), f.neg(_i(p.get("amount", 0)))))
    if refund.get("reason"):
        rows.append(Row("pair", f.l("reason"), str(refund["reason"])))
    if member_balance is not None:
        rows.append(Row("pair", f.l("balance"), f.money(_i(member_balance))))
    rows.extend(_footer(f, number, None, copy))
    return Receipt(tuple(rows), lang, number, "refund", cash, currency, -amount, {"copy": copy})
