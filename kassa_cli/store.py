"""``kassa store ...``: run and look after a store server."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="the store server")
    ssub = p.add_subparsers(dest="store_cmd", metavar="ACTION")
    s = ssub.add_parser("serve", help="start Ray, the actors and the LAN gateway")
    s.add_argument("--data", type=Path, default=Path("kassa-data"), help="data folder")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: the LAN)")
    s.add_argument("--port", type=int, default=8600)
    s.set_defaults(func=_serve)
    try:
        from kassa_cli.licence import register_store
    except ModuleNotFoundError:
        pass
    else:
        register_store(ssub)


def _serve(args: argparse.Namespace) -> int:
    from actors.server import serve
    return serve(args.data, args.host, args.port)
