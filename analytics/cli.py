"""``kassa analytics ...``: reports, exports, anomaly scoring, HQ questions and demo data.

    kassa analytics rebuild  --data DIR                    # DuckDB copy from the journal
    kassa analytics report   --data DIR --kind z --day 2024-03-10 [--till T1] [--out z.xlsx]
    kassa analytics report   --data DIR --kind sales --by category --from ... --to ...
    kassa analytics report   --data DIR --kind cashier --staff c1 --day ...
    kassa analytics report   --data DIR --kind wallet|stock|negative-stock|refunds
    kassa analytics flags    --data DIR [--from ... --to ...]
    kassa analytics hq       --warehouse DIR --kind revenue --by store_id,business_day,tender
    kassa analytics generate --data DIR --days 28           # a demo journal with planted anomalies

The store's analytics DuckDB lives at ``DIR/analytics.duckdb`` beside ``DIR/journal.sqlite``. DuckDB
locks the file: while the store server runs, its analytics actor owns it and these commands must go
through the server instead (they fail with DuckDB's lock error) — except ``flags``, which then
scores a snapshot of the journal. ``flags`` uses the store's own settings (``store.json``: opening
hours, zone, discount limit, "anomaly" thresholds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="the store's data folder")
    p.add_argument("--zone", default=None, help="store zone (default: the store config's)")
    p.add_argument("--store-id", default=None)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analytics", help="reports, exports, anomaly flags, HQ warehouse")
    a = p.add_subparsers(dest="analytics_cmd", metavar="ACTION")

    r = a.add_parser("rebuild", help="rebuild the analytics DuckDB from the journal")
    _store_args(r)
    r.set_defaults(func=_rebuild)

    r = a.add_parser("report", help="print or export a report")
    _store_args(r)
    r.add_argument(
        "--kind",
        default="x",
        choices=[
            "x",
            "z",
            "sales",
            "cashier",
            "wallet",
            "stock",
            "negative-stock",
            "low-stock",
            "refunds",
            "year",
        ],
    )
    r.add_argument("--day", help="business day YYYY-MM-DD (x/z/cashier; default: the last)")
    r.add_argument("--till")
    r.add_argument("--staff")
    r.add_argument(
        "--by",
        default="category",
        help="sales: hour|day|month|category|product|tender|tax|discount|till|staff",
    )
    r.add_argument("--from", dest="start")
    r.add_argument("--to", dest="end")
    r.add_argument("--below", type=int, default=5, help="low-stock threshold")
    r.add_argument("--out", type=Path, help="export to .csv or .xlsx")
    r.add_argument("--no-refresh", action="store_true", help="do not ingest new journal events")
    r.set_defaults(func=_report)

    r = a.add_parser("flags", help="score the anomaly rules and print the flags")
    _store_args(r)
    r.add_argument("--from", dest="start")
    r.add_argument("--to", dest="end")
    r.add_argument("--out", type=Path)
    r.set_defaults(func=_flags)

    r = a.add_parser("hq", help="questions over an HQ Parquet warehouse")
    r.add_argument("--warehouse", required=True, type=Path)
    r.add_argument("--kind", default="revenue", choices=["revenue", "anomalies", "bought-together"])
    r.add_argument("--by", default="store_id,business_day")
    r.add_argument("--engine", default="polars", choices=["polars", "duckdb"])
    r.add_argument("--min-orders", type=int, default=10)
    r.add_argument("--out", type=Path)
    r.set_defaults(func=_hq)

    r = a.add_parser("generate", help="write a demo journal with planted anomalies")
    r.add_argument("--data", required=True, type=Path)
    r.add_argument("--days", type=int, default=28)
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--clean", action="store_true", help="plant no anomalies")
    r.set_defaults(func=_generate)


def _config(args: argparse.Namespace) -> tuple[str, str]:
    zone, sid = args.zone, args.store_id
    if zone is None or sid is None:
        from domain.store import StoreConfig

        cfg = StoreConfig()
        for name in ("store.json", "config.json"):
            f = Path(args.data) / name
            if f.exists():
                try:
                    cfg = StoreConfig.from_dict(json.loads(f.read_text()))
                except Exception:
                    pass
                break
        zone, sid = zone or cfg.zone, sid or cfg.store_id
    return zone, sid


def _open(args: argparse.Namespace, refresh: bool = True):
    from analytics.store import StoreAnalytics

    zone, sid = _config(args)
    sa = StoreAnalytics(Path(args.data) / "analytics.duckdb", zone, sid)
    journal = Path(args.data) / "journal.sqlite"
    if refresh and journal.exists():
        from actors.journal import Journal

        j = Journal(journal)
        try:
            sa.ingest(j.scan(after=sa.last_seq))
        finally:
            j.close()
    return sa


def _print(obj) -> None:
    import polars as pl

    if isinstance(obj, pl.DataFrame):
        with pl.Config(tbl_rows=60, tbl_cols=20, tbl_width_chars=180):
            print(obj)
    elif isinstance(obj, dict) and all(isinstance(v, pl.DataFrame) for v in obj.values()):
        for k, v in obj.items():
            print(f"## {k}")
            _print(v)
    else:
        print(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def _rebuild(args: argparse.Namespace) -> int:
    from actors.journal import Journal

    journal = Path(args.data) / "journal.sqlite"
    if not journal.exists():
        print(f"no journal at {journal}", file=sys.stderr)
        return 2
    sa = _open(args, refresh=False)
    j = Journal(journal)
    try:
        n = sa.rebuild(j.scan())
    finally:
        j.close()
        sa.close()
    print(f"analytics rebuilt from {n} events")
    return 0


def _report(args: argparse.Namespace) -> int:
    sa = _open(args, refresh=not args.no_refresh)
    try:
        day = args.day
        if day is None and args.kind in ("x", "z", "cashier"):
            rows = sa.rows("SELECT max(business_day) d FROM orders")
            day = rows[0]["d"] if rows and rows[0]["d"] else None
            if day is None:
                print("no sales yet", file=sys.stderr)
                return 1
        k = args.kind
        if k in ("x", "z"):
            what = sa.day_report(day, k.upper(), args.till, args.staff)
        elif k == "cashier":
            if not args.staff:
                print("--staff is required", file=sys.stderr)
                return 2
            what = sa.cashier_report(args.staff, day)
        elif k == "sales":
            what = sa.sales_by(args.by, args.start, args.end, args.till, args.staff)
        elif k == "year":
            what = sa.period_report(args.start or "1900-01-01", args.end or "9999-12-31")
        elif k == "wallet":
            liab = sa.wallet_liability(args.end)
            what = liab["by_member"] if args.out else liab
        elif k == "stock":
            what = sa.stock_on_hand()
        elif k == "negative-stock":
            what = sa.negative_stock()
        elif k == "low-stock":
            what = sa.low_stock(args.below)
        else:
            what = sa.refunds_and_voids(args.start, args.end, args.staff)
        if args.out:
            print(sa.export(what, args.out))
        else:
            _print(what)
        return 0
    finally:
        sa.close()


def _flags(args: argparse.Namespace) -> int:
    """Score with the store's own settings; while the store runs (its analytics actor holds the
    DuckDB lock) score a consistent snapshot: the journal read-only into a copy in memory."""
    from analytics.anomaly_settings import rule_settings, rules_from
    from analytics.flagging import score_store

    cfg = _store_config(args)
    try:
        sa = _open(args)
        snapshot = False
    except Exception as exc:  # duckdb.IOException: "Could not set lock on file"
        if "lock" not in str(exc).lower():
            raise
        sa, snapshot = _snapshot(args), True
    try:
        rules = rules_from(rule_settings(cfg))
        flags = score_store(sa, rules, args.start, args.end, args.data, new_only=False)
        if snapshot:
            print("(the store is running: scored a snapshot of its journal)", file=sys.stderr)
        if args.out:
            print(sa.export(flags, args.out))
        else:
            _print(flags.drop("ts"))
        return 0
    finally:
        sa.close()


def _store_config(args: argparse.Namespace):
    from actors.store_file import load_config
    from domain.store import StoreConfig

    f = Path(args.data) / "store.json"
    return load_config(Path(args.data)) if f.exists() else StoreConfig()


def _snapshot(args: argparse.Namespace):
    """An in-memory analytics copy of the journal as it stands (SQLite read-only: WAL readers
    see one consistent state while the ledger writes)."""
    from actors.journal import COLS, _env, connect
    from analytics.store import StoreAnalytics

    zone, sid = _config(args)
    sa = StoreAnalytics(":memory:", zone, sid)
    con = connect(Path(args.data) / "journal.sqlite", readonly=True)
    try:
        con.execute("BEGIN")
        sa.ingest(_env(r) for r in con.execute(f"SELECT {COLS} FROM events ORDER BY seq"))
    finally:
        con.close()
    return sa


def _hq(args: argparse.Namespace) -> int:
    from analytics.hq import Warehouse

    wh = Warehouse(args.warehouse)
    if args.kind == "revenue":
        df = wh.revenue(
            tuple(b.strip() for b in args.by.split(",") if b.strip()), engine=args.engine
        )
    elif args.kind == "anomalies":
        df = wh.anomalies()
    else:
        df = wh.bought_together(min_orders=args.min_orders)
    if args.out:
        (df.write_excel(str(args.out)) if args.out.suffix == ".xlsx" else df.write_csv(args.out))
        print(args.out)
    else:
        _print(df)
    return 0


def _generate(args: argparse.Namespace) -> int:
    from analytics.generate import generate, write_journal

    path = Path(args.data) / "journal.sqlite"
    if path.exists():
        print(f"{path} exists; choose an empty folder", file=sys.stderr)
        return 2
    Path(args.data).mkdir(parents=True, exist_ok=True)
    h = generate(days=args.days, seed=args.seed, plant=not args.clean)
    write_journal(str(path), h)
    print(
        f"{len(h.envelopes)} events over {args.days} days written to {path}; "
        f"{len(h.planted)} planted anomalies"
    )
    return 0
