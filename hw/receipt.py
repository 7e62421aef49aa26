"""The receipt model: what goes on paper, built from an order dict, independent of the printer.

``build_receipt(order, store, lang)`` turns a completed order (``msgspec.to_builtins`` of
``domain.events.OrderCompleted``) into a ``Receipt``: a tuple of ``Row``s (header, lines, discounts,
tax, total, tenders, change, member balance, barcode, QR). ``build_refund_receipt`` does the same
for an ``OrderRefunded``. Rows keep their *structure* (a label at the line's start, a value at its
end) rather than padded strings, so that the same receipt can be laid out

* as text columns (``Receipt.text_lines(columns)``: 32 for 58 mm paper, 48 for 80 mm; characters of
  East Asian width W/F count double, combining marks count zero), and
* as pixels (``hw.render``), right-to-left for Arabic, with real fonts.

Money stays in integer minor units until it is formatted with ``domain.money.format_money``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from domain.errors import InvalidInput
from domain.money import format_money
from hw.labels import base_lang, is_rtl, label, locale_of

__all__ = [
    "Row",
    "Receipt",
    "build_receipt",
    "build_refund_receipt",
    "display_width",
    "wrap_text",
    "PAPER_COLUMNS",
    "PAPER_DOTS",
    "columns_for",
]

PAPER_COLUMNS = {58: 32, 80: 48}  # font A (12x24 dots) columns per paper width
PAPER_DOTS = {58: 384, 80: 576}  # printable dots at 203 dpi


def columns_for(paper: int) -> int:
    return PAPER_COLUMNS.get(int(paper), 48)


# ---------------------------------------------------------------- text width


def char_width(ch: str) -> int:
    """Columns a character takes on a receipt printer: 2 for wide (W/F), 0 for marks, else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def _clusters(text: str) -> list[str]:
    """Split into base character + following zero-width marks (so Thai vowels stay attached)."""
    out: list[str] = []
    for ch in text:
        if out and char_width(ch) == 0:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap_text(text: str, width: int) -> list[str]:
    """Wrap to ``width`` display columns, at spaces when possible, else between clusters."""
    if width <= 0:
        return [text]
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        candidate = word if not cur else cur + " " + word
        if display_width(candidate) <= width:
            cur = candidate
            continue
        if cur:
            lines.append(cur)
            cur = ""
        while display_width(word) > width:  # a word longer than the line (CJK, Thai: no spaces)
            piece = ""
            rest = _clusters(word)
            while rest and display_width(piece + rest[0]) <= width:
                piece += rest.pop(0)
            if not piece:  # a single cluster wider than the line
                piece = rest.pop(0)
            lines.append(piece)
            word = "".join(rest)
        cur = word
    if cur or not lines:
        lines.append(cur)
    return lines


def _pad_to(text: str, width: int, align: str) -> str:
    gap = max(0, width - display_width(text))
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    if align == "end":
        return " " * gap + text
    return text + " " * gap


# ---------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Row:
    """One logical row. ``kind``: ``text`` | ``pair`` | ``rule`` | ``barcode`` | ``qr`` | ``blank``.

    ``text`` is the row's text (for a pair: the label at the line's start); ``value`` the pair's
    value at the line's end. "start"/"end" are logical: in a right-to-left receipt the start is
    the right-hand side. ``big`` prints double width and height.
    """

    kind: str
    text: str = ""
    value: str = ""
    align: str = "start"  # start | center | end
    big: bool = False
    bold: bool = False
    indent: int = 0  # columns (text) / ~one character each (pixels)


@dataclass(frozen=True)
class Receipt:
    rows: tuple[Row, ...]
    lang: str
    number: str
    kind: str = "sale"  # sale | refund
    cash: bool = False  # a cash tender: kick the drawer
    currency: str = ""
    total: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def rtl(self) -> bool:
        return is_rtl(self.lang)

    def text(self) -> str:
        """Every piece of text on the receipt, one per line (for search and tests)."""
        parts = []
        for r in self.rows:
            if r.kind in ("text", "pair"):
                parts.append((r.text + " " + r.value).strip())
            elif r.kind in ("barcode", "qr"):
                parts.append(r.text)
        return "\n".join(parts)

    def text_lines(self, columns: int = 48) -> list[str]:
        """Lay the receipt out as monospaced lines (left-to-right; big rows use half the columns).
        Barcode and QR rows appear as ``[CODE128 ...]`` / ``[QR ...]`` placeholders."""
        out: list[str] = []
        for r in self.rows:
            out.extend(layout_row(r, columns))
        return out


def layout_row(r: Row, columns: int) -> list[str]:
    cols = columns // 2 if r.big else columns
    ind = " " * r.indent
    avail = cols - r.indent
    if r.kind == "blank":
        return [""]
    if r.kind == "rule":
        return ["-" * cols]
    if r.kind == "barcode":
        return [_pad_to(f"[CODE128 {r.text}]", cols, "center")]
    if r.kind == "qr":
        return [_pad_to(f"[QR {r.text}]", cols, "center")]
    if r.kind == "text":
        return [
            ind + _pad_to(line, avail, r.align).rstrip() if r.align != "start" else ind + line
            for line in wrap_text(r.text, avail)
        ]
    # pair: label at the start, value at the end
    vw = display_width(r.value)
    if display_width(r.text) + 1 + vw <= avail:
        return [ind + r.text + " " * (avail - display_width(r.text) - vw) + r.value]
    lines = wrap_text(r.text, avail)
    last = lines[-1]
    if display_width(last) + 1 + vw <= avail:
        lines[-1] = last + " " * (avail - display_width(last) - vw) + r.value
        return [ind + x for x in lines]
    return [ind + x for x in lines] + [ind + _pad_to(r.value, avail, "end")]


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
        if not when_us:
            return ""
        dt = datetime.fromtimestamp(when_us / 1_000_000, tz=UTC)
        try:
            from zoneinfo import ZoneInfo

            dt = dt.astimezone(ZoneInfo(zone))
        except Exception:  # unknown zone: print UTC rather than fail a receipt
            pass
        return format_datetime(dt, "short", locale=self.locale)


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


def _header(
    store: Any, f: _Fmt, number: str, *, till: str, staff: str, when_us: int | None, copy: bool
) -> list[Row]:
    rows = [Row("text", str(_store_get(store, "name", "")), align="center", big=True, bold=True)]
    address = str(_store_get(store, "address", "") or "")
    for part in [p.strip() for p in address.splitlines() if p.strip()]:
        rows.append(Row("text", part, align="center"))
    if copy:
        rows.append(Row("text", f"*** {f.l('copy')} ***", align="center", bold=True))
    rows.append(Row("rule"))
    rows.append(Row("pair", f.l("order"), number, bold=True))
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
    text = f.l(kind) if kind in ("cash", "card", "wallet") else kind
    if kind == "card":
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


def _codes(number: str, qr: str | None) -> list[Row]:
    return [Row("blank"), Row("barcode", number), Row("qr", qr or number)]


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
    number = str(order.get("number", ""))
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
    rows.extend(_codes(number, qr))
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
    number = str(refund.get("refund_id", ""))
    orig_number = str((original or {}).get("number") or refund.get("order_id", ""))
    rows = _header(store, f, number, till=till, staff=staff, when_us=when_us, copy=copy)
    rows.insert(1, Row("text", f.l("refund"), align="center", big=True, bold=True))
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
    rows.extend(_codes(number, None))
    return Receipt(tuple(rows), lang, number, "refund", cash, currency, -amount, {"copy": copy})
