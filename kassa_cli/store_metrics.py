"""``kassa store metrics-token --data DIR``: the token Prometheus sends to scrape the store's
``/metrics`` (``Authorization: Bearer <token>``); made here if the server has not made it yet."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register_store"]


def register_store(ssub: argparse._SubParsersAction) -> None:
    p = ssub.add_parser(
        "metrics-token", help="print the token that scrapes the store's /metrics (Prometheus)"
    )
    p.add_argument("--data", type=Path, default=Path("kassa-data"), help="store data folder")
    p.set_defaults(func=_token)


def _token(args: argparse.Namespace) -> int:
    from actors.files import private_umask
    from actors.http.monitoring import ensure_token

    private_umask()
    if not (args.data / "store.json").exists():
        print(f"{args.data} is not a store's data folder (no store.json)")
        return 2
    print(ensure_token(args.data))
    return 0
