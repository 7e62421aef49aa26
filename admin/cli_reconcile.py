"""``kassa admin reconcile``: a provider's settlement statement against one store's payments in
HQ's warehouse (the same matching as ``kassa store reconcile``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import polars as pl

__all__ = ["register"]


def register(asub: argparse._SubParsersAction) -> None:
    from kassa_cli.store_reconcile import add_statement_args

    r = asub.add_parser("reconcile", help="match a provider's statement with a store's payments")
    r.add_argument("--store", required=True, help="the store id")
    r.add_argument("--hq", type=Path, default=None, help="HQ's data folder (KASSA_HQ)")
    r.add_argument("--warehouse", type=Path, default=None, help="the warehouse (HQ/warehouse)")
    r.add_argument("--currency", default="THB")
    r.add_argument("--zone", default="Asia/Bangkok", help="the store's zone (dates, days)")
    add_statement_args(r)
    r.set_defaults(func=_reconcile)


def _table(root: Path, table: str, store: str) -> pl.DataFrame:
    from analytics.hq import Warehouse

    lazy = Warehouse(root).lazy()
    if table not in lazy:
        return pl.DataFrame()
    return lazy[table].filter(pl.col("store_id") == store).collect()


def _reconcile(args: argparse.Namespace) -> int:
    from analytics.reconcile_io import journaled_from_frames, mapping_for, read_statement
    from domain.reconcile import reconcile
    from kassa_cli.store_reconcile import day_range_us, finish

    root = args.warehouse or Path(args.hq or os.environ.get("KASSA_HQ", "hq")) / "warehouse"
    mapping = mapping_for(args.provider, args.mapping)
    rows = read_statement(args.statement, mapping, args.currency, args.zone)
    start, end = day_range_us(args.day_from, args.day_to, args.zone)
    paid = journaled_from_frames(
        _table(root, "payments", args.store),
        _table(root, "refund_tenders", args.store),
        mapping,
        start,
        end,
    )
    result = reconcile(paid, rows, int(args.window_days * 86_400_000_000))
    return finish(args, result, args.currency)
