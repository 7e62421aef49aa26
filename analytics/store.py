"""The store's analytics copy: a DuckDB file derived from the journal, and every report figure.

``StoreAnalytics`` is a plain class; the analytics actor wraps it (one process owns the DuckDB file
— DuckDB locks it against every other process, read-only opens included). It holds the tables of
``analytics.flatten`` (the same schema as HQ's warehouse) and a ``ingest_state`` row with the last
journal seq ingested, so ``ingest`` is incremental and idempotent by seq, and ``rebuild`` starts
over from the journal.

An event the tables cannot hold (a poison value an old journal may carry, e.g. a price of 2**63) is
*quarantined*: recorded in the ``quarantine`` table (seq, kind, error) while every other event
flows, and counted in every day report (``quarantined``) so that a report never silently misses
sales.

The figures (X/Z reports, sales by hour/category/product/tender/tax/discount, refunds and voids,
wallet liability, stock, a cashier's own report) are computed here and only here. All money is
integer minor units; DuckDB sums BIGINT into HUGEINT/INT128 and we return Python ``int``.

Cash rule of the X/Z reports (the known bug of other POS systems avoided): *cash in* is the cash
payment amount applied to orders (after cash rounding), which already excludes the change given.

    expected_cash = opening_float + cash_sales - cash_refunds + cash_topups
    difference    = counted_cash - expected_cash          (negative: cash is missing)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analytics.flatten import SCHEMAS, TABLES, business_day_of, duckdb_ddl, flatten
from domain.error_codes import Report
from domain.errors import Unavailable

__all__ = ["StoreAnalytics", "FIGURES", "DIMENSIONS", "report_rows"]

# the figures of an X/Z report, for one scope (store, a till or a cashier), in display order
FIGURES = (
    "orders",
    "gross_sales",
    "discounts",
    "net_sales",
    "tax",
    "rounding",
    "refunds",
    "refunded",
    "refund_tax",
    "refund_rounding",
    "refunds_given",
    "net_after_refunds",
    "cash_sales",
    "card_sales",
    "wallet_sales",
    "cash_refunds",
    "card_refunds",
    "wallet_refunds",
    "cash_tendered",
    "change_given",
    "topups",
    "topups_cash",
    "topups_card",
    "voids",
    "voided_amount",
    "opening_float",
    "cash_topups",
    "expected_cash",
    "counted_cash",
    "cash_difference",
)

DIMENSIONS = (
    "hour",
    "day",
    "month",
    "category",
    "product",
    "tender",
    "tax",
    "discount",
    "till",
    "staff",
)


def _d(day: date | str | None) -> date | None:
    if day is None or isinstance(day, date):
        return day
    return date.fromisoformat(str(day))


def _day(day: date | str) -> date:
    out = _d(day)
    if out is None:
        raise ValueError("a business day is needed")
    return out


def _int(v: Any) -> int:
    return int(v) if v is not None else 0


def _seq(e: Any) -> int:
    return e["seq"] if isinstance(e, dict) else e.seq


class StoreAnalytics:
    """DuckDB analytics copy of one store's journal. ``duckdb_path`` may be ``":memory:"``."""

    def __init__(
        self,
        duckdb_path: str | os.PathLike,
        zone: str,
        store_id: str = "S001",
        day_start_hour: int = 0,
        threads: int | None = None,
    ) -> None:
        self.path = str(duckdb_path)
        self.zone = zone
        self.store_id = store_id
        self.day_start_hour = day_start_hour
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(self.path)
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET TimeZone = 'UTC'")
        self._tmp = tempfile.mkdtemp(prefix="kassa-analytics-")
        # scratch Parquet files for DuckDB <-> Polars (no pyarrow here); gone with the object
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)
        self._create()

    # ------------------------------------------------------------ lifecycle
    def _create(self) -> None:
        for t in TABLES:
            self.con.execute(duckdb_ddl(t))
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS ingest_state (k VARCHAR PRIMARY KEY, "
            "last_seq BIGINT NOT NULL)"
        )
        self.con.execute("INSERT INTO ingest_state VALUES ('journal', 0) ON CONFLICT DO NOTHING")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS quarantine (seq BIGINT PRIMARY KEY, "
            "kind VARCHAR, error VARCHAR, ts_us BIGINT, business_day DATE)"
        )

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._cleanup()

    def __enter__(self) -> StoreAnalytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def last_seq(self) -> int:
        rows = self.con.execute("SELECT last_seq FROM ingest_state WHERE k = 'journal'").fetchall()
        return int(rows[0][0])

    # ------------------------------------------------------------ ingest
    def _load(self, frames: dict[str, pl.DataFrame]) -> None:
        for t, df in frames.items():
            if df.height == 0:
                continue
            p = os.path.join(self._tmp, f"{t}.parquet")
            df.write_parquet(p, compression="uncompressed", statistics=False)
            self.con.execute(f"INSERT INTO {t} SELECT * FROM read_parquet(?)", [p])

    def load_frames(
        self,
        frames: dict[str, pl.DataFrame],
        last_seq: int,
        quarantined: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Insert already flattened frames (used by ``ingest`` and by benchmarks), record the
        events left out, and move the ingest mark to ``last_seq``, in one transaction."""
        self.con.execute("BEGIN")
        try:
            self._load(frames)
            for q in quarantined:
                day = None
                if q.get("ts") is not None:
                    day = business_day_of(q["ts"], self.zone, self.day_start_hour)
                self.con.execute(
                    "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [q["seq"], q["kind"], q["error"], q.get("ts"), day],
                )
            self.con.execute(
                "UPDATE ingest_state SET last_seq = ? WHERE k = 'journal'", [int(last_seq)]
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def ingest(self, envelopes: Iterable[Any]) -> int:
        """Add events past the last ingested seq (envelopes or wire dicts, in seq order); events
        already ingested are skipped, so a repeat is harmless. Returns the number of new events."""
        last = self.last_seq
        new = []
        for e in envelopes:
            seq = _seq(e)
            if seq > last:
                new.append(e)
                last = seq
        if not new:
            return 0
        self._ingest(new, last)
        return len(new)

    def _ingest(self, new: list[Any], last: int) -> None:
        """Flatten and load ``new`` (ending at seq ``last``), quarantining what cannot be held; if
        the database still refuses the batch, halve it until the one event it refuses is found."""
        bad: list[dict[str, Any]] = []
        frames = flatten(new, self.store_id, self.zone, self.day_start_hour, quarantine=bad)
        try:
            self.load_frames(frames, last, bad)
        except Exception as exc:
            if len(new) == 1:
                e = new[0]
                kind = e["kind"] if isinstance(e, dict) else e.kind
                ts = e["ts"] if isinstance(e, dict) else e.ts
                self.load_frames(
                    {},
                    last,
                    [
                        {
                            "seq": last,
                            "kind": kind,
                            "ts": ts,
                            "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                        }
                    ],
                )
                return
            mid = len(new) // 2
            self._ingest(new[:mid], _seq(new[mid - 1]))
            self._ingest(new[mid:], last)

    def quarantine(self, day: date | str | None = None, limit: int = 20) -> dict[str, Any]:
        """Events left out of the copy: how many (in all, and of business day ``day`` or of no
        known day), and the first ``limit`` of them (seq, kind, error)."""
        total = self.rows("SELECT count(*) n FROM quarantine")[0]["n"]
        cond, params = "", []
        if day is not None:
            cond, params = "WHERE business_day = ? OR business_day IS NULL", [_d(day)]
        listed = self.rows(
            f"SELECT seq, kind, error FROM quarantine {cond} ORDER BY seq LIMIT {int(limit)}",
            params,
        )
        n = self.rows(f"SELECT count(*) n FROM quarantine {cond}", params)[0]["n"]
        return {"count": int(n), "total": int(total), "events": listed}

    def rebuild(self, envelopes: Iterable[Any], chunk: int = 50_000) -> int:
        """Drop everything and ingest the whole journal again (``Journal.scan()``)."""
        for t in TABLES:
            self.con.execute(f"DROP TABLE IF EXISTS {t}")
        self.con.execute("DROP TABLE IF EXISTS ingest_state")
        self.con.execute("DROP TABLE IF EXISTS quarantine")
        self._create()
        n, batch = 0, []
        for e in envelopes:
            batch.append(e)
            if len(batch) >= chunk:
                n += self.ingest(batch)
                batch = []
        n += self.ingest(batch)
        self.con.execute("CHECKPOINT")
        return n

    # ------------------------------------------------------------ query helpers
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        """Run a query and return a Polars frame (through a small Parquet file: no pyarrow here).
        Do not select TIMESTAMPTZ columns into Python rows; frames are fine."""
        p = os.path.join(self._tmp, "q.parquet")
        rel = self.con.sql(sql, params=list(params)) if params else self.con.sql(sql)
        rel.write_parquet(p)
        return pl.read_parquet(p)

    def table(self, name: str, where: str = "", params: Sequence[Any] = ()) -> pl.DataFrame:
        if name not in SCHEMAS:
            raise ValueError(f"unknown table {name!r}")
        df = self.frame(f"SELECT * FROM {name} {('WHERE ' + where) if where else ''}", params)
        return df.cast(SCHEMAS[name])  # type: ignore[arg-type]

    def frames(
        self, start: date | str | None = None, end: date | str | None = None
    ) -> dict[str, pl.DataFrame]:
        """Every table (optionally limited to business days ``start..end``) as Polars frames, for
        ``analytics.anomaly``."""
        where, params = self._range(start, end)
        return {t: self.table(t, where, params) for t in TABLES}

    @staticmethod
    def _range(start: Any, end: Any, col: str = "business_day") -> tuple[str, list]:
        conds, params = [], []
        if start is not None:
            conds.append(f"{col} >= ?")
            params.append(_d(start))
        if end is not None:
            conds.append(f"{col} <= ?")
            params.append(_d(end))
        return " AND ".join(conds), params

    # ------------------------------------------------------------ X / Z
    def _day_parts(
        self, day: date, till: str | None, staff: str | None
    ) -> dict[tuple[str, str], dict[str, int]]:
        """Figures per (till, staff) for one business day (the one implementation)."""
        cond = "business_day = ?"
        params: list[Any] = [day]
        if till is not None:
            cond += " AND till = ?"
            params.append(till)
        if staff is not None:
            cond += " AND staff = ?"
            params.append(staff)
        parts: dict[tuple[str, str], dict[str, int]] = {}

        def put(rows: list[dict], mapping: dict[str, str]) -> None:
            for r in rows:
                p = parts.setdefault((r["till"], r["staff"]), {f: 0 for f in FIGURES})
                for src, dst in mapping.items():
                    p[dst] += _int(r[src])

        put(
            self.rows(
                f"""SELECT till, staff, count(*) n, sum(subtotal) g, sum(discount) d,
            sum(total) t, sum(tax) x, sum(rounding) r, sum(cash) c, sum(card) k, sum(wallet) w,
            sum(tendered) te, sum(change) ch FROM orders WHERE {cond} GROUP BY ALL""",
                params,
            ),
            {
                "n": "orders",
                "g": "gross_sales",
                "d": "discounts",
                "t": "net_sales",
                "x": "tax",
                "r": "rounding",
                "c": "cash_sales",
                "k": "card_sales",
                "w": "wallet_sales",
                "te": "cash_tendered",
                "ch": "change_given",
            },
        )
        put(
            self.rows(
                f"""SELECT till, staff, count(*) n, sum(amount) a, sum(tax) x,
            sum(rounding) r, sum(given) g, sum(cash) c, sum(card) k, sum(wallet) w
            FROM refunds WHERE {cond} GROUP BY ALL""",
                params,
            ),
            {
                "n": "refunds",
                "a": "refunded",
                "x": "refund_tax",
                "r": "refund_rounding",
                "g": "refunds_given",
                "c": "cash_refunds",
                "k": "card_refunds",
                "w": "wallet_refunds",
            },
        )
        put(
            self.rows(
                f"""SELECT till, staff, sum(amount) a,
            sum(amount) FILTER (WHERE tender = 'cash') c,
            sum(amount) FILTER (WHERE tender <> 'cash') k
            FROM wallet_movements WHERE {cond} AND kind = 'topup' GROUP BY ALL""",
                params,
            ),
            {"a": "topups", "c": "topups_cash", "k": "topups_card"},
        )
        put(
            self.rows(
                f"""SELECT till, staff, count(*) n, sum(amount) a FROM voids
            WHERE {cond} GROUP BY ALL""",
                params,
            ),
            {"n": "voids", "a": "voided_amount"},
        )
        for p in parts.values():
            p["cash_topups"] = p["topups_cash"]
        return parts

    def _drawers(self, day: date, till: str | None) -> dict[str, dict[str, Any]]:
        """Per till: the opening float (last day.opened) and counted cash (last day.closed)."""
        cond = "business_day = ?"
        params: list[Any] = [day]
        if till is not None:
            cond += " AND till = ?"
            params.append(till)
        out: dict[str, dict[str, Any]] = {}
        for r in self.rows(
            f"""SELECT till, event, arg_max(opening_float, seq) f,
                arg_max(counted_cash, seq) c, max(seq) s FROM day_closes WHERE {cond}
                GROUP BY ALL""",
            params,
        ):
            d = out.setdefault(
                r["till"], {"opening_float": 0, "counted_cash": None, "closed": False}
            )
            if r["event"] == "opened":
                d["opening_float"] = _int(r["f"])
            else:
                d["counted_cash"] = _int(r["c"])
                d["closed"] = True
        return out

    @staticmethod
    def _finish(p: dict[str, Any], float_: int, counted: int | None) -> dict[str, Any]:
        p = dict(p)
        p["net_after_refunds"] = p["net_sales"] - p["refunded"]
        p["opening_float"] = float_
        p["expected_cash"] = float_ + p["cash_sales"] - p["cash_refunds"] + p["cash_topups"]
        p["counted_cash"] = counted
        p["cash_difference"] = None if counted is None else counted - p["expected_cash"]
        return {f: p[f] for f in FIGURES}

    def day_report(
        self, day: date | str, kind: str = "X", till: str | None = None, staff: str | None = None
    ) -> dict[str, Any]:
        """X (any time) or Z (at close) report of one business day: totals for the scope (the
        store, one ``till`` or one ``staff``), and the same figures per till and per cashier.
        Counted cash and the difference come from ``day.closed`` events (per till; a store's
        counted cash only once every till with a float or sales has closed). JSON-safe."""
        day = _day(day)
        kind = kind.upper()
        parts = self._day_parts(day, till, staff)
        drawers = self._drawers(day, till) if staff is None else {}
        tills = sorted({t for t, _ in parts} | set(drawers))
        staffs = sorted({s for _, s in parts})

        def total(keys: Iterable[tuple[str, str]]) -> dict[str, int]:
            acc = {f: 0 for f in FIGURES}
            for k in keys:
                for f, v in parts[k].items():
                    acc[f] += v or 0
            return acc

        by_till = []
        for t in tills:
            dr = drawers.get(t, {"opening_float": 0, "counted_cash": None})
            row = self._finish(
                total(k for k in parts if k[0] == t), dr["opening_float"], dr["counted_cash"]
            )
            by_till.append({"till": t, **row})
        by_staff = [
            {"staff": s, **self._finish(total(k for k in parts if k[1] == s), 0, None)}
            for s in staffs
        ]
        floats = sum(d["opening_float"] for d in drawers.values())
        all_closed = bool(drawers) and all(drawers.get(t, {}).get("closed") for t in tills)
        counted = sum(d["counted_cash"] for d in drawers.values()) if all_closed else None
        totals = self._finish(total(parts), floats, counted)
        cur = self.rows("SELECT any_value(currency) c FROM orders WHERE business_day = ?", [day])
        q = self.quarantine(day)
        return {
            "kind": kind,
            "store_id": self.store_id,
            "business_day": day.isoformat(),
            "till": till,
            "staff": staff,
            "currency": (cur[0]["c"] if cur else None) or "",
            "as_of_seq": self.last_seq,
            "quarantined": q["count"],
            "quarantined_events": q["events"],
            "totals": totals,
            "by_till": by_till,
            "by_staff": by_staff,
            "closed_tills": sorted(t for t, d in drawers.items() if d.get("closed")),
        }

    def fresh_report(
        self, name: str, kwargs: dict[str, Any], journal_seq: int, strict: bool = False
    ) -> Any:
        """Report ``name`` stamped with how fresh it is: ``as_of_seq`` (the copy's seq),
        ``journal_seq`` (the journal's when asked) and ``lagging``. ``strict`` (a Z report at
        close) refuses a lagging copy with ``report.lagging`` (503) rather than undercount."""
        as_of = self.last_seq
        if strict and as_of < journal_seq:
            raise Unavailable(
                Report.LAGGING,
                "the analytics copy has not caught up with the journal yet; retry with the same id",
                as_of_seq=as_of,
                journal_seq=journal_seq,
            )
        out = getattr(self, name)(**kwargs)
        if isinstance(out, dict):
            out.update(
                as_of_seq=as_of, journal_seq=max(journal_seq, as_of), lagging=as_of < journal_seq
            )
        return out

    def x_report(
        self, day: date | str, till: str | None = None, staff: str | None = None
    ) -> dict[str, Any]:
        return self.day_report(day, "X", till, staff)

    def z_report(self, day: date | str, till: str | None = None) -> dict[str, Any]:
        return self.day_report(day, "Z", till)

    def cashier_report(self, staff: str, day: date | str) -> dict[str, Any]:
        """One cashier's own report for a day: their X figures, their sales by hour and tender,
        their refunds and voids."""
        rep = self.day_report(day, "X", staff=staff)
        rep["by_hour"] = self.sales_by("hour", day, day, staff=staff).to_dicts()
        rep["by_tender"] = self.sales_by("tender", day, day, staff=staff).to_dicts()
        rv = self.refunds_and_voids(day, day, staff=staff)
        rep["refund_list"] = rv["refunds"].to_dicts()
        rep["void_list"] = rv["voids"].to_dicts()
        return rep

    # ------------------------------------------------------------ sales by …
    def sales_by(
        self,
        dim: str,
        start: date | str | None = None,
        end: date | str | None = None,
        till: str | None = None,
        staff: str | None = None,
    ) -> pl.DataFrame:
        """Sales for business days ``start..end`` (inclusive; None = open) by one of
        ``DIMENSIONS``. Money columns are Int64 minor units."""
        if dim not in DIMENSIONS:
            raise ValueError(f"dimension must be one of {DIMENSIONS}")
        cond, params = self._range(start, end)
        for col, val in (("till", till), ("staff", staff)):
            if val is not None:
                cond = f"{cond + ' AND ' if cond else ''}{col} = ?"
                params.append(val)
        w = f"WHERE {cond}" if cond else ""
        if dim in ("hour", "day", "month", "till", "staff"):
            key = {
                "hour": "hour(local_ts)::BIGINT AS hour",
                "day": "business_day AS day",
                "month": "strftime(business_day, '%Y-%m') AS month",
                "till": "till",
                "staff": "staff",
            }[dim]
            kname = dim
            sql = f"""
            WITH o AS (SELECT {key}, count(*) orders, sum(subtotal)::BIGINT gross_sales,
                sum(discount)::BIGINT discounts, sum(total)::BIGINT net_sales,
                sum(tax)::BIGINT tax FROM orders {w} GROUP BY 1),
            r AS (SELECT {key}, count(*) refunds, sum(amount)::BIGINT refunded
                FROM refunds {w} GROUP BY 1)
            SELECT {kname}, coalesce(o.orders, 0) orders,
                coalesce(gross_sales, 0) gross_sales, coalesce(discounts, 0) discounts,
                coalesce(net_sales, 0) net_sales, coalesce(tax, 0) tax,
                coalesce(refunds, 0) refunds, coalesce(refunded, 0) refunded,
                (coalesce(net_sales, 0) - coalesce(refunded, 0))::BIGINT net_after_refunds
            FROM o FULL JOIN r USING ({kname}) ORDER BY {kname}"""
            return self.frame(sql, params + params)
        if dim in ("category", "product"):
            keys = (
                "category"
                if dim == "category"
                else "sku, any_value(name) name, any_value(category) category"
            )
            grp = "category" if dim == "category" else "sku"
            rkeys = "l.category" if dim == "category" else "l.sku"
            rcond = (
                cond.replace("business_day", "r.business_day")
                .replace("till", "r.till")
                .replace("staff", "r.staff")
            )
            sql = f"""
            WITH s AS (SELECT {keys}, count(*) lines, sum(qty)::BIGINT qty,
                sum(base)::BIGINT gross_sales, sum(discount)::BIGINT discounts,
                sum(total)::BIGINT net_sales, sum(tax)::BIGINT tax
                FROM order_lines {w} GROUP BY {grp}),
            r AS (SELECT {rkeys} AS {grp}, sum(r.qty)::BIGINT refunded_qty,
                sum(r.amount)::BIGINT refunded
                FROM refund_lines r JOIN order_lines l ON l.order_id = r.order_id
                AND l.line_id = r.line_id {("WHERE " + rcond) if rcond else ""} GROUP BY 1)
            SELECT s.*, coalesce(refunded_qty, 0) refunded_qty, coalesce(refunded, 0) refunded,
                (net_sales - coalesce(refunded, 0))::BIGINT net_after_refunds
            FROM s LEFT JOIN r USING ({grp}) ORDER BY net_sales DESC, {grp}"""
            return self.frame(sql, params + params)
        if dim == "tender":
            sql = f"""
            WITH p AS (SELECT kind AS tender, count(*) payments, sum(amount)::BIGINT sales
                FROM payments {w} GROUP BY 1),
            r AS (SELECT kind AS tender, count(*) refund_count, sum(amount)::BIGINT refunds
                FROM refund_tenders {w} GROUP BY 1)
            SELECT tender, coalesce(payments, 0) payments, coalesce(sales, 0) sales,
                coalesce(refund_count, 0) refund_count, coalesce(refunds, 0) refunds,
                (coalesce(sales, 0) - coalesce(refunds, 0))::BIGINT net
            FROM p FULL JOIN r USING (tender) ORDER BY tender"""
            return self.frame(sql, params + params)
        if dim == "tax":
            rw = (
                (
                    "WHERE "
                    + cond.replace("business_day", "r.business_day")
                    .replace("till", "r.till")
                    .replace("staff", "r.staff")
                )
                if cond
                else ""
            )
            sql = f"""
            WITH s AS (SELECT tax_class, rate_bp, count(*) lines, sum(amount)::BIGINT taxable,
                sum(tax)::BIGINT tax, sum(total)::BIGINT total
                FROM order_lines {w} GROUP BY 1, 2),
            r AS (SELECT l.tax_class, l.rate_bp, sum(r.tax)::BIGINT refunded_tax,
                sum(r.amount)::BIGINT refunded
                FROM refund_lines r JOIN order_lines l ON l.order_id = r.order_id
                AND l.line_id = r.line_id
                {rw}
                GROUP BY 1, 2)
            SELECT s.*, coalesce(refunded_tax, 0) refunded_tax, coalesce(refunded, 0) refunded,
                (tax - coalesce(refunded_tax, 0))::BIGINT net_tax
            FROM s LEFT JOIN r USING (tax_class, rate_bp) ORDER BY tax_class, rate_bp"""
            return self.frame(sql, params + params)
        # discount: per cashier, how much was given away
        sql = f"""
        SELECT staff, count(*) orders, count(*) FILTER (WHERE discount > 0) discounted_orders,
            sum(subtotal)::BIGINT gross_sales, sum(discount)::BIGINT discounts,
            CASE WHEN sum(subtotal) > 0
                 THEN (sum(discount) * 10000 // sum(subtotal))::BIGINT ELSE 0 END discount_bp,
            max(CASE WHEN subtotal > 0 THEN discount * 10000 // subtotal ELSE 0 END)::BIGINT
                max_order_discount_bp
        FROM orders {w} GROUP BY staff ORDER BY discounts DESC, staff"""
        return self.frame(sql, params)

    def period_report(self, start: date | str, end: date | str) -> dict[str, pl.DataFrame]:
        """A period (e.g. a year) at a glance: by month, category, tender and tax."""
        return {d: self.sales_by(d, start, end) for d in ("month", "category", "tender", "tax")}

    def year_report(self, year: int) -> dict[str, pl.DataFrame]:
        return self.period_report(date(year, 1, 1), date(year, 12, 31))

    # ------------------------------------------------------------ refunds & voids
    def refunds_and_voids(
        self,
        start: date | str | None = None,
        end: date | str | None = None,
        staff: str | None = None,
    ) -> dict[str, pl.DataFrame]:
        cond, params = self._range(start, end)
        if staff is not None:
            cond = f"{cond + ' AND ' if cond else ''}staff = ?"
            params.append(staff)
        w = f"WHERE {cond}" if cond else ""
        refunds = self.frame(
            f"""SELECT business_day, local_ts, till, staff, refund_id, order_id,
            amount, given, cash, card, wallet, reason, original_staff,
            (epoch_us(ts) - epoch_us(original_ts)) // 1000000 AS seconds_after_sale
            FROM refunds {w} ORDER BY seq""",
            params,
        )
        voids = self.frame(
            f"""SELECT business_day, local_ts, till, staff, basket, reason, lines,
            amount FROM voids {w} ORDER BY seq""",
            params,
        )
        return {"refunds": refunds, "voids": voids}

    # ------------------------------------------------------------ wallets
    def wallet_liability(self, as_of_day: date | str | None = None) -> dict[str, Any]:
        """What the store owes its members: the sum of wallet balances (top-ups − spends +
        refunds to the wallet), in total and per member."""
        cond, params = self._range(None, as_of_day)
        w = f"WHERE {cond}" if cond else ""
        by_member = self.frame(
            f"""SELECT member, sum(amount) FILTER (WHERE kind = 'topup')::BIGINT
            topups, (-sum(amount) FILTER (WHERE kind = 'spend'))::BIGINT spends,
            sum(amount) FILTER (WHERE kind = 'refund')::BIGINT refunds,
            sum(amount)::BIGINT balance FROM wallet_movements {w} GROUP BY member
            ORDER BY balance DESC, member""",
            params,
        ).fill_null(0)
        return {
            "total": int(by_member["balance"].sum()) if by_member.height else 0,
            "members": by_member.height,
            "by_member": by_member,
        }

    # ------------------------------------------------------------ stock
    def stock_on_hand(self) -> pl.DataFrame:
        """Per SKU: the last counted level plus every movement after that count (or the sum of all
        movements if never counted)."""
        return self.frame("""
        WITH m AS (SELECT sku, seq, kind, delta, counted,
            max(CASE WHEN kind = 'counted' THEN seq END) OVER (PARTITION BY sku) last_count
            FROM stock_movements)
        SELECT sku,
            (coalesce(max(counted) FILTER (WHERE seq = last_count), 0)
             + coalesce(sum(delta) FILTER (WHERE kind <> 'counted'
                                           AND (last_count IS NULL OR seq > last_count)), 0)
            )::BIGINT on_hand,
            coalesce(-sum(delta) FILTER (WHERE kind = 'sale'), 0)::BIGINT sold,
            coalesce(sum(delta) FILTER (WHERE kind = 'received'), 0)::BIGINT received,
            max(last_count) last_count_seq
        FROM m GROUP BY sku ORDER BY sku""")

    def negative_stock(self) -> pl.DataFrame:
        return self.stock_on_hand().filter(pl.col("on_hand") < 0)

    def low_stock(self, below: int | dict[str, int] = 5) -> pl.DataFrame:
        """SKUs whose level is under ``below`` (one number, or per SKU with a default of 5)."""
        df = self.stock_on_hand()
        if isinstance(below, dict):
            lim = pl.col("sku").replace_strict(below, default=5, return_dtype=pl.Int64)
        else:
            lim = pl.lit(int(below))
        return df.filter(pl.col("on_hand") < lim)

    # ------------------------------------------------------------ flags
    def flags(self, start: date | str | None = None, end: date | str | None = None) -> pl.DataFrame:
        where, params = self._range(start, end)
        return self.table("flags", where, params)

    def new_flags(
        self, config: Any = None, start: date | str | None = None, end: date | str | None = None
    ) -> pl.DataFrame:
        """Score the anomaly rules over business days ``start..end`` (stock over its whole
        history) and return the flags not journaled yet; turn them into events with
        ``analytics.events.flags_to_events``."""
        from analytics.anomaly import score

        frames = self.frames(start, end)
        frames["stock_movements"] = self.table("stock_movements")
        return score(frames, config, existing=self.table("flags"))

    # ------------------------------------------------------------ export
    def export(
        self, what: dict[str, Any] | pl.DataFrame | dict[str, pl.DataFrame], path: str | os.PathLike
    ) -> Path:
        """Write a report (a ``day_report`` dict, a frame, or a dict of frames) to CSV or XLSX,
        chosen by the file's suffix. A dict of frames becomes one sheet per frame in XLSX, and one
        file per frame (``name-<key>.csv``) in CSV."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sheets = report_sheets(what)
        if path.suffix.lower() == ".xlsx":
            import xlsxwriter

            with xlsxwriter.Workbook(str(path)) as wb:
                for name, df in sheets.items():
                    df.write_excel(wb, worksheet=name[:31], autofit=True)
            return path
        if path.suffix.lower() != ".csv":
            raise ValueError("export to .csv or .xlsx")
        if len(sheets) == 1:
            next(iter(sheets.values())).write_csv(path)
        else:
            for name, df in sheets.items():
                df.write_csv(path.with_name(f"{path.stem}-{name}.csv"))
        return path


def report_rows(rep: dict[str, Any]) -> pl.DataFrame:
    """A day report as one table: a row per scope (store, each till, each cashier), a column per
    figure."""
    rows = [{"scope": "store", "key": rep.get("store_id", ""), **rep["totals"]}]
    rows += [
        {"scope": "till", "key": r["till"], **{f: r[f] for f in FIGURES}} for r in rep["by_till"]
    ]
    rows += [
        {"scope": "staff", "key": r["staff"], **{f: r[f] for f in FIGURES}} for r in rep["by_staff"]
    ]
    schema = {"scope": pl.String, "key": pl.String, **{f: pl.Int64 for f in FIGURES}}
    return pl.DataFrame(rows, schema=schema)


def report_sheets(what: Any) -> dict[str, pl.DataFrame]:
    if isinstance(what, pl.DataFrame):
        return {"report": what}
    if isinstance(what, dict) and "totals" in what and "by_till" in what:
        out = {"report": report_rows(what)}
        for k in ("by_hour", "by_tender", "refund_list", "void_list"):
            if what.get(k):
                out[k] = pl.DataFrame(what[k])
        return out
    if isinstance(what, dict):
        out = {}
        for k, v in what.items():
            if isinstance(v, pl.DataFrame):
                out[str(k)] = v
        if out:
            return out
    raise TypeError("export a day report, a DataFrame or a dict of DataFrames")


def dumps(rep: dict[str, Any]) -> str:
    return json.dumps(rep, default=str, ensure_ascii=False)
