"""``kassa admin licence ...`` for activations and renewals (HQ's folder, ``--hq``):

    kassa admin licence activations [--status pending|approved|denied|released] [--json]
    kassa admin licence approve ID [--move] [--note TEXT]
    kassa admin licence approve --request-file REQ --out ANSWER [--move]   the USB route
    kassa admin licence approve --first LICENCE_ID    the first install that asks (a new store)
    kassa admin licence deny ID [--note TEXT]
    kassa admin licence release ID [--note TEXT]       the install gives the licence up
    kassa admin licence renew LICENCE_ID --days N --out FILE

A licence is active on one install; approving another install of it is refused unless the first
is released, or ``--move`` releases it by the same approval (a replaced PC). ``renew`` issues a new
licence (same store, tills, features, grace) from the end of the old one; the installs holding the
old one hold the new one at once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _licence_actions(asub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    lic = asub.choices["licence"]
    for action in lic._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("kassa admin licence has no actions")


def register(asub: argparse._SubParsersAction) -> None:
    lsub = _licence_actions(asub)

    a = lsub.add_parser("activations", help="activation requests from stores, and their state")
    a.add_argument("--status", choices=("pending", "approved", "denied", "released"))
    a.add_argument("--licence", help="only this licence's")
    a.add_argument("--json", action="store_true")
    a.add_argument("--hq", type=Path, default=None)
    a.set_defaults(func=_list)

    p = lsub.add_parser("approve", help="approve a store's activation request")
    p.add_argument("id", nargs="?", help="the request id (A-...)")
    p.add_argument("--move", action="store_true", help="release the install that holds it now")
    p.add_argument("--note", default="")
    p.add_argument("--request-file", type=Path, help="a request a store wrote (USB route)")
    p.add_argument("--out", type=Path, help="with --request-file: the answer file to write")
    p.add_argument(
        "--first",
        metavar="LICENCE_ID",
        help="approve in advance the first install that asks for this licence (a new store)",
    )
    p.add_argument("--hq", type=Path, default=None)
    p.set_defaults(func=_approve)

    for name, text in (
        ("deny", "deny a store's activation request"),
        ("release", "release an install: the licence may be activated elsewhere"),
    ):
        d = lsub.add_parser(name, help=text)
        d.add_argument("id")
        d.add_argument("--note", default="")
        d.add_argument("--hq", type=Path, default=None)
        d.set_defaults(func=_decide, op=name)

    r = lsub.add_parser("renew", help="a new licence following this one, same terms")
    r.add_argument("licence_id")
    r.add_argument("--days", type=int, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--hq", type=Path, default=None)
    r.set_defaults(func=_renew)


def _acts(args: argparse.Namespace) -> Any:
    from admin.cli import _hq_default
    from cloud.activation_db import Activations

    return Activations(args.hq or _hq_default())


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _fail(exc: Exception) -> int:
    code = getattr(exc, "code", type(exc).__name__)
    print(f"error: {code}: {getattr(exc, 'message', exc)}", file=sys.stderr)
    return 1


def _line(r: dict[str, Any]) -> str:
    from admin.cli import fmt_time

    when = fmt_time(r["decided_at"] or r["requested_at"])
    by = f" by {r['decided_by']}" if r["decided_by"] else ""
    note = f" ({r['note']})" if r["note"] else ""
    return (
        f"{r['id']:<11} {r['status']:<9} {r['licence_id']:<28} {r['store']:<8} "
        f"{r['install_id']}  {when}{by}{note}"
    )


def _list(args: argparse.Namespace) -> int:
    rows = _acts(args).rows(args.status, args.licence)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no activation requests")
    for r in rows:
        print(_line(r))
    return 0


def _approve(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    acts = _acts(args)
    if args.first:
        acts.allow_first(args.first, _who())
        print(f"the first install that asks for {args.first} will be approved")
        return 0
    try:
        rid = args.id
        if args.request_file:
            if not args.out:
                print("error: --request-file needs --out ANSWER", file=sys.stderr)
                return 2
            rid = acts.request(json.loads(args.request_file.read_text()))["id"]
        if not rid:
            print("error: give a request id or --request-file", file=sys.stderr)
            return 2
        rec = acts.approve(rid, _who(), args.move, args.note)
    except (KassaError, OSError, ValueError) as exc:
        return _fail(exc)
    print(f"approved: {_line(rec)}")
    if args.out:
        args.out.write_text(json.dumps(rec["activation"], indent=1) + "\n")
        print(f"answer for the store -> {args.out} (kassa store licence activate --answer-file)")
    return 0


def _decide(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    acts = _acts(args)
    try:
        rec = getattr(acts, args.op)(args.id, _who(), args.note)
    except KassaError as exc:
        return _fail(exc)
    print(f"{args.op}: {_line(rec)}")
    return 0


def _renew(args: argparse.Namespace) -> int:
    from cloud.activation import renew_licence
    from domain.errors import KassaError

    acts = _acts(args)
    if args.days < 1:
        print("error: --days >= 1", file=sys.stderr)
        return 2
    try:
        doc = renew_licence(acts.authority, acts, args.licence_id, args.days, _who())
    except KassaError as exc:
        return _fail(exc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    lic = doc["licence"]
    print(f"renewed {args.licence_id} as {lic['licence_id']} -> {args.out}")
    return 0
