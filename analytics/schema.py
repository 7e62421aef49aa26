"""The table schema of the store's DuckDB copy and HQ's warehouse (filled by ``flatten``).

``SCHEMAS`` maps each table to its columns and Polars types; ``TABLES`` is their order;
``KINDS_USED`` the event kinds that feed them. ``duckdb_type``/``duckdb_ddl`` map the same schema
to DuckDB, ``business_day_of`` is the store-day rule for one timestamp. The conventions every table
follows are in ``analytics.flatten``'s docstring.

Tables (see ``SCHEMAS`` for columns and types):

==================  ==============================================================================
``orders``          one row per ``order.completed``: totals, cash/card/wallet applied, change.
``order_lines``     one row per order line: sku, category, qty, base, discount, amount, tax, total.
``payments``        one row per payment of an order: kind cash|card|wallet|qr, amount applied (cash
                    is after cash rounding and *excludes change*), tendered, change; provider, key.
``refunds``         one row per ``order.refunded``: amount, rounding, given back, who sold, when.
``refund_lines``    one row per refunded line.
``refund_tenders``  one row per tender given back (kind, amount).
``voids``           one row per ``basket.voided`` (a basket given up before payment).
``member_floats``   HQ moving a member's money to this store's float (``member.float_granted``,
                    ``member.authorised``) and the store giving it back (``member.float_returned``).
``wallet_movements`` every change of a member wallet: ``topup`` (+, with the tender that paid it),
                    ``spend`` (− wallet payment), ``refund`` (+ refund back to the wallet).
``stock_movements`` ``sale`` (−qty), ``refund`` (+qty: goods come back), ``received`` (+),
                    ``adjusted`` (±), ``counted`` (``counted`` = level found; ``delta`` =
                    counted − previous as recorded).
``day_closes``      ``day.opened`` (``opening_float``) and ``day.closed`` (``counted_cash``,
                    ``z_report`` as JSON text) per till.
``flags``           ``order.flagged`` events (anomaly flags, see ``analytics.anomaly``), and
                    ``flag.acknowledged``/``flag.dismissed`` (``rule`` "", evidence: action, note).
``basket_lines``    ``basket.line_added`` (``event`` added: sku, unit, qty, unit price, label?)
                    ``basket.quantity_changed`` (``event`` qty: the line's new quantity) and
                    ``basket.line_removed`` (``event`` removed: basket and line only): lines
                    scanned and then taken off (or their quantity lowered) before paying.
``drawer_openings`` ``drawer.opened``: the cash drawer opened without a sale (reason, note).
``exchanges``       one row per ``order.exchanged``, linking the original order, the refund
                    (its returned part, also a ``refunds`` row) and the new order (its sold part,
                    also an ``orders`` row): returned, sold, credit, difference (> 0 paid).
==================  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date

import polars as pl
from polars._typing import PolarsDataType

MONEY = pl.Int64
TS = pl.Datetime("us", "UTC")
LOCAL_TS = pl.Datetime("us")
_S, _I, _D, _B, _F = pl.String, pl.Int64, pl.Date, pl.Boolean, pl.Float64

# columns shared by every table, in this order
_HEAD: dict[str, PolarsDataType] = {"store_id": _S, "seq": _I, "ts": TS, "business_day": _D}
# who/where (envelope fields)
_WHO: dict[str, PolarsDataType] = {"till": _S, "staff": _S}

SCHEMAS: dict[str, dict[str, PolarsDataType]] = {
    "orders": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        "event_id": _S,
        **_WHO,
        "ip": _S,
        "order_id": _S,
        "number": _S,
        "currency": _S,
        "prices_include_tax": _B,
        "member": _S,
        "n_lines": _I,
        "subtotal": MONEY,  # sum of line bases (before discounts)
        "discount": MONEY,  # line + order discounts
        "tax": MONEY,
        "total": MONEY,  # what the goods cost the customer (sum of line totals)
        "rounding": MONEY,  # cash rounding: payments sum to total + rounding
        "paid": MONEY,  # sum of payments applied (= total + rounding)
        "cash": MONEY,  # cash applied (after rounding, change excluded)
        "card": MONEY,
        "wallet": MONEY,
        "tendered": MONEY,  # cash handed over
        "change": MONEY,  # cash given back
        "qr": MONEY,  # QR payments applied (appended: older copies get it last)
        "points": MONEY,  # paid with loyalty points, coupons (domain.loyalty; appended)
        "coupon": MONEY,
        "tier": _S,  # the member's tier named on the sale (domain.member_discount; appended)
        "member_discount": MONEY,  # the tier's discount, part of ``discount`` (appended)
    },
    "order_lines": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        **_WHO,
        "order_id": _S,
        "line_id": _S,
        "sku": _S,
        "name": _S,
        "category": _S,
        "unit": _S,
        "qty": _I,
        "unit_price": MONEY,
        "base": MONEY,
        "discount": MONEY,
        "amount": MONEY,
        "tax": MONEY,
        "total": MONEY,
        "tax_class": _S,
        "rate_bp": _I,
    },
    "payments": {
        **_HEAD,
        **_WHO,
        "order_id": _S,
        "idx": _I,
        "kind": _S,
        "amount": MONEY,
        "tendered": MONEY,
        "change": MONEY,
        "reference": _S,
        "last4": _S,
        "member": _S,
        "provider": _S,  # QR / terminal provider (domain.tender_flow), "" for typed tenders
        "key": _S,  # the tender's idempotency key
    },
    "refunds": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        "event_id": _S,
        **_WHO,
        "ip": _S,
        "refund_id": _S,
        "order_id": _S,
        "currency": _S,
        "n_lines": _I,
        "amount": MONEY,  # sum of refunded line amounts
        "tax": MONEY,  # tax part of the refunded lines
        "rounding": MONEY,  # cash rounding of the cash part: given = amount + rounding
        "given": MONEY,  # sum of tenders given back
        "cash": MONEY,
        "card": MONEY,
        "wallet": MONEY,  # given back per tender kind
        "reason": _S,
        "original_staff": _S,
        "original_ts": TS,
        "qr": MONEY,
        "points": MONEY,  # given back to loyalty points, coupons (appended)
        "coupon": MONEY,
    },
    "refund_lines": {
        **_HEAD,
        **_WHO,
        "refund_id": _S,
        "order_id": _S,
        "line_id": _S,
        "sku": _S,
        "qty": _I,
        "amount": MONEY,
        "tax": MONEY,
    },
    "refund_tenders": {
        **_HEAD,
        **_WHO,
        "refund_id": _S,
        "order_id": _S,
        "idx": _I,
        "kind": _S,
        "amount": MONEY,
        "reference": _S,
        "member": _S,
        "provider": _S,
        "key": _S,
    },
    "voids": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        "event_id": _S,
        **_WHO,
        "ip": _S,
        "basket": _S,
        "reason": _S,
        "lines": _I,
        "amount": MONEY,
    },
    "wallet_movements": {
        **_HEAD,
        **_WHO,
        "member": _S,
        "kind": _S,  # topup | spend | refund
        "amount": MONEY,  # signed change of the balance
        "tender": _S,  # topup: how it was paid (cash|card); otherwise ""
        "order_id": _S,
        "refund_id": _S,
        "reference": _S,
        "balance_after": MONEY,  # topups only (as recorded), else null
    },
    "stock_movements": {
        **_HEAD,
        **_WHO,
        "sku": _S,
        "kind": _S,  # sale|refund|received|adjusted|counted|transfer_out|transfer_in
        "delta": _I,  # signed quantity change (pieces or grams)
        "counted": _I,  # counted: the level found; else null
        "order_id": _S,
        "reference": _S,
    },
    "day_closes": {
        **_HEAD,
        "event_id": _S,
        **_WHO,
        "event": _S,  # opened | closed
        "opening_float": MONEY,  # opened: cash float put in the drawer; else null
        "counted_cash": MONEY,  # closed: cash counted in the drawer; else null
        "z_report": _S,  # closed: the Z report as JSON text; else ""
    },
    "flags": {
        **_HEAD,
        "event_id": _S,
        **_WHO,
        "flag_id": _S,
        "order_id": _S,
        "rule": _S,
        "severity": _S,
        "score": _F,
        "evidence": _S,  # JSON text
        "freeze": _B,
        "subject_staff": _S,
        "subject_till": _S,
    },
    "basket_lines": {
        **_HEAD,
        **_WHO,
        "basket": _S,
        "line_id": _S,
        "event": _S,  # added | qty | removed
        "sku": _S,
        "unit": _S,
        "qty": _I,
        "unit_price": MONEY,
        "embedded": _B,  # a price or weight label
    },
    "drawer_openings": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        "event_id": _S,
        **_WHO,
        "reason": _S,
        "note": _S,
    },
    "exchanges": {
        **_HEAD,
        "local_ts": LOCAL_TS,
        "event_id": _S,
        **_WHO,
        "exchange_id": _S,
        "order_id": _S,  # the original order
        "refund_id": _S,
        "refund_number": _S,
        "sold_order_id": _S,
        "sold_number": _S,
        "currency": _S,
        "returned": MONEY,  # value of the returned lines (a refunds row)
        "sold": MONEY,  # total of the new items (an orders row)
        "credit": MONEY,  # returned value that paid for the new items (tender "exchange")
        "difference": MONEY,  # > 0 the customer paid, < 0 was given back
        "reason": _S,
    },
    "member_floats": {  # members' money across the chain (domain.member_float), HQ's side
        **_HEAD,
        "event_id": _S,
        **_WHO,
        "member": _S,
        "kind": _S,  # wallet (minor units) | points
        "event": _S,  # granted | authorised | returned (to HQ's pool)
        "amount": MONEY,  # + into this store's float; returned: - out of it
        "ref": _S,  # HQ's grant or authorisation id
    },
}

TABLES: tuple[str, ...] = tuple(SCHEMAS)

# which event kinds feed the tables (anything else is ignored)
KINDS_USED = frozenset(
    {
        "order.completed",
        "order.refunded",
        "basket.voided",
        "wallet.topped_up",
        "stock.received",
        "stock.adjusted",
        "stock.counted",
        "count.approved",
        "transfer.sent",
        "transfer.received",
        "day.opened",
        "day.closed",
        "order.flagged",
        "basket.line_added",
        "basket.line_removed",
        "basket.quantity_changed",
        "drawer.opened",
        "flag.acknowledged",
        "flag.dismissed",
        "order.exchanged",
        "member.float_granted",
        "member.authorised",
        "member.float_returned",
    }
)

TS_MAX = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z in microseconds


class PoisonEvent(ValueError):
    """An event no table can hold (see the module's conventions)."""


def empty(table: str) -> pl.DataFrame:
    """An empty frame with ``table``'s schema."""
    return pl.DataFrame(schema=SCHEMAS[table])


def concat(frames: Iterable[pl.DataFrame], table: str) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty(table)
    return pl.concat(frames, how="vertical")


# ---------------------------------------------------------------- DuckDB mapping

_DUCK: dict[PolarsDataType, str] = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Date: "DATE",
    pl.Boolean: "BOOLEAN",
    pl.Float64: "DOUBLE",
}


def duckdb_type(dt: PolarsDataType) -> str:
    if dt == TS:
        return "TIMESTAMPTZ"
    if dt == LOCAL_TS:
        return "TIMESTAMP"
    return _DUCK[dt.base_type() if hasattr(dt, "base_type") else dt]


def schema_digest() -> str:
    """A short digest of every table's columns and types: a warehouse whose files were all
    written (or upgraded) under this digest records it, so readers skip per-file schema checks."""
    import hashlib

    cols = (",".join(f"{c}={dt}" for c, dt in SCHEMAS[t].items()) for t in SCHEMAS)
    text = ";".join(f"{t}:{c}" for t, c in zip(SCHEMAS, cols, strict=True))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def duckdb_ddl(table: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` statement for ``table`` with the same columns and types."""
    cols = ", ".join(f'"{c}" {duckdb_type(dt)}' for c, dt in SCHEMAS[table].items())
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


def business_day_of(ts_us: int, zone: str, day_start_hour: int = 0) -> date:
    """The store's business day of one UTC microsecond timestamp (same rule as the tables)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_us)
    local = utc.astimezone(ZoneInfo(zone))
    return (local.replace(tzinfo=None) - timedelta(hours=day_start_hour)).date()
