"""``kassa store reconcile`` (a provider's settlement statement against the store's journal) and
``kassa store suppliers-report`` (goods received per supplier); ``kassa admin reconcile`` runs
the same matching over HQ's warehouse (``admin/cli_reconcile.py``). Both read, never write, the
journal: they may run while the store sells."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["register", "add_statement_args", "day_range_us", "finish"]


def add_statement_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--statement", type=Path, required=True, help="the provider's CSV or XLSX")
    p.add_argument("--provider", required=True, help="a mapping name: generic, card-acquirer, …")
    p.add_argument("--mapping", type=Path, default=None, help="a JSON file of more mappings")
    p.add_argument("--from", dest="day_from", default=None, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="day_to", default=None, help="last day, YYYY-MM-DD (included)")
    p.add_argument("--window-days", type=float, default=3.0, help="date window of a match")
    p.add_argument("--out", type=Path, default=None, help="CSV of every pair (default: beside)")


def register(ssub: argparse._SubParsersAction) -> None:
    r = ssub.add_parser("reconcile", help="match a provider's statement with journaled payments")
    r.add_argument("--data", type=Path, default=Path("kassa-data"))
    add_statement_args(r)
    r.set_defaults(func=_reconcile)
    s = ssub.add_parser(
        "suppliers-report", help="goods received per supplier and product, and their value"
    )
    s.add_argument("--data", type=Path, default=Path("kassa-data"))
    s.add_argument("--from", dest="day_from", default=None, help="first day, YYYY-MM-DD")
    s.add_argument("--to", dest="day_to", default=None, help="last day, YYYY-MM-DD (included)")
    s.add_argument("--out", type=Path, default=None, help="also write it as CSV")
    s.set_defaults(func=_suppliers)


def day_range_us(day_from: str | None, day_to: str | None, zone: str) -> tuple[Any, Any]:
    """[start, end) in UTC µs of whole local days; None where open."""
    tz = ZoneInfo(zone)

    def at(d: date) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1_000_000)

    start = at(date.fromisoformat(day_from)) if day_from else None
    end = at(date.fromisoformat(day_to) + timedelta(days=1)) if day_to else None
    return start, end


def finish(args: argparse.Namespace, result: Any, currency: str) -> int:
    from analytics.reconcile_io import print_report, report_frame

    print_report(result, currency)
    out = args.out or args.statement.with_name(args.statement.stem + "-reconciled.csv")
    report_frame(result).write_csv(out)
    print(f"written: {out}")
    s = result.summary()
    return 0 if s["missing"] == s["extra"] == s["amount_differs"] == 0 else 3


def _journal(data: Path) -> Any:
    from actors.journal import Journal

    return Journal(data / "journal.sqlite")


def _reconcile(args: argparse.Namespace) -> int:
    from actors.store_file import load_config
    from analytics.reconcile_io import (
        journal_frames,
        journaled_from_frames,
        mapping_for,
        read_statement,
    )
    from domain.reconcile import reconcile

    cfg = load_config(args.data)
    mapping = mapping_for(args.provider, args.mapping)
    rows = read_statement(args.statement, mapping, cfg.currency, cfg.zone)
    start, end = day_range_us(args.day_from, args.day_to, cfg.zone)
    journal = _journal(args.data)
    try:
        frames = journal_frames(journal.scan(), cfg.store_id, cfg.zone)
    finally:
        journal.close()
    paid = journaled_from_frames(frames["payments"], frames["refund_tenders"], mapping, start, end)
    result = reconcile(paid, rows, int(args.window_days * 86_400_000_000))
    return finish(args, result, cfg.currency)


def _suppliers(args: argparse.Namespace) -> int:
    from actors.store_file import load_config
    from analytics.reconcile_io import supplier_report

    cfg = load_config(args.data)
    start, end = day_range_us(args.day_from, args.day_to, cfg.zone)
    journal = _journal(args.data)
    try:
        df = supplier_report(journal.scan(), cfg.zone, start, end)
    finally:
        journal.close()
    print(df)
    import polars as pl

    from domain.money import format_money

    owed = df.group_by("supplier").agg(pl.col("value").sum()).sort("supplier")
    for supplier, value in owed.rows():
        print(f"{supplier}: {format_money(int(value), cfg.currency)} owed for goods received")
    if args.out:
        df.write_csv(args.out)
        print(f"written: {args.out}")
    return 0
