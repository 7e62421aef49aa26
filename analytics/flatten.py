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

Tables: see ``analytics.schema`` (``SCHEMAS`` for columns and types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from analytics.flatten_rows import _add_event, _as_dict, _Rows
from analytics.schema import (
    _B,
    _F,
    _I,
    _S,
    KINDS_USED,
    LOCAL_TS,
    MONEY,
    SCHEMAS,
    TABLES,
    TS,
    TS_MAX,
    PoisonEvent,
    business_day_of,
    concat,
    duckdb_ddl,
    duckdb_type,
    empty,
)
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
