"""The warehouse's read side: DuckDB over the Parquet files (``revenue`` per store and day, a
member's wallet ``member_balance`` across stores) and how fresh each store's data is (``as_of``).
A mixin of ``cloud.warehouse.Warehouse``, which sets these attributes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["WarehouseQueries", "store_days_filter"]


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat().replace("+00:00", "Z")


def store_days_filter(
    store: str | None, day_from: str | None, day_to: str | None
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (or "") and its arguments: one store, business days in a range."""
    where, args = [], []
    if store:
        where.append("store_id = ?")
        args.append(store)
    if day_from:
        where.append("business_day >= CAST(? AS DATE)")
        args.append(day_from)
    if day_to:
        where.append("business_day <= CAST(? AS DATE)")
        args.append(day_to)
    return (" WHERE " + " AND ".join(where)) if where else "", args


class WarehouseQueries:
    root: Path
    ingestor: Any
    store_ids: Callable[[], list[str]]

    # ------------------------------------------------------------ queries
    def _glob(self, table: str) -> str | None:
        tdir = self.root / table
        if not tdir.exists() or not any(tdir.glob("store=*/day=*/seq-*.parquet")):
            return None
        return str(tdir / "store=*" / "day=*" / "seq-*.parquet")

    def _duck(self) -> Any:
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET threads TO 2")
        return con

    def revenue(
        self, store: str | None = None, day_from: str | None = None, day_to: str | None = None
    ) -> list[dict[str, Any]]:
        """Revenue per store and business day: orders, sales (sum of order totals), discount,
        tax, refunds (sum of refunded amounts), net = sales − refunds. Minor units."""
        orders, refunds = self._glob("orders"), self._glob("refunds")
        if orders is None and refunds is None:
            return []
        w, args = store_days_filter(store, day_from, day_to)
        o_sql = (
            f"SELECT store_id, business_day, any_value(currency) AS currency, count(*) AS n, "
            f"sum(total) AS sales, sum(discount) AS discount, sum(tax) AS tax "
            f"FROM read_parquet('{orders}', hive_partitioning=true){w} GROUP BY ALL"
            if orders
            else "SELECT NULL::VARCHAR store_id, NULL::DATE business_day, NULL::VARCHAR currency, "
            "0::BIGINT n, 0::BIGINT sales, 0::BIGINT discount, 0::BIGINT tax WHERE false"
        )
        r_sql = (
            f"SELECT store_id, business_day, any_value(currency) AS currency, count(*) AS n, "
            f"sum(amount) AS amount FROM read_parquet('{refunds}', hive_partitioning=true){w} "
            f"GROUP BY ALL"
            if refunds
            else "SELECT NULL::VARCHAR store_id, NULL::DATE business_day, NULL::VARCHAR currency, "
            "0::BIGINT n, 0::BIGINT amount WHERE false"
        )
        sql = (
            f"WITH o AS ({o_sql}), r AS ({r_sql}) "
            "SELECT coalesce(o.store_id, r.store_id), coalesce(o.business_day, r.business_day), "
            "coalesce(o.currency, r.currency, ''), coalesce(o.n, 0), coalesce(o.sales, 0), "
            "coalesce(o.discount, 0), coalesce(o.tax, 0), coalesce(r.n, 0), "
            "coalesce(r.amount, 0) "
            "FROM o FULL OUTER JOIN r ON o.store_id = r.store_id "
            "AND o.business_day = r.business_day ORDER BY 1, 2"
        )
        con = self._duck()
        try:
            n_args = args * ((1 if orders else 0) + (1 if refunds else 0))
            rows = con.execute(sql, n_args).fetchall()
        finally:
            con.close()
        out = []
        for s, day, cur, n, sales, disc, tax, rn, ramount in rows:
            out.append(
                {
                    "store": s,
                    "day": day.isoformat(),
                    "currency": cur,
                    "orders": int(n),
                    "sales": int(sales),
                    "discount": int(disc),
                    "tax": int(tax),
                    "refunds": int(rn),
                    "refunded": int(ramount),
                    "net": int(sales) - int(ramount),
                }
            )
        return out

    def member_balance(self, member: str) -> dict[str, Any]:
        """Sum of the member's wallet movements per store, as of each store's last upload."""
        glob = self._glob("wallet_movements")
        rows: list[tuple] = []
        if glob is not None:
            con = self._duck()
            try:
                rows = con.execute(
                    f"SELECT store_id, sum(amount), count(*), epoch_us(max(ts)) "
                    f"FROM read_parquet('{glob}', hive_partitioning=true) WHERE member = ? "
                    "GROUP BY store_id ORDER BY store_id",
                    [member],
                ).fetchall()
            finally:
                con.close()
        stores = []
        for s, bal, n, last_ts in rows:
            st = self.ingestor.store_status(s) if self.ingestor else {}
            stores.append(
                {
                    "store": s,
                    "balance": int(bal),
                    "movements": int(n),
                    "last_movement": _iso(last_ts),
                    "last_upload_us": st.get("last_upload_us"),
                    "last_upload": _iso(st.get("last_upload_us")),
                    "last_event": _iso(st.get("last_event_ts")),
                }
            )
        as_of = max((x["last_upload_us"] or 0 for x in stores), default=None) or None
        return {
            "member": member,
            "found": bool(stores),
            "balance": sum(x["balance"] for x in stores),
            "stores": stores,
            "as_of_us": as_of,
            "as_of": _iso(as_of),
        }

    def as_of(self) -> dict[str, str | None]:
        if self.ingestor is None:
            return {}
        return {
            s: _iso(self.ingestor.store_status(s).get("last_upload_us")) for s in self.store_ids()
        }
