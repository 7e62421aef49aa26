"""Journal events → analytics rows: THE table schema of the store's DuckDB copy and HQ's warehouse.

One pure function family. ``flatten(events, store_id, zone)`` takes envelopes
(``domain.journal_format.Envelope``) or their ``to_wire()`` dicts (mixed is fine) and returns one
Polars DataFrame per table, each with the fixed schema in ``SCHEMAS`` (always every table, empty
ones included). ``flatten_one`` does one event. Nothing here touches a file, a clock or the network.

Conventions (every table):

* ``store_id``  the store the events come from (given by the caller; a journal does not carry it).
* ``seq``       the store-local journal sequence number of the event the row comes from.
  ``(store_id, seq)`` identifies the event; a table may hold several rows per event (lines,
  payments) told apart by ``idx``/``line_id``.
* ``ts``        UTC time of the event, ``Datetime("us", "UTC")`` (microsecond precision).
* ``local_ts``  the same instant as wall-clock time in the store's zone, ``Datetime("us")`` without
  a zone (for "sales by hour", opening hours). Where present.
* ``business_day`` the store's day (``Date``): the local date of ``ts`` in the store's zone, shifted
  back by ``day_start_hour`` (a shop that trades past midnight can start its day at 04:00).
* Money columns are ``Int64`` counts of the currency's minor unit; never floats. Quantities are
  ``Int64`` pieces, or grams when ``unit == "kg"``.
* Strings are never null ("" when absent); optional numbers are null when they do not apply.
* No integer is beyond ``±domain.money.CEILING`` (timestamps: years 1970–9999), so sums stay inside
  int64. An event that breaks this, or that cannot be read at all (an old journal's poison value, a
  missing field), makes ``flatten`` raise — unless the caller passes a ``quarantine`` list: then
  that event is left out and described there (``seq``, ``kind``, ``error``, ``ts``) while every
  other event flows (the store's copy and HQ's warehouse record it and raise an alert).

Tables (see ``SCHEMAS`` for columns and types):

==================  ==============================================================================
``orders``          one row per ``order.completed``: totals, cash/card/wallet applied, change.
``order_lines``     one row per order line: sku, category, qty, base, discount, amount, tax, total.
``payments``        one row per payment of an order: kind cash|card|wallet, amount applied (cash is
                    after cash rounding and *excludes change*), tendered, change.
``refunds``         one row per ``order.refunded``: amount, rounding, given back, who sold, when.
``refund_lines``    one row per refunded line.
``refund_tenders``  one row per tender given back (kind, amount).
``voids``           one row per ``basket.voided`` (a basket given up before payment).
``wallet_movements`` every change of a member wallet: ``topup`` (+, with the tender that paid it),
                    ``spend`` (− wallet payment), ``refund`` (+ refund back to the wallet).
``stock_movements`` ``sale`` (−qty), ``refund`` (+qty: goods come back), ``received`` (+),
                    ``adjusted`` (±), ``counted`` (``counted`` = level found; ``delta`` =
                    counted − previous as recorded).
``day_closes``      ``day.opened`` (``opening_float``) and ``day.closed`` (``counted_cash``,
                    ``z_report`` as JSON text) per till.
``flags``           ``order.flagged`` events (anomaly flags, see ``analytics.anomaly``).
==================  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date
from typing import Any

import msgspec
import polars as pl
from polars._typing import PolarsDataType

from domain.money import CEILING

__all__ = [
    "TABLES",
    "SCHEMAS",
    "flatten",
    "flatten_one",
    "empty",
    "concat",
    "duckdb_type",
    "duckdb_ddl",
    "MONEY",
    "TS",
    "LOCAL_TS",
    "business_day_of",
    "KINDS_USED",
    "PoisonEvent",
]

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
        "kind": _S,  # sale | refund | received | adjusted | counted
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
        "day.opened",
        "day.closed",
        "order.flagged",
    }
)

_decode = msgspec.json.Decoder()
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


def _as_dict(ev: Any) -> dict[str, Any] | None:
    """Envelope or wire dict → a dict with a decoded ``body`` dict; None for kinds not used."""
    if isinstance(ev, Mapping):
        if ev["kind"] not in KINDS_USED:
            return None
        body = ev["body"]
        if isinstance(body, (bytes, str)):
            body = _decode.decode(body)
        elif not isinstance(body, dict):
            body = msgspec.to_builtins(body)
        return {**ev, "body": body}
    if ev.kind not in KINDS_USED:
        return None
    return {
        "seq": ev.seq,
        "id": ev.id,
        "ts": ev.ts,
        "kind": ev.kind,
        "staff": ev.staff,
        "till": ev.till,
        "ip": ev.ip,
        "agg": ev.agg,
        "body": _decode.decode(ev.body),
    }


def _name(names: Any) -> str:
    if isinstance(names, dict) and names:
        return str(names.get("en") or next(iter(names.values())))
    return ""


class _Rows:
    def __init__(self) -> None:
        self.cols: dict[str, dict[str, list]] = {t: {c: [] for c in s} for t, s in SCHEMAS.items()}

    def add(self, table: str, row: dict[str, Any]) -> None:
        cols = self.cols[table]
        for c, lst in cols.items():
            lst.append(row.get(c))


def _add_event(rows: _Rows, e: dict[str, Any]) -> None:
    kind, b = e["kind"], e["body"]
    head = {"seq": e["seq"], "ts": e["ts"], "till": e.get("till", ""), "staff": e.get("staff", "")}
    if kind == "order.completed":
        pays = b.get("payments", ())
        per = {"cash": 0, "card": 0, "wallet": 0}
        tendered = 0
        for p in pays:
            per[p["kind"]] = per.get(p["kind"], 0) + p["amount"]
            if p["kind"] == "cash":
                tendered += p.get("tendered", 0)
        oid = b["order_id"]
        lines = b.get("lines", ())
        rows.add(
            "orders",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "order_id": oid,
                "number": b.get("number", ""),
                "currency": b.get("currency", ""),
                "prices_include_tax": bool(b.get("prices_include_tax", True)),
                "member": b.get("member", ""),
                "n_lines": len(lines),
                "subtotal": b.get("subtotal", 0),
                "discount": b.get("discount", 0),
                "tax": b.get("tax", 0),
                "total": b["total"],
                "rounding": b.get("rounding", 0),
                "paid": sum(p["amount"] for p in pays),
                "cash": per["cash"],
                "card": per["card"],
                "wallet": per["wallet"],
                "tendered": tendered,
                "change": b.get("change", 0),
            },
        )
        for ln in lines:
            rows.add(
                "order_lines",
                {
                    **head,
                    "local_ts": e["ts"],
                    "order_id": oid,
                    "line_id": ln["line_id"],
                    "sku": ln["sku"],
                    "name": _name(ln.get("names")),
                    "category": ln.get("category", ""),
                    "unit": ln.get("unit", ""),
                    "qty": ln["qty"],
                    "unit_price": ln["unit_price"],
                    "base": ln["base"],
                    "discount": ln["discount"],
                    "amount": ln["amount"],
                    "tax": ln["tax"],
                    "total": ln["total"],
                    "tax_class": ln.get("tax_class", ""),
                    "rate_bp": ln.get("rate_bp", 0),
                },
            )
            rows.add(
                "stock_movements",
                {
                    **head,
                    "sku": ln["sku"],
                    "kind": "sale",
                    "delta": -ln["qty"],
                    "order_id": oid,
                    "reference": "",
                },
            )
        for i, p in enumerate(pays):
            rows.add(
                "payments",
                {
                    **head,
                    "order_id": oid,
                    "idx": i,
                    "kind": p["kind"],
                    "amount": p["amount"],
                    "tendered": p.get("tendered", 0),
                    "change": p.get("change", 0),
                    "reference": p.get("reference", ""),
                    "last4": p.get("last4", ""),
                    "member": p.get("member", ""),
                },
            )
            if p["kind"] == "wallet":
                rows.add(
                    "wallet_movements",
                    {
                        **head,
                        "member": p.get("member", ""),
                        "kind": "spend",
                        "amount": -p["amount"],
                        "tender": "",
                        "order_id": oid,
                        "refund_id": "",
                        "reference": "",
                    },
                )
    elif kind == "order.refunded":
        tenders = b.get("tenders", ())
        per = {"cash": 0, "card": 0, "wallet": 0}
        for t in tenders:
            per[t["kind"]] = per.get(t["kind"], 0) + t["amount"]
        rid, oid = b["refund_id"], b["order_id"]
        lines = b.get("lines", ())
        rows.add(
            "refunds",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "refund_id": rid,
                "order_id": oid,
                "currency": b.get("currency", ""),
                "n_lines": len(lines),
                "amount": b["amount"],
                "tax": sum(ln.get("tax", 0) for ln in lines),
                "rounding": b.get("rounding", 0),
                "given": sum(t["amount"] for t in tenders),
                "cash": per["cash"],
                "card": per["card"],
                "wallet": per["wallet"],
                "reason": b.get("reason", ""),
                "original_staff": b.get("original_staff", ""),
                "original_ts": b.get("original_ts") or None,
            },
        )
        for ln in lines:
            rows.add(
                "refund_lines",
                {
                    **head,
                    "refund_id": rid,
                    "order_id": oid,
                    "line_id": ln["line_id"],
                    "sku": ln.get("sku", ""),
                    "qty": ln["qty"],
                    "amount": ln["amount"],
                    "tax": ln.get("tax", 0),
                },
            )
            rows.add(
                "stock_movements",
                {
                    **head,
                    "sku": ln.get("sku", ""),
                    "kind": "refund",
                    "delta": ln["qty"],
                    "order_id": oid,
                    "reference": rid,
                },
            )
        for i, t in enumerate(tenders):
            rows.add(
                "refund_tenders",
                {
                    **head,
                    "refund_id": rid,
                    "order_id": oid,
                    "idx": i,
                    "kind": t["kind"],
                    "amount": t["amount"],
                    "reference": t.get("reference", ""),
                    "member": t.get("member", ""),
                },
            )
            if t["kind"] == "wallet":
                rows.add(
                    "wallet_movements",
                    {
                        **head,
                        "member": t.get("member", ""),
                        "kind": "refund",
                        "amount": t["amount"],
                        "tender": "",
                        "order_id": oid,
                        "refund_id": rid,
                        "reference": "",
                    },
                )
    elif kind == "basket.voided":
        rows.add(
            "voids",
            {
                **head,
                "local_ts": e["ts"],
                "event_id": e["id"],
                "ip": e.get("ip", ""),
                "basket": b.get("basket", ""),
                "reason": b.get("reason", ""),
                "lines": b.get("lines", 0),
                "amount": b.get("amount", 0),
            },
        )
    elif kind == "wallet.topped_up":
        rows.add(
            "wallet_movements",
            {
                **head,
                "member": b["member"],
                "kind": "topup",
                "amount": b["amount"],
                "tender": b.get("tender", ""),
                "order_id": "",
                "refund_id": "",
                "reference": b.get("reference", ""),
                "balance_after": b.get("balance_after"),
            },
        )
    elif kind == "stock.received":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "received",
                "delta": b["qty"],
                "order_id": "",
                "reference": b.get("reference", ""),
            },
        )
    elif kind == "stock.adjusted":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "adjusted",
                "delta": b["delta"],
                "order_id": "",
                "reference": b.get("reason", ""),
            },
        )
    elif kind == "stock.counted":
        rows.add(
            "stock_movements",
            {
                **head,
                "sku": b["sku"],
                "kind": "counted",
                "delta": b["counted"] - b.get("previous", 0),
                "counted": b["counted"],
                "order_id": "",
                "reference": "",
            },
        )
    elif kind in ("day.opened", "day.closed"):
        z = b.get("z_report")
        if z is not None and not isinstance(z, str):
            z = msgspec.json.encode(z).decode()
        row = {
            **head,
            "event_id": e["id"],
            "till": b.get("till") or head["till"],
            "event": kind.split(".", 1)[1],
            "opening_float": b.get("float", b.get("opening_float"))
            if kind == "day.opened"
            else None,
            "counted_cash": b.get("counted_cash") if kind == "day.closed" else None,
            "z_report": z or "",
        }
        day = b.get("business_day") or b.get("day")
        if isinstance(day, str) and len(day) == 10:
            row["_day"] = day
        rows.add("day_closes", row)
        rows.cols.setdefault("_day_closes_day", {"d": []})["d"].append(row.get("_day"))
    elif kind == "order.flagged":
        ev = b.get("evidence", {})
        if not isinstance(ev, str):
            ev = msgspec.json.encode(ev).decode()
        rows.add(
            "flags",
            {
                **head,
                "event_id": e["id"],
                "flag_id": b.get("flag_id", e["id"]),
                "order_id": b.get("order_id", ""),
                "rule": b.get("rule", ""),
                "severity": b.get("severity", ""),
                "score": float(b.get("score", 0.0)),
                "evidence": ev,
                "freeze": bool(b.get("freeze", False)),
                "subject_staff": b.get("subject_staff", ""),
                "subject_till": b.get("subject_till", ""),
            },
        )


def _frame(
    table: str,
    cols: dict[str, list],
    store_id: str,
    zone: str,
    day_start_hour: int,
    day_override: list | None = None,
) -> pl.DataFrame:
    schema = SCHEMAS[table]
    n = len(cols["seq"])
    if n == 0:
        return empty(table)
    data: dict[str, pl.Series] = {}
    for c, dt in schema.items():
        if c in ("store_id", "business_day"):
            continue
        vals = cols[c]
        if dt == TS:
            s = (
                pl.Series(c, vals, dtype=pl.Int64)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC")
            )
        elif dt == LOCAL_TS:
            s = pl.Series(c, vals, dtype=pl.Int64)  # converted below
        else:
            if dt == _S:
                vals = ["" if v is None else v for v in vals]
            s = pl.Series(c, vals, dtype=dt)
        data[c] = s
    df = pl.DataFrame(data)
    local = pl.col("ts").dt.convert_time_zone(zone).dt.replace_time_zone(None)
    day = (
        (local - pl.duration(hours=day_start_hour)).dt.date() if day_start_hour else local.dt.date()
    )
    exprs = [pl.lit(store_id, dtype=_S).alias("store_id"), day.alias("business_day")]
    if "local_ts" in schema:
        exprs.append(local.alias("local_ts"))
    df = df.with_columns(exprs)
    if day_override is not None and any(d is not None for d in day_override):
        ov = pl.Series("_ov", day_override, dtype=pl.String).str.to_date("%Y-%m-%d", strict=False)
        df = df.with_columns(business_day=pl.coalesce(ov, pl.col("business_day")))
    return df.select(list(schema))


def _flatten_all(
    events: Iterable[Any], store_id: str, zone: str, day_start_hour: int
) -> dict[str, pl.DataFrame]:
    rows = _Rows()
    for ev in events:
        e = _as_dict(ev)
        if e is not None:
            _add_event(rows, e)
    extra = rows.cols.pop("_day_closes_day", None)
    out = {}
    for t in TABLES:
        out[t] = _frame(
            t,
            rows.cols[t],
            store_id,
            zone,
            day_start_hour,
            extra["d"] if (t == "day_closes" and extra) else None,
        )
        _check_bounds(t, out[t])
    return out


def _check_bounds(table: str, df: pl.DataFrame) -> None:
    if not df.height:
        return
    ints = [c for c, dt in SCHEMAS[table].items() if dt == _I]
    over = df.select(
        pl.any_horizontal([((pl.col(c) > CEILING) | (pl.col(c) < -CEILING)).any() for c in ints])
    ).item()
    if over:
        raise PoisonEvent(f"{table}: a value beyond ±{CEILING}")


def _ok(dt: Any, v: Any) -> bool:
    if v is None:
        return True
    if dt == _S:
        return isinstance(v, str)
    if dt == _B:
        return isinstance(v, bool)
    if dt == _F:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) < 1e300
    if isinstance(v, bool) or not isinstance(v, int):
        return False
    if dt in (TS, LOCAL_TS):
        return 0 <= v <= TS_MAX
    return -CEILING <= v <= CEILING


def _problem(ev: Any) -> str:
    """Why ``ev`` cannot be flattened ("" if it can), checked row by row in Python."""
    try:
        e = _as_dict(ev)
        if e is None:
            return ""
        rows = _Rows()
        _add_event(rows, e)
        rows.cols.pop("_day_closes_day", None)
        for t, cols in rows.cols.items():
            for c, vals in cols.items():
                dt = SCHEMAS[t][c]
                for v in vals:
                    if not _ok(dt, v):
                        return f"{t}.{c}: {str(v)[:40]!r} is not a storable {dt}"
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return ""


def _describe(ev: Any, error: str) -> dict[str, Any]:
    get = ev.get if isinstance(ev, Mapping) else (lambda k, d=None: getattr(ev, k, d))
    ts = get("ts", None)
    return {
        "seq": int(get("seq", 0)),
        "kind": str(get("kind", ""))[:64],
        "error": error[:300],
        "ts": ts if isinstance(ts, int) and 0 <= ts <= TS_MAX else None,
    }


def flatten(
    events: Iterable[Any],
    store_id: str,
    zone: str,
    day_start_hour: int = 0,
    quarantine: list[dict[str, Any]] | None = None,
) -> dict[str, pl.DataFrame]:
    """Turn envelopes (or ``to_wire()`` dicts) into ``{table: DataFrame}`` for every table in
    ``TABLES``. Events of kinds that feed no table are skipped. ``zone`` is an IANA zone name
    (``"Asia/Bangkok"``) used for ``business_day`` and ``local_ts``.

    An event no table can hold raises (``PoisonEvent`` or the error it caused) — or, given a
    ``quarantine`` list, is appended there as ``{seq, kind, error, ts}`` and left out while the
    others flow. The whole batch is tried first, so a clean batch costs nothing more."""
    if quarantine is None:
        return _flatten_all(events, store_id, zone, day_start_hour)
    events = list(events)
    try:
        return _flatten_all(events, store_id, zone, day_start_hour)
    except Exception:
        pass
    good = []
    for ev in events:
        why = _problem(ev)
        if why:
            quarantine.append(_describe(ev, why))
        else:
            good.append(ev)
    try:
        return _flatten_all(good, store_id, zone, day_start_hour)
    except Exception:
        alone = []
        for ev in good:
            try:
                _flatten_all([ev], store_id, zone, day_start_hour)
            except Exception as exc:
                quarantine.append(_describe(ev, f"{type(exc).__name__}: {str(exc)[:200]}"))
            else:
                alone.append(ev)
        return _flatten_all(alone, store_id, zone, day_start_hour)


def flatten_one(
    event: Any, store_id: str, zone: str, day_start_hour: int = 0
) -> dict[str, pl.DataFrame]:
    """``flatten`` of a single event: only the non-empty tables are returned."""
    frames = flatten([event], store_id, zone, day_start_hour)
    return {t: df for t, df in frames.items() if df.height}


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
