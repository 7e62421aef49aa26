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
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from analytics.store_copy import _day, _int
from analytics.store_sales import DIMENSIONS, SalesReports
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
    "qr_sales",
    "cash_refunds",
    "card_refunds",
    "wallet_refunds",
    "qr_refunds",
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


class StoreAnalytics(SalesReports):
    """DuckDB analytics copy of one store's journal. ``duckdb_path`` may be ``":memory:"``.

    The file, ingest and query helpers are in ``analytics.store_copy.AnalyticsCopy``; range
    reports in ``analytics.store_sales.SalesReports``; the X/Z day reports and export here."""

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
            sum(qr) q, sum(tendered) te, sum(change) ch FROM orders WHERE {cond} GROUP BY ALL""",
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
                "q": "qr_sales",
                "te": "cash_tendered",
                "ch": "change_given",
            },
        )
        put(
            self.rows(
                f"""SELECT till, staff, count(*) n, sum(amount) a, sum(tax) x,
            sum(rounding) r, sum(given) g, sum(cash) c, sum(card) k, sum(wallet) w,
            sum(qr) q FROM refunds WHERE {cond} GROUP BY ALL""",
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
                "q": "qr_refunds",
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

    def bigscreen(self, day: date | str, now_local: str) -> dict[str, Any]:
        """The sales big screen's summary (``analytics.bigscreen``)."""
        from analytics.bigscreen import bigscreen_summary

        return bigscreen_summary(self, day, now_local)

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
