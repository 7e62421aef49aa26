"""``kassa hw ...`` (or ``python -m hw ...``): previews, test prints, printer status, the queue.

kassa hw preview --lang th --paper 58 --out th.png [--order order.json]
kassa hw test-print --printer '{"kind": "network", "host": "192.168.1.50"}' --lang zh
kassa hw status --printer '{"kind": "network", "host": "192.168.1.50"}'
kassa hw jobs --data DIR            # the till's print queue
kassa hw retry --data DIR           # make every waiting receipt due now
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

__all__ = ["register", "main"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hw", help="receipt printer, drawer and display tools")
    hsub = p.add_subparsers(dest="hw_cmd", metavar="ACTION")

    pv = hsub.add_parser("preview", help="save a receipt preview as PNG")
    pv.add_argument("--order", type=Path, help="an order JSON (OrderCompleted); default: a demo")
    pv.add_argument("--lang", default="en")
    pv.add_argument("--paper", type=int, default=80, choices=(58, 80))
    pv.add_argument("--out", type=Path, required=True)
    pv.set_defaults(func=_preview)

    tp = hsub.add_parser("test-print", help="print a demo receipt (no drawer kick)")
    tp.add_argument("--printer", required=True, help="printer settings as JSON")
    tp.add_argument("--lang", default="en")
    tp.add_argument("--kick", action="store_true", help="also open the cash drawer")
    tp.set_defaults(func=_test_print)

    st = hsub.add_parser("status", help="ask the printer for its state")
    st.add_argument("--printer", required=True, help="printer settings as JSON")
    st.set_defaults(func=_status)

    jb = hsub.add_parser("jobs", help="list the print queue of a till")
    jb.add_argument("--data", type=Path, required=True, help="the till's data folder")
    jb.add_argument("--limit", type=int, default=20)
    jb.set_defaults(func=_jobs)

    rt = hsub.add_parser("retry", help="make every waiting receipt due now")
    rt.add_argument("--data", type=Path, required=True)
    rt.set_defaults(func=_retry)


def _order_and_store(args: argparse.Namespace):
    from hw.sample import demo_order, demo_store

    order = (
        json.loads(args.order.read_text("utf-8"))
        if getattr(args, "order", None)
        else demo_order(args.lang)
    )
    return order, demo_store(args.lang)


def _preview(args: argparse.Namespace) -> int:
    from hw.receipt import build_receipt
    from hw.render import save_preview

    order, store = _order_and_store(args)
    path = save_preview(build_receipt(order, store, args.lang), args.out, args.paper)
    print(path)
    return 0


def _test_print(args: argparse.Namespace) -> int:
    from hw.encode import encode_receipt
    from hw.printer import PrinterError, make_printer
    from hw.receipt import build_receipt

    printer = make_printer(json.loads(args.printer))
    order, store = _order_and_store(args)
    try:
        st = printer.print_bytes(
            encode_receipt(build_receipt(order, store, args.lang), printer.options, kick=args.kick)
        )
    except PrinterError as exc:
        print(f"{exc.code}: {exc.message}")
        return 1
    print(f"printed ({st.state})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from hw.printer import make_printer

    st = make_printer(json.loads(args.printer)).probe()
    print(f"{st.state} {st.detail}".strip())
    return 0 if st.printable else 1


def _db(data: Path) -> sqlite3.Connection:
    path = Path(data) / "print-queue.sqlite"
    if not path.exists():
        raise SystemExit(f"no print queue at {path}")
    return sqlite3.connect(path, timeout=5)


def _jobs(args: argparse.Namespace) -> int:
    with _db(args.data) as db:
        rows = db.execute(
            "SELECT id, kind, number, state, attempts, last_error FROM jobs "
            "ORDER BY id DESC LIMIT ?",
            (args.limit,),
        ).fetchall()
    for r in rows:
        print(f"{r[0]:>6} {r[1]:<8} {r[2]:<16} {r[3]:<9} tries={r[4]} {r[5]}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    with _db(args.data) as db:
        n = db.execute(
            "UPDATE jobs SET next_at=?, state='pending' WHERE state IN ('pending','failed')",
            (time.time(),),
        ).rowcount
    print(f"{n} job(s) due now")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hw")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    register(sub)
    args = parser.parse_args(["hw", *(argv if argv is not None else __import__("sys").argv[1:])])
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)
