"""The store's figures over a range of business days: sales by a dimension, refunds and voids,
wallet liability, stock, anomaly flags. Computed here and only here (see ``analytics.store``).

To add a dimension: add it to ``DIMENSIONS`` and its query to ``SalesReports.sales_by``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from analytics.store_copy import AnalyticsCopy

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


class SalesReports(AnalyticsCopy):
    """Range reports over the analytics copy (the base of ``StoreAnalytics``)."""

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
