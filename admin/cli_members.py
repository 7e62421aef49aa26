"""``kassa admin members import|export|show ...``: HQ's members chain-wide, on ``--hq DIR``.

    kassa admin members import FILE.csv|FILE.xlsx    members (and opening wallet balances)
    kassa admin members export FILE.csv|FILE.xlsx    every member with balances
    kassa admin members show MEMBER                  pool, each store's float, in transit

They work on HQ's files directly, beside a running cloud (``cloud.members``). An import takes the
good rows and lists the bad ones with their row numbers (exit status 1 if there were any).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _hq(args: argparse.Namespace) -> Any:
    from admin.cli import _hq_default
    from cloud.ingest import Ingestor
    from cloud.members_db import MembersHQ
    from cloud.registry import Registry
    from domain.ports import SystemClock

    data = Path(args.hq) if args.hq else _hq_default()
    registry = Registry(data)
    clock = SystemClock()
    return MembersHQ(data, Ingestor(data, registry, clock), registry, clock)


def _import(args: argparse.Namespace) -> int:
    from cloud.members_io import import_rows

    hq = _hq(args)
    try:
        res = import_rows(hq, Path(args.file).read_bytes(), args.file.name)
    finally:
        hq.close()
    print(f"{res['imported']} members imported")
    for e in res["errors"]:
        print(f"row {e['row']} ({e['member'] or '?'}): {e['error']}", file=sys.stderr)
    return 1 if res["errors"] else 0


def _export(args: argparse.Namespace) -> int:
    from cloud.members_io import export_csv, export_xlsx

    hq = _hq(args)
    try:
        hq.follow()
        xlsx = args.file.name.lower().endswith(".xlsx")
        data = export_xlsx(hq) if xlsx else export_csv(hq)
    finally:
        hq.close()
    args.file.write_bytes(data)
    print(f"members written to {args.file}")
    return 0


def _show(args: argparse.Namespace) -> int:
    hq = _hq(args)
    try:
        hq.follow()
        print(json.dumps({"member": args.member, **hq.balances(args.member)}, indent=1))
    finally:
        hq.close()
    return 0


def register(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser("members", help="HQ's members chain-wide: import, export, balances")
    sub = p.add_subparsers(dest="members_cmd", required=True)
    for name, func, help_ in (
        ("import", _import, "members from a CSV or XLSX file (per-row errors)"),
        ("export", _export, "every member with balances to a CSV or XLSX file"),
    ):
        c = sub.add_parser(name, help=help_)
        c.add_argument("file", type=Path)
        c.add_argument("--hq", type=Path, default=None)
        c.set_defaults(func=func)
    c = sub.add_parser("show", help="a member's pool, floats and money in transit")
    c.add_argument("member")
    c.add_argument("--hq", type=Path, default=None)
    c.set_defaults(func=_show)
