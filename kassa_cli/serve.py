"""``kassa store serve``: the store server's own entry, lean on purpose.

``kassa_cli.main`` hands ``kassa store serve ...`` straight to ``main`` here, before it builds the
whole ``kassa`` parser: building it imports every program's command module (Polars for the admin
commands, the licence client, ...), about 0.6 s of a restart the tills wait through. This module
imports only argparse and the clock at its top; the server's imports start in ``run``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

from actors.boot_clock import STEPS, mark

__all__ = ["add_arguments", "run", "main"]

mark("main")  # the interpreter is up and runs kassa's first lines


def add_arguments(s: argparse.ArgumentParser) -> None:
    """The options of ``kassa store serve`` (also in the full ``kassa`` parser)."""
    s.add_argument("--data", type=Path, default=Path("kassa-data"), help="data folder")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: the LAN)")
    s.add_argument("--port", type=int, default=8600)
    s.add_argument("--take-over", action="store_true", help=argparse.SUPPRESS)  # store upgrade
    s.add_argument("--spare", action="store_true", help=argparse.SUPPRESS)  # kassa_cli.launcher


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; a refused start (e.g. ``store.format_too_new``) exits 2 with its
    message (which kassa wrote the folder)."""
    from actors.server import serve
    from domain.errors import KassaError

    try:
        return serve(args.data, args.host, args.port, take_over=args.take_over)
    except KassaError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 2


def main(argv: list[str], verbose: bool = False) -> int:
    """``kassa [-v] store serve ARGS``: ``argv`` is what follows ``store serve``."""
    ap = argparse.ArgumentParser(prog="kassa store serve", description="run the store server")
    add_arguments(ap)
    args = ap.parse_args(argv)
    gc.disable()  # no collections while the selling path imports and loads (~10 %); the server
    # turns it back on once it listens (actors.server)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.spare and not wait_as_spare():
        return 0
    return run(args)


def wait_as_spare() -> bool:
    """``--spare`` (``kassa_cli.launcher``'s warm spare): import the server's modules now, then
    wait for a line on standard input (the launcher's "serve": the server died). False: the
    input closed first (the launcher went or ended the spare), nothing to serve."""
    import actors.bootstrap
    import actors.gateway
    import actors.handover
    import actors.logs
    import actors.migrate
    import actors.server
    import actors.tls  # noqa: F401 - imported for their time, not their names

    try:
        import uvloop  # noqa: F401
    except ImportError:
        pass
    if not sys.stdin.buffer.readline():
        return False
    STEPS.clear()  # this start begins now: the imports were done before the crash
    mark("woken")
    return True
