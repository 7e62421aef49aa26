"""Money as an integer count of the currency's minor unit, plus tax and cash-rounding rules.

Rules (documented in the README, tested in tests/unit/test_money.py):

* Amounts are ``int`` minor units (satang, fen, yen, fils). Floats are refused everywhere.
* Currency precision comes from Babel: JPY 0, CNY 2, KWD 3 decimals.
* Rounding is *half away from zero* on exact integer arithmetic (``div_round``).
* Tax is computed **per line** on the line's final amount (after its own and its share of order
  discounts). Tax-inclusive: ``tax = amount - round(amount * 10000 / (10000 + rate_bp))``.
  Tax-exclusive: ``tax = round(amount * rate_bp / 10000)`` and the line total is ``amount + tax``.
* Cash rounding: the amount due in cash is rounded to the store's cash increment (e.g. 5 for CHF
  0.05, 25 for THB 0.25), half up; the difference is recorded on the order as ``rounding``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

from domain.errors import InvalidInput

__all__ = [
    "Money",
    "precision",
    "div_round",
    "to_minor",
    "format_money",
    "tax_of_line",
    "round_cash",
    "TaxClass",
    "split_pro_rata",
    "CEILING",
    "Limits",
    "DEFAULT_LIMITS",
    "check_amount",
    "check_quantity",
]

# The largest absolute value any amount or quantity may have anywhere (journal, read models, HQ's
# warehouse), whatever a store configures: 10**13 minor units (100 billion THB). Columns are int64;
# with this ceiling, close to a million such values still sum inside int64.
CEILING = 10**13


def precision(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (from Babel's CLDR data)."""
    try:
        return int(get_currency_precision(currency.upper()))
    except Exception as exc:  # pragma: no cover - Babel returns 2 for unknown codes
        raise InvalidInput("money.bad_currency", f"unknown currency {currency!r}") from exc


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "money.not_integer",
            f"{what} must be an integer count of minor units",
            got=type(value).__name__,
        )
    return value


def div_round(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (exact, no floats)."""
    if denominator == 0:
        raise ZeroDivisionError("div_round by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of an ISO 4217 currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        _check_int(self.amount, "amount")
        currency = self.currency
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
            raise InvalidInput(
                "money.bad_currency",
                "currency must be a 3-letter ISO code",
                got=repr(self.currency),
            )
        object.__setattr__(self, "currency", self.currency.upper())

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise InvalidInput("money.currency_mismatch", "cannot mix currencies")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-precision(self.currency))

    def format(self, locale: str = "en") -> str:
        return format_money(self.amount, self.currency, locale)


def to_minor(text: str | int | Decimal, currency: str) -> int:
    """Parse a human amount ("12.50") into minor units, refusing sub-minor precision and floats."""
    if isinstance(text, float):
        raise InvalidInput("money.float_refused", "money is never a float")
    if isinstance(text, int) and not isinstance(text, bool):
        scale: int = 10 ** precision(currency)
        return text * scale
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except Exception as exc:
        raise InvalidInput("money.bad_amount", f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise InvalidInput("money.bad_amount", f"not an amount: {text!r}")
    scaled = value.scaleb(precision(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput("money.too_precise", f"{text} has more decimals than {currency} allows")
    return int(scaled)


def format_money(amount: int, currency: str, locale: str = "en") -> str:
    """Format minor units for display in ``locale`` (precision and symbol from Babel)."""
    _check_int(amount, "amount")
    value = Decimal(amount).scaleb(-precision(currency))
    return format_currency(value, currency.upper(), locale=locale)


@dataclass(frozen=True, slots=True)
class TaxClass:
    """A named tax rate in basis points (700 = 7 %)."""

    code: str
    rate_bp: int
    name: str = ""

    def __post_init__(self) -> None:
        _check_int(self.rate_bp, "rate_bp")
        if not 0 <= self.rate_bp <= 10000:
            raise InvalidInput("tax.bad_rate", "tax rate must be between 0 and 100 %")


def tax_of_line(amount: int, rate_bp: int, prices_include_tax: bool) -> tuple[int, int]:
    """Return ``(tax, line_total)`` for a line whose price-basis amount is ``amount``."""
    _check_int(amount, "amount")
    if prices_include_tax:
        net = div_round(amount * 10000, 10000 + rate_bp)
        return amount - net, amount
    tax = div_round(amount * rate_bp, 10000)
    return tax, amount + tax


def round_cash(amount: int, increment: int) -> int:
    """Round an amount due in cash to the cash increment (half up). ``increment`` 1 means none."""
    _check_int(amount, "amount")
    if increment <= 1:
        return amount
    return div_round(amount, increment) * increment


def split_pro_rata(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` across ``weights`` proportionally; parts are integers summing exactly to
    ``total`` (largest-remainder method, ties to the earlier part)."""
    if not weights:
        return []
    wsum = sum(weights)
    if wsum == 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    sign = -1 if total < 0 else 1
    t = abs(total)
    floors = [t * w // wsum for w in weights]
    rems = [(t * w) % wsum for w in weights]
    short = t - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-rems[i], i))
    for i in order[:short]:
        floors[i] += 1
    return [sign * p for p in floors]


@dataclass(frozen=True, slots=True)
class Limits:
    """A store's sane maxima (``"limits"`` in ``store.json``), in minor units and line units.

    Defaults suit THB in satang: a unit price, an order, a tender up to 10,000,000.00; a line up to
    10,000 pieces or 1,000 kg; a wallet top-up up to 1,000,000.00; a stock move up to 10,000,000
    pieces or grams. None may exceed ``CEILING``."""

    max_unit_price: int = 1_000_000_000
    max_line_qty: int = 10_000  # pieces on one line
    max_line_weight_g: int = 1_000_000  # grams on one line (1,000 kg)
    max_order_total: int = 1_000_000_000
    max_tender: int = 1_000_000_000  # one tender (cash handed over, card, wallet); day float, count
    max_topup: int = 100_000_000
    max_stock_qty: int = 10_000_000  # one stock receipt, adjustment or count

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= CEILING:
                raise InvalidInput(
                    "store.bad_limit",
                    f"limits.{name} must be a whole number 1–{CEILING}",
                    field=name,
                )

    def line_limit(self, unit: str) -> int:
        return self.max_line_weight_g if unit == "kg" else self.max_line_qty

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: object) -> Limits:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise InvalidInput("store.bad_limit", "limits is an object of maxima")
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


DEFAULT_LIMITS = Limits()


def check_amount(value: object, limit: int, what: str) -> int:
    """``value`` if it is a whole amount of minor units no larger than ``limit`` (nor ``CEILING``);
    else ``amount.too_large`` (or ``money.not_integer``)."""
    value = _check_int(value, what)
    if abs(value) > min(limit, CEILING):
        raise InvalidInput(
            "amount.too_large",
            f"{what} is larger than this store allows",
            field=what,
            limit=min(limit, CEILING),
        )
    return value


def check_quantity(value: object, limit: int, what: str) -> int:
    """Like ``check_amount`` for a quantity (pieces or grams): ``quantity.too_large``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("quantity.not_integer", f"{what} must be a whole number", field=what)
    if abs(value) > min(limit, CEILING):
        raise InvalidInput(
            "quantity.too_large",
            f"{what} is larger than this store allows",
            field=what,
            limit=min(limit, CEILING),
        )
    return value
