"""HQ's notebook library: the Parquet warehouse as Polars LazyFrames or DuckDB views, one call.

Layout (written by the cloud, hive-partitioned)::

    <root>/<table>/store=<store_id>/day=<YYYY-MM-DD>/*.parquet

with the tables and columns of ``analytics.flatten.SCHEMAS`` (each file also carries ``store_id``
and ``business_day`` as ordinary columns, so the partition keys are only used for pruning).

    >>> from analytics.hq import Warehouse
    >>> wh = Warehouse("/data/warehouse")
    >>> lf = wh.lazy()["orders"]                       # Polars LazyFrames, one per table
    >>> con = wh.duckdb()                                # DuckDB: one view per table
    >>> con.execute("SELECT store_id, sum(total) FROM orders GROUP BY ALL").fetchall()
    >>> wh.revenue(by=("store_id", "business_day", "tender"))
    >>> wh.anomalies()                                   # the store rules, across stores
    >>> wh.bought_together(min_orders=20)                # pairs with support, confidence, lift
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analytics.anomaly import RuleConfig, score
from analytics.flatten import SCHEMAS, TABLES
from analytics.schema import schema_digest

__all__ = ["Warehouse", "write_partitioned", "open_lazy", "open_duckdb"]


def write_partitioned(
    frames: Mapping[str, pl.DataFrame], root: str | os.PathLike, name: str | None = None
) -> int:
    """Write flattened frames in the warehouse layout (one file per store/day/table, named
    ``name`` or a fresh UUID). Returns the number of files written. The cloud has its own writer
    with compaction; this one is for tests, examples and benchmarks."""
    root = Path(root)
    n = 0
    fname = f"{name or uuid.uuid4().hex}.parquet"
    for table, df in frames.items():
        if df.height == 0:
            continue
        for (store, day), part in df.group_by(["store_id", "business_day"]):
            d = root / table / f"store={store}" / f"day={day}"
            d.mkdir(parents=True, exist_ok=True)
            part.write_parquet(d / fname)
            n += 1
    return n


def _glob(root: Path, table: str) -> str:
    return str(root / table / "**" / "*.parquet")


class Warehouse:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _has(self, table: str) -> bool:
        d = self.root / table
        return d.is_dir() and any(d.rglob("*.parquet"))

    # ------------------------------------------------------------ open
    def scan(self, table: str) -> pl.LazyFrame:
        """One table as a LazyFrame with exactly the shared schema (empty if nothing landed)."""
        if not self._has(table):
            return pl.LazyFrame(schema=SCHEMAS[table])
        lf = pl.scan_parquet(
            _glob(self.root, table),
            hive_partitioning=True,
            missing_columns="insert",
            extra_columns="ignore",
        )
        return lf.select(list(SCHEMAS[table]))

    def lazy(self) -> dict[str, pl.LazyFrame]:
        return {t: self.scan(t) for t in TABLES}

    def duckdb(
        self, con: duckdb.DuckDBPyConnection | None = None, threads: int | None = None
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection (in memory unless given) with one view per table."""
        con = con or duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        from analytics.flatten import duckdb_type

        mark = self.root / ".schema"
        uniform = mark.exists() and mark.read_text().strip() == schema_digest()
        for t in TABLES:
            if not self._has(t):
                nulls = ", ".join(
                    f'NULL::{duckdb_type(dt)} AS "{c}"' for c, dt in SCHEMAS[t].items()
                )
                con.execute(f"CREATE OR REPLACE VIEW {t} AS SELECT {nulls} LIMIT 0")
                continue
            # every file has the shared schema (HQ upgrades older files and marks the folder): no
            # union_by_name, which opens every footer; an unmarked older copy pays for it, and a
            # column none of its files has reads as null
            by_name = "" if uniform else ", union_by_name = true"
            src = f"read_parquet('{_glob(self.root, t)}', hive_partitioning = true{by_name})"
            have = set(SCHEMAS[t])
            if not uniform:
                have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
            cols = ", ".join(
                f'"{c}"' if c in have else f'NULL::{duckdb_type(dt)} AS "{c}"'
                for c, dt in SCHEMAS[t].items()
            )
            con.execute(f"CREATE OR REPLACE VIEW {t} AS SELECT {cols} FROM {src}")
        return con

    # ------------------------------------------------------------ questions
    def revenue(
        self,
        by: Iterable[str] = ("store_id", "business_day"),
        engine: str = "polars",
        start: Any = None,
        end: Any = None,
    ) -> pl.DataFrame:
        """Revenue by any of store_id, business_day, tender, category (minor units).

        * with ``tender``: payments applied minus money given back per tender (payments,
          refund_tenders);
        * with ``category``: line totals minus refunded line amounts (order_lines, refund_lines);
        * otherwise: order totals minus refunds (orders, refunds).
        """
        by = list(by)
        if "tender" in by and "category" in by:
            raise ValueError("revenue by tender or by category, not both")
        if "tender" in by:
            sale, back, amount, rename = "payments", "refund_tenders", "amount", {"kind": "tender"}
        elif "category" in by:
            sale, back, amount, rename = "order_lines", "refund_lines", "total", {}
        else:
            sale, back, amount, rename = "orders", "refunds", "total", {}
        if engine == "polars":
            return self._revenue_polars(by, sale, back, amount, rename, start, end)
        con = self.duckdb()
        keys = [{"tender": "kind"}.get(k, k) for k in by]
        cond = []
        params: list[Any] = []
        if start is not None:
            cond.append("business_day >= ?")
            params.append(pl.Series([start]).cast(pl.Date)[0])
        if end is not None:
            cond.append("business_day <= ?")
            params.append(pl.Series([end]).cast(pl.Date)[0])
        w = ("WHERE " + " AND ".join(cond)) if cond else ""
        sel = ", ".join(f"{k} AS {b}" for k, b in zip(keys, by, strict=True))
        if "category" in by:
            back_keys = ", ".join(f"l.{k} AS {k}" if k == "category" else f"r.{k}" for k in keys)
            back_sql = (
                f"SELECT {back_keys}, "
                f"sum(r.amount) back FROM refund_lines r JOIN order_lines l "
                f"ON l.store_id = r.store_id AND l.order_id = r.order_id "
                f"AND l.line_id = r.line_id {w.replace('business_day', 'r.business_day')} "
                f"GROUP BY ALL"
            )
        else:
            back_sql = f"SELECT {sel}, sum(amount) back FROM {back} {w} GROUP BY ALL"
        counted = "payments" if "tender" in by else "lines" if "category" in by else "orders"
        sql = f"""
        WITH s AS (SELECT {sel}, count(*) n, sum({amount}) sales FROM {sale} {w} GROUP BY ALL),
             b AS ({back_sql})
        SELECT {", ".join(by)}, coalesce(n, 0)::BIGINT AS {counted},
            coalesce(sales, 0)::BIGINT sales, coalesce(back, 0)::BIGINT refunds,
            (coalesce(sales, 0) - coalesce(back, 0))::BIGINT revenue
        FROM s FULL JOIN b USING ({", ".join(by)}) ORDER BY {", ".join(by)}"""
        rows = con.execute(sql, params + params).fetchall()
        names = [*by, counted, "sales", "refunds", "revenue"]
        df = pl.DataFrame(rows, schema=names, orient="row")
        return df.with_columns(pl.col(names[len(by) :]).cast(pl.Int64))

    def _revenue_polars(self, by, sale, back, amount, rename, start, end) -> pl.DataFrame:
        def rng(lf: pl.LazyFrame) -> pl.LazyFrame:
            if start is not None:
                lf = lf.filter(pl.col("business_day") >= pl.lit(start).cast(pl.Date))
            if end is not None:
                lf = lf.filter(pl.col("business_day") <= pl.lit(end).cast(pl.Date))
            return lf

        s = rng(self.scan(sale)).rename(rename)
        b = rng(self.scan(back)).rename(rename)
        if "category" in by:
            b = b.join(
                self.scan("order_lines").select("store_id", "order_id", "line_id", "category"),
                on=["store_id", "order_id", "line_id"],
            )
        cnt = "payments" if "tender" in by else "lines" if "category" in by else "orders"
        s = s.group_by(by).agg(
            pl.len().cast(pl.Int64).alias(cnt), pl.col(amount).sum().alias("sales")
        )
        b = b.group_by(by).agg(pl.col("amount").sum().alias("refunds"))
        out = (
            s.join(b, on=by, how="full", coalesce=True)
            .with_columns(pl.col(cnt, "sales", "refunds").fill_null(0).cast(pl.Int64))
            .with_columns((pl.col("sales") - pl.col("refunds")).alias("revenue"))
        )
        return out.sort(by).collect()

    def anomalies(
        self, config: RuleConfig | None = None, start: Any = None, end: Any = None
    ) -> pl.DataFrame:
        """The store's anomaly rules over every store in the warehouse (groupings include
        ``store_id``). Flags already journaled by the stores (the ``flags`` table) are left out."""
        frames = self.lazy()
        if start is not None or end is not None:

            def rng(lf: pl.LazyFrame) -> pl.LazyFrame:
                if start is not None:
                    lf = lf.filter(pl.col("business_day") >= pl.lit(start).cast(pl.Date))
                if end is not None:
                    lf = lf.filter(pl.col("business_day") <= pl.lit(end).cast(pl.Date))
                return lf

            frames = {t: (lf if t == "stock_movements" else rng(lf)) for t, lf in frames.items()}
        return score(frames, config, existing=frames["flags"])

    def bought_together(self, min_orders: int = 10, top: int = 50, by: str = "sku") -> pl.DataFrame:
        """Pairs of products (or categories: ``by="category"``) bought in the same order: how
        many orders hold both, support, confidence both ways and lift."""
        if by not in ("sku", "category"):
            raise ValueError("by is sku or category")
        con = self.duckdb()
        sql = f"""
        WITH b AS (SELECT DISTINCT store_id, order_id, {by} AS item FROM order_lines),
        n AS (SELECT count(DISTINCT (store_id, order_id)) total FROM b),
        i AS (SELECT item, count(*) cnt FROM b GROUP BY item),
        p AS (SELECT x.item a, y.item b, count(*) together FROM b x JOIN b y
              ON x.store_id = y.store_id AND x.order_id = y.order_id AND x.item < y.item
              GROUP BY ALL HAVING count(*) >= ?)
        SELECT p.a, p.b, p.together, ia.cnt orders_a, ib.cnt orders_b,
            p.together / n.total AS support, p.together / ia.cnt AS confidence_a_b,
            p.together / ib.cnt AS confidence_b_a,
            (p.together * n.total) / (ia.cnt * ib.cnt) AS lift
        FROM p, n, i ia, i ib WHERE ia.item = p.a AND ib.item = p.b
        ORDER BY lift DESC, together DESC, a, b LIMIT ?"""
        rows = con.execute(sql, [min_orders, top]).fetchall()
        cols = [
            "a",
            "b",
            "together",
            "orders_a",
            "orders_b",
            "support",
            "confidence_a_b",
            "confidence_b_a",
            "lift",
        ]
        return pl.DataFrame(rows, schema=cols, orient="row")


def open_lazy(root: str | os.PathLike) -> dict[str, pl.LazyFrame]:
    """``{table: LazyFrame}`` for a warehouse directory."""
    return Warehouse(root).lazy()


def open_duckdb(
    root: str | os.PathLike, con: duckdb.DuckDBPyConnection | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per warehouse table."""
    return Warehouse(root).duckdb(con)
