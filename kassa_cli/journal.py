"""``kassa journal verify --data DIR``: walk the hash chain of a store's journal."""

from __future__ import annotations

import argparse
from pathlib import Path

from actors.journal import verify_journal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("journal", help="inspect a store's journal")
    jsub = p.add_subparsers(dest="journal_cmd", metavar="ACTION")
    v = jsub.add_parser("verify", help="check the hash chain; exit 1 at the first broken event")
    v.add_argument("--data", required=True, type=Path, help="the store's data folder")
    v.set_defaults(func=_verify)


def journal_path(data: Path) -> Path:
    return Path(data) / "journal.sqlite"


def _verify(args: argparse.Namespace) -> int:
    path = journal_path(args.data)
    if not path.exists():
        print(f"no journal at {path}")
        return 2
    from actors.uploader import anchor_of
    anchor = anchor_of(args.data)
    res = verify_journal(path, anchor)
    print(f"events: {res.count}")
    if res.ok:
        print(f"chain intact up to seq {res.last_seq}"
              + (f"; HQ's acknowledged seq {anchor[0]} matches" if anchor else ""))
        return 0
    print(f"BROKEN at seq {res.first_broken}: {res.reason}")
    return 1
