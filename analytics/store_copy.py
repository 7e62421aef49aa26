"""The store's analytics copy itself: the DuckDB file, incremental ingest, quarantine, rebuild and
the query helpers every report is built on (see ``analytics.store`` for the whole story).

``AnalyticsCopy`` is the base of ``analytics.store.StoreAnalytics``; the figures live in
``analytics.store_sales`` (sales, refunds, wallets, stock, flags) and ``analytics.store`` (X/Z).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Self

import duckdb
import polars as pl

from analytics.flatten import (
    SCHEMAS,
    TABLES,
    business_day_of,
    duckdb_ddl,
    duckdb_type,
    flatten,
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


class AnalyticsCopy:
    """The DuckDB file of one store's analytics copy: tables, ingest, rebuild, query helpers."""

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
        have = set(
            self.con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()
        )
        for t in TABLES:  # a copy made before a column was added gets it (at the end, as here)
            for col, typ in SCHEMAS[t].items():
                if (t, col) not in have:
                    self.con.execute(f'ALTER TABLE {t} ADD COLUMN "{col}" {duckdb_type(typ)}')
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

    def __enter__(self) -> Self:
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
