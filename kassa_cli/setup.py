"""``kassa store setup --bundle FILE --data DIR [--code CODE]``: a ready store from HQ's setup
bundle (profile, HQ key, licence, cloud link, catalogue, first manager); then ``kassa store
serve --data DIR`` sells."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register_store"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser("setup", help="set a new store up from HQ's setup bundle")
    p.add_argument("--bundle", type=Path, required=True, help="the setup file from HQ")
    p.add_argument("--data", type=Path, required=True, help="the new store's (empty) data folder")
    p.add_argument("--code", help="the setup code HQ gave you (asked for when not given)")
    p.set_defaults(func=_setup)


def _setup(args: argparse.Namespace) -> int:
    import getpass

    from actors.catalogue_sync_setup import setup_store
    from domain.errors import KassaError
    from kassa_cli.catalogue import refusal

    try:
        data = args.bundle.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.bundle}: {exc}", file=sys.stderr)
        return 2
    code = args.code
    if not code:
        code = (
            sys.stdin.readline().strip()
            if not sys.stdin.isatty()
            else getpass.getpass("setup code from HQ: ")
        )
    try:
        out = setup_store(data, args.data, code)
    except KassaError as exc:
        print(refusal(exc), file=sys.stderr)
        print(f"nothing was set up in {args.data}", file=sys.stderr)
        return 1
    print(f"store {out['store']} ({out['name']}) is set up in {args.data}")
    print(f"  catalogue      version {out['version']}, {out['products']} products")
    print(f"  licence        {out['licence']}")
    print(f"  linked to      {out['cloud_url'] or '(no cloud)'}")
    print(
        f"  first manager  {out['manager']}, PIN {out['pin']} (shown once: note it, then change it)"
    )
    print(f"start it: kassa store serve --data {args.data}")
    return 0
