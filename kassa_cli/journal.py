"""``kassa journal verify --data DIR``: SQLite's integrity check, then the hash chain of a store's
journal (and HQ's anchor); exit 1 if either fails.

``--background`` is how the store server runs the same check after it starts: at low priority,
quietly, writing the result into ``DIR/journal_check.json`` (which health and the uploader read).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from actors.journal import verify_journal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("journal", help="inspect a store's journal")
    jsub = p.add_subparsers(dest="journal_cmd", metavar="ACTION")
    v = jsub.add_parser(
        "verify", help="check SQLite's integrity and the hash chain; exit 1 if either fails"
    )
    v.add_argument("--data", required=True, type=Path, help="the store's data folder")
    v.add_argument(
        "--background",
        action="store_true",
        help="low priority, result into DATA/journal_check.json (the server uses it)",
    )
    v.set_defaults(func=_verify)


def journal_path(data: Path) -> Path:
    return Path(data) / "journal.sqlite"


def _verify(args: argparse.Namespace) -> int:
    path = journal_path(args.data)
    if not path.exists():
        print(f"no journal at {path}")
        return 2
    if args.background:
        os.nice(10)
    from actors.uploader import anchor_of

    anchor = anchor_of(args.data)
    res = verify_journal(path, anchor, integrity=True)
    if args.background:
        import time

        from actors.journal import result_doc, write_report

        write_report(path, "full", result_doc(res, time.time_ns() // 1000))
        return 0 if res.ok else 1
    print(f"events: {res.count}")
    if res.integrity:
        print(
            "SQLITE DAMAGED: the file fails SQLite's integrity check "
            "(restore it from a backup; the events HQ holds can be fetched back):"
        )
        for line in res.integrity:
            print(f"  {line}")
    if res.first_broken is None:
        print(
            f"chain intact up to seq {res.last_seq}"
            + (f"; HQ's acknowledged seq {anchor[0]} matches" if anchor else "")
        )
        return 0 if res.ok else 1
    print(f"BROKEN at seq {res.first_broken}: {res.reason}")
    return 1
