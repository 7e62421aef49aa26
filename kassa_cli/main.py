"""The ``kassa`` command. Each program registers its own subcommands from its package's ``cli``
module (``register(subparsers)``), so this file stays the one composition point for the CLI."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# packages that contribute subcommands, in help order
PLUGINS = [
    "kassa_cli.store",
    "kassa_cli.journal",
    "kassa_cli.demo",
    "hw.cli",
    "kassa_cli.bigscreen",
    "cloud.cli",
    "admin.cli",
    "kiosk.cli",
    "analytics.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kassa", description="kassa store cashier system")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in PLUGINS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that program is not built yet
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    verbose = words[:1] in (["-v"], ["--verbose"])
    if words[verbose : verbose + 2] == ["store", "serve"]:  # a restart: no other command's imports
        from kassa_cli.serve import main as serve

        return serve(words[verbose + 2 :], verbose)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    rc = args.func(args)
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
