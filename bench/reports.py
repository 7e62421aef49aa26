"""Benchmarks of analytics (issue 7), each beside a pandas baseline in the same run.

    uv run python bench/reports.py                 # full sizes (5M lines, 1M orders, 100M lines)
    uv run python bench/reports.py --scale 0.05    # a quick run

1. Z report of one day on a store DuckDB holding a year of 5M order lines (target ≤ 50 ms), and the
   full-year report (by month, category, tender, tax) on it (target ≤ 500 ms), with
   ``analytics.store.StoreAnalytics``.
2. Anomaly scoring of 1M orders (and their lines, refunds, voids, stock moves) with
   ``analytics.anomaly.score`` (target ≤ 2 s).
3. HQ revenue by store/day/tender over a Parquet warehouse (hive layout) holding 100M order lines
   and their orders, payments and refunds, with ``analytics.hq.Warehouse.revenue`` (target ≤ 3 s).

Data is generated with DuckDB directly (same schema as ``analytics.flatten``). pandas baselines
compute the same figures from in-memory DataFrames (loading is not timed, so pandas is favoured);
for the 100M warehouse pandas runs on a 10M-line sample (one store in ten), as the output says.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from analytics.anomaly import score
from analytics.flatten import SCHEMAS
from analytics.hq import Warehouse
from analytics.store import StoreAnalytics


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# --------------------------------------------------------------------------- data
LINES_SQL = """
SELECT {store} AS store_id, o AS seq,
    (local_ts - INTERVAL 7 HOUR)::TIMESTAMPTZ AS ts, day AS business_day, local_ts,
    't' || (1 + o % {tills}) AS till, 'c' || (1 + (o // 7) % {staff}) AS staff,
    'O' || {store_expr} || '-' || o AS order_id, 'L' || (i - o * 3) AS line_id,
    'P' || lpad((sku_n)::VARCHAR, 4, '0') AS sku, 'item ' || sku_n AS name,
    'cat' || (sku_n % 20) AS category, 'each' AS unit, qty, unit_price,
    qty * unit_price AS base, disc AS discount, qty * unit_price - disc AS amount,
    (qty * unit_price - disc) - ((qty * unit_price - disc) * 10000 + 5350) // 10700 AS tax,
    qty * unit_price - disc AS total, 'std' AS tax_class, 700 AS rate_bp
FROM (
    SELECT i, o, sku_n, qty, unit_price,
        CASE WHEN h % 20 = 0 THEN qty * unit_price // 10 ELSE 0 END AS disc,
        DATE '{start}' + (o * {days} // {orders})::INTEGER AS day,
        (DATE '{start}' + (o * {days} // {orders})::INTEGER)::TIMESTAMP
            + to_minutes((8 * 60 + (hash(o) % 840))::BIGINT) AS local_ts
    FROM (SELECT i, i // 3 AS o, hash(i) AS h, (hash(i * 7) % 2000)::BIGINT AS sku_n,
                 (1 + hash(i * 13) % 3)::BIGINT AS qty,
                 (1000 + (hash(i * 7) % 2000) % 97 * 500)::BIGINT AS unit_price
          FROM range({first}, {last}) t(i)))
"""


def order_tables(con: duckdb.DuckDBPyConnection, lines: str, into: str = "") -> None:
    """orders, payments, refunds, refund_tenders derived from a lines table."""
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _o AS SELECT store_id, min(seq) seq, min(ts) ts,
        min(business_day) business_day, min(local_ts) local_ts, min(till) till, min(staff) staff,
        order_id, count(*) n_lines, sum(base)::BIGINT subtotal, sum(discount)::BIGINT discount,
        sum(tax)::BIGINT tax, sum(total)::BIGINT total, hash(order_id) % 100 AS pk
        FROM {lines} GROUP BY store_id, order_id""")
    con.execute("""CREATE OR REPLACE TEMP VIEW orders_v AS SELECT store_id, seq, ts, business_day,
        local_ts, order_id AS event_id, till, staff, '10.0.0.1' || right(till, 1) AS ip, order_id,
        order_id AS number, 'THB' currency, true prices_include_tax,
        CASE WHEN pk >= 93 THEN 'M' || (seq % 500) ELSE '' END AS member, n_lines, subtotal,
        discount, tax, total, 0::BIGINT rounding, total AS paid,
        CASE WHEN pk < 55 THEN total ELSE 0 END::BIGINT cash,
        CASE WHEN pk >= 55 AND pk < 93 THEN total ELSE 0 END::BIGINT card,
        CASE WHEN pk >= 93 THEN total ELSE 0 END::BIGINT wallet,
        CASE WHEN pk < 55 THEN (total // 100000 + 1) * 100000 ELSE 0 END::BIGINT tendered,
        CASE WHEN pk < 55 THEN (total // 100000 + 1) * 100000 - total ELSE 0 END::BIGINT change
        FROM _o""")
    con.execute("""CREATE OR REPLACE TEMP VIEW payments_v AS SELECT store_id, seq, ts,
        business_day, till, staff, order_id, 0::BIGINT idx,
        CASE WHEN cash > 0 THEN 'cash' WHEN card > 0 THEN 'card' ELSE 'wallet' END kind,
        total AS amount, tendered, change, '' reference, '' last4, member FROM orders_v""")
    con.execute("""CREATE OR REPLACE TEMP VIEW refunds_v AS SELECT store_id, seq,
        ts + INTERVAL 1 DAY ts, business_day + 1 AS business_day,
        local_ts + INTERVAL 1 DAY local_ts, 'R' || order_id event_id, 't9' till, 'as1' staff,
        '10.0.0.19' ip, 'R' || order_id refund_id, order_id,
        'THB' currency, n_lines, total AS amount, tax, 0::BIGINT rounding, total AS given, cash,
        card, wallet, 'return' reason, staff AS original_staff, ts AS original_ts
        FROM orders_v WHERE hash(order_id || 'r') % 100 = 0""")
    con.execute("""CREATE OR REPLACE TEMP VIEW refund_tenders_v AS SELECT store_id, seq, ts,
        business_day, till, staff, refund_id, order_id, 0::BIGINT idx,
        CASE WHEN cash > 0 THEN 'cash' WHEN card > 0 THEN 'card' ELSE 'wallet' END kind,
        given AS amount, '' reference, '' member FROM refunds_v""")


def build_store(path: str, n_lines: int) -> StoreAnalytics:
    sa = StoreAnalytics(path, "Asia/Bangkok", "S001", threads=2)
    con = sa.con
    orders = n_lines // 3
    con.execute(
        "INSERT INTO order_lines BY NAME "
        + LINES_SQL.format(
            store="'S001'",
            store_expr="'S001'",
            tills=4,
            staff=8,
            start="2024-01-01",
            days=366,
            orders=orders,
            first=0,
            last=n_lines,
        )
    )
    order_tables(con, "order_lines")
    for t in ("orders", "payments", "refunds", "refund_tenders"):
        con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM {t}_v")
    con.execute("""INSERT INTO stock_movements BY NAME SELECT store_id, seq, ts, business_day,
        till, staff, sku, 'sale' kind, -qty delta, order_id, '' reference FROM order_lines""")
    con.execute("""INSERT INTO stock_movements BY NAME SELECT 'S001' store_id, 0 seq,
        TIMESTAMPTZ '2023-12-31 00:00:00+00' ts, DATE '2023-12-31' business_day, 't9' till,
        'm1' staff, sku, 'received' kind, 10000000 delta, '' order_id, 'PO' reference
        FROM (SELECT DISTINCT sku FROM order_lines)""")
    con.execute("""INSERT INTO voids BY NAME SELECT store_id, seq, ts, business_day, local_ts,
        'V' || order_id event_id, till, staff, '' ip, 'V' || order_id basket,
        'customer left' reason, n_lines lines, total amount FROM orders_v
        WHERE hash(order_id || 'v') % 200 = 0""")
    con.execute("""INSERT INTO wallet_movements BY NAME SELECT store_id, seq, ts, business_day,
        till, staff, member, 'spend' kind, -wallet amount, '' tender, order_id, '' refund_id,
        '' reference FROM orders_v WHERE wallet > 0""")
    con.execute("""INSERT INTO wallet_movements BY NAME SELECT store_id, seq, ts, business_day,
        till, staff, member, 'topup' kind, 500000 amount,
        CASE WHEN seq % 2 = 0 THEN 'cash' ELSE 'card' END tender, '' order_id, '' refund_id,
        '' reference FROM orders_v WHERE member <> '' AND hash(order_id) % 10 = 0""")
    con.execute("""INSERT INTO day_closes BY NAME SELECT 'S001' store_id, 0 seq,
        (d::TIMESTAMP)::TIMESTAMPTZ ts, d::DATE business_day, '' event_id, 't' || t till,
        'm1' staff, e event, CASE WHEN e = 'opened' THEN 200000 END opening_float,
        CASE WHEN e = 'closed' THEN 1000000 END counted_cash, '' z_report
        FROM range(DATE '2024-01-01', DATE '2025-01-01', INTERVAL 1 DAY) r(d),
             range(1, 5) tt(t), (VALUES ('opened'), ('closed')) ev(e)""")
    con.execute("UPDATE ingest_state SET last_seq = (SELECT max(seq) FROM orders)")
    con.execute("CHECKPOINT")
    return sa


def to_pandas(con: duckdb.DuckDBPyConnection, sql: str):
    return con.sql(sql).df()


# --------------------------------------------------------------------------- pandas baselines
def pandas_z(pdf: dict, day) -> dict:
    import pandas as pd

    out = {}
    o = pdf["orders"][pdf["orders"]["business_day"] == day]
    out["orders"] = o.groupby(["till", "staff"])[
        [
            "subtotal",
            "discount",
            "total",
            "tax",
            "rounding",
            "cash",
            "card",
            "wallet",
            "tendered",
            "change",
        ]
    ].sum()
    r = pdf["refunds"][pdf["refunds"]["business_day"] == day]
    out["refunds"] = r.groupby(["till", "staff"])[
        ["amount", "tax", "rounding", "given", "cash", "card", "wallet"]
    ].sum()
    w = pdf["wallet_movements"]
    w = w[(w["business_day"] == day) & (w["kind"] == "topup")]
    out["topups"] = w.groupby(["till", "staff", "tender"])["amount"].sum()
    v = pdf["voids"][pdf["voids"]["business_day"] == day]
    out["voids"] = v.groupby(["till", "staff"])["amount"].agg(["count", "sum"])
    d = pdf["day_closes"][pdf["day_closes"]["business_day"] == day]
    out["drawers"] = d.groupby(["till", "event"])[["opening_float", "counted_cash"]].last()
    by_till = out["orders"].groupby(level="till").sum()
    return {"cash_sales": int(by_till["cash"].sum()), "_": pd.__version__}


def pandas_year(pdf: dict) -> dict:
    o, ln = pdf["orders"], pdf["order_lines"]
    month = o.groupby(o["business_day"].astype("datetime64[s]").dt.to_period("M"))[
        ["subtotal", "discount", "total", "tax"]
    ].sum()
    cat = ln.groupby("category")[["qty", "base", "discount", "total", "tax"]].sum()
    rl = pdf["refund_lines_joined"]
    cat_r = rl.groupby("category")["amount"].sum()
    ten = pdf["payments"].groupby("kind")["amount"].agg(["count", "sum"])
    ten_r = pdf["refund_tenders"].groupby("kind")["amount"].agg(["count", "sum"])
    tax = ln.groupby(["tax_class", "rate_bp"])[["amount", "tax", "total"]].sum()
    return {
        "months": len(month),
        "cats": len(cat),
        "x": len(cat_r) + len(ten) + len(ten_r) + len(tax),
    }


def pandas_anomaly(o, ln, r, v, s) -> int:
    import numpy as np

    flags = 0
    bp = (o["discount"] * 10000.0 / o["subtotal"].where(o["subtotal"] > 0)).fillna(0)
    flags += int((bp >= 2000).sum())
    near = o[(bp >= 850) & (bp < 995)]
    flags += int((near.groupby(["staff", "business_day"])["order_id"].transform("size") >= 5).sum())
    m = o["local_ts"].dt.hour * 60 + o["local_ts"].dt.minute
    flags += int(((m < 465) | (m >= 1335)).sum())
    x = np.log(o["total"].astype(float) + 1)
    hour = o["local_ts"].dt.hour
    zs = []
    for keys in (o["staff"], hour):
        med = x.groupby(keys).transform("median")
        mad = (x - med).abs().groupby(keys).transform("median") * 1.4826
        zs.append((x - med) / mad)
    flags += int(((zs[0] >= 4) & (zs[1] >= 4)).sum())
    n = o.groupby("staff")["order_id"].transform("size")
    nt = o.groupby(["staff", "till"])["order_id"].transform("size")
    ni = o.groupby(["staff", "ip"])["order_id"].transform("size")
    flags += int(
        ((n >= 50) & (((nt <= 3) & (nt < 0.02 * n)) | ((ni <= 3) & (ni < 0.02 * n)))).sum()
    )
    usual = ln.groupby("sku")["unit_price"].transform("median")
    flags += int((ln["unit_price"] * 10000.0 <= usual * 7000).sum())
    mins = (r["ts"] - r["original_ts"]).dt.total_seconds() / 60
    flags += int(((r["staff"] == r["original_staff"]) & (mins <= 30)).sum())
    sellers = set(o["staff"].unique())
    flags += int(((r["staff"] != r["original_staff"]) & r["staff"].isin(sellers)).sum())
    vn = v.groupby(["staff", "business_day"])["basket"].transform("size")
    flags += int(((v["amount"] >= 100000) | (vn > 5)).sum())
    s = s.sort_values(["sku", "seq"], kind="stable")
    seg = (s["kind"] == "counted").astype(int).groupby(s["sku"]).cumsum()
    val = s["counted"].where(s["kind"] == "counted", s["delta"])
    level = val.groupby([s["sku"], seg]).cumsum()
    flags += int(((s["kind"] == "sale") & (level < 0)).sum())
    return flags


# --------------------------------------------------------------------------- HQ warehouse
def build_warehouse(root: Path, n_lines: int, stores: int) -> None:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    per = n_lines // stores
    for t in ("order_lines", "orders", "payments", "refunds", "refund_tenders"):
        (root / t).mkdir(parents=True, exist_ok=True)
    for s in range(stores):
        sid = f"S{s + 1:03d}"
        lines = LINES_SQL.format(
            store=f"'{sid}'",
            store_expr=f"'{sid}'",
            tills=4,
            staff=8,
            start="2024-01-01",
            days=366,
            orders=per // 3,
            first=0,
            last=per,
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _l AS {lines}")
        order_tables(con, "_l")
        for t, src in (
            ("order_lines", "_l"),
            ("orders", "orders_v"),
            ("payments", "payments_v"),
            ("refunds", "refunds_v"),
            ("refund_tenders", "refund_tenders_v"),
        ):
            cols = ", ".join(f'"{c}"' for c in SCHEMAS[t])
            con.execute(f"""COPY (SELECT {cols}, store_id AS store, business_day AS day
                FROM {src}) TO '{root / t}' (FORMAT parquet, PARTITION_BY (store, day),
                OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'part-{{i}}')""")
        con.execute("DROP TABLE _l")
    con.close()


def pandas_hq(root: Path, stores_sampled: list[str]):
    con = duckdb.connect()
    wh = Warehouse(root).duckdb(con)
    ids = ", ".join(f"'{s}'" for s in stores_sampled)
    pay = to_pandas(
        wh, f"SELECT store_id, business_day, kind, amount FROM payments WHERE store_id IN ({ids})"
    )
    ref = to_pandas(
        wh,
        f"SELECT store_id, business_day, kind, amount FROM refund_tenders "
        f"WHERE store_id IN ({ids})",
    )
    lines = wh.execute(f"SELECT count(*) FROM order_lines WHERE store_id IN ({ids})").fetchall()[0][
        0
    ]
    con.close()

    def run():
        s = pay.groupby(["store_id", "business_day", "kind"])["amount"].agg(["size", "sum"])
        b = ref.groupby(["store_id", "business_day", "kind"])["amount"].sum().rename("refunds")
        out = s.join(b, how="outer").fillna(0)
        out["revenue"] = out["sum"] - out["refunds"]
        return out

    return run, lines


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    ap.add_argument("--dir", default=None, help="work directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--parts", default="store,anomaly,hq", help="comma-separated subset of store,anomaly,hq"
    )
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="kassa-bench-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    store_lines = int(5_000_000 * args.scale)
    anomaly_orders = int(1_000_000 * args.scale)
    hq_lines = int(100_000_000 * args.scale)
    res: dict[str, object] = {
        "store_lines": store_lines,
        "anomaly_orders": anomaly_orders,
        "hq_lines": hq_lines,
    }
    try:
        parts = set(args.parts.split(","))
        # ---------------------------------------------------------- 1. store Z + year
        t = time.perf_counter()
        sa = build_store(str(work / "store.duckdb"), store_lines)
        print(
            f"store DuckDB with {store_lines:,} lines built in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        day = date(2024, 7, 15)
        if "store" in parts:
            _store_part(sa, day, res)
        if "anomaly" in parts:
            _anomaly_part(sa, anomaly_orders, res)
        sa.close()
        gc.collect()
        if "hq" in parts:
            _hq_part(work, hq_lines, res)
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(res))


def _store_part(sa, day, res) -> None:
    sa.z_report(day)
    z_s, z = timed(lambda: sa.z_report(day), 9)
    y_s, _ = timed(lambda: sa.year_report(2024), 3)
    print(
        f"Z report of {day}: {z_s * 1000:.1f} ms ({z['totals']['orders']} orders); "
        f"year report: {y_s * 1000:.0f} ms",
        flush=True,
    )
    res.update(z_report_ms=round(z_s * 1000, 2), year_report_ms=round(y_s * 1000, 1))
    _pandas_store_part(sa.con, day, res)
    gc.collect()


def _pandas_store_part(con, day, res) -> None:
    """The pandas baseline of the store reports; its frames are freed when it returns."""
    pdf = {
        t_: to_pandas(
            con, f"SELECT * EXCLUDE (ts{', original_ts' if t_ == 'refunds' else ''}) FROM {t_}"
        )
        for t_ in (
            "orders",
            "order_lines",
            "payments",
            "refunds",
            "refund_tenders",
            "wallet_movements",
            "voids",
            "day_closes",
        )
    }
    pdf["refund_lines_joined"] = to_pandas(
        con,
        """SELECT l.category, r.amount FROM refunds r
        JOIN order_lines l USING (order_id)""",
    )
    pday = (
        pdf["orders"]["business_day"].iloc[0].__class__(2024, 7, 15)
        if hasattr(pdf["orders"]["business_day"].iloc[0], "year")
        else day
    )
    pz_s, _ = timed(lambda: pandas_z(pdf, pday), 5)
    py_s, _ = timed(lambda: pandas_year(pdf), 3)
    print(f"pandas: Z {pz_s * 1000:.1f} ms, year {py_s * 1000:.0f} ms (data preloaded)", flush=True)
    res.update(
        pandas_z_report_ms=round(pz_s * 1000, 2), pandas_year_report_ms=round(py_s * 1000, 1)
    )


def _anomaly_part(sa, anomaly_orders, res) -> None:
    con = sa.con
    n_orders = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
    days = con.execute("SELECT min(business_day), max(business_day) FROM orders").fetchall()[0]
    last_day = days[0] + (days[1] - days[0]) * min(1.0, anomaly_orders / n_orders)
    _polars_anomaly_part(sa, last_day, res)
    gc.collect()
    _pandas_anomaly_part(con, last_day, res)


def _polars_anomaly_part(sa, last_day, res) -> None:
    """Anomaly scoring with ``analytics.anomaly``; its frames are freed when it returns."""
    frames = sa.frames(None, last_day)
    got = frames["orders"].height
    score(frames)  # warm up
    a_s, flags = timed(lambda: score(frames), 3)
    print(
        f"anomaly scoring of {got:,} orders ({frames['order_lines'].height:,} lines, "
        f"{frames['stock_movements'].height:,} stock moves): {a_s:.2f} s, "
        f"{flags.height} flags",
        flush=True,
    )
    res.update(anomaly_1m_s=round(a_s, 3), anomaly_orders=got, anomaly_flags=flags.height)


def _pandas_anomaly_part(con, last_day, res) -> None:
    """The pandas baseline of the anomaly scoring; its frames are freed when it returns."""
    w = "WHERE business_day <= ?"
    po = con.sql(f"SELECT * EXCLUDE (ts) FROM orders {w}", params=[last_day]).df()
    pl_ = con.sql(f"SELECT sku, unit_price FROM order_lines {w}", params=[last_day]).df()
    pr = con.sql(
        f"SELECT staff, original_staff, ts::TIMESTAMP ts, original_ts::TIMESTAMP "
        f"original_ts FROM refunds {w}",
        params=[last_day],
    ).df()
    pv = con.sql(
        f"SELECT staff, business_day, basket, amount FROM voids {w}", params=[last_day]
    ).df()
    ps = con.sql("SELECT sku, seq, kind, delta, counted FROM stock_movements").df()
    pa_s, _ = timed(lambda: pandas_anomaly(po, pl_, pr, pv, ps), 1)
    print(f"pandas anomaly scoring: {pa_s:.2f} s", flush=True)
    res["pandas_anomaly_1m_s"] = round(pa_s, 3)


def _hq_part(work, hq_lines, res) -> None:
    root = work / "warehouse"
    stores = 10
    t = time.perf_counter()
    build_warehouse(root, hq_lines, stores)
    print(
        f"warehouse of {hq_lines:,} order lines ({stores} stores x 366 days) written in "
        f"{time.perf_counter() - t:.0f} s",
        flush=True,
    )
    wh = Warehouse(root)
    wh.revenue(("store_id", "business_day", "tender"))
    h_s, rev = timed(lambda: wh.revenue(("store_id", "business_day", "tender")), 3)
    print(
        f"HQ revenue by store/day/tender (Polars engine, the default): {h_s:.2f} s "
        f"({rev.height} rows)",
        flush=True,
    )
    res.update(hq_100m_s=round(h_s, 3), hq_rows=rev.height)
    d_s, _ = timed(lambda: wh.revenue(("store_id", "business_day", "tender"), engine="duckdb"), 3)
    print(f"HQ revenue by store/day/tender with the DuckDB engine: {d_s:.2f} s", flush=True)
    res["hq_100m_duckdb_s"] = round(d_s, 3)
    c_s, _ = timed(lambda: wh.revenue(("store_id", "business_day", "category")), 1)
    print(f"HQ revenue by store/day/category (reads every order line): {c_s:.2f} s", flush=True)
    res["hq_100m_category_s"] = round(c_s, 3)
    run, sample_lines = pandas_hq(root, ["S001"])
    ph_s, _ = timed(run, 3)
    print(
        f"pandas HQ revenue on a sample of {sample_lines:,} lines (1 store of {stores}): "
        f"{ph_s:.2f} s",
        flush=True,
    )
    res.update(
        pandas_hq_100m_s=round(ph_s, 3),
        pandas_hq_sample_lines=sample_lines,
        pandas_hq_note=f"pandas ran on a {sample_lines:,}-line sample (1 of {stores} "
        "stores), data preloaded",
    )


if __name__ == "__main__":
    main()
