"""``kassa admin app --cloud URL``: open HQ's desktop program (``admin.app``).

    kassa admin app --cloud http://127.0.0.1:8700 [--user NAME] [--lang zh] [--token TOKEN]
                    [--size 1280x800]

Sign in with an HQ account (``kassa admin user ...``). ``--token`` (or ``$KASSA_CLOUD_HQ_TOKEN``)
opens it with HQ's API token instead, as the administrator: for a first set-up or a lab.
"""

from __future__ import annotations

import argparse
import os

__all__ = ["register"]


def register(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser("app", help="open HQ's desktop program")
    p.add_argument(
        "--cloud",
        default=os.environ.get("KASSA_CLOUD_URL", "http://127.0.0.1:8700"),
        help="HQ's cloud address (default $KASSA_CLOUD_URL or http://127.0.0.1:8700)",
    )
    p.add_argument("--user", default="", help="user name to offer at sign-in")
    p.add_argument("--lang", default="en", help="language: en, zh, th or ar")
    p.add_argument("--token", default=None, help="HQ's API token instead of signing in")
    p.add_argument("--size", default="", help="window size, e.g. 1280x800 (default: the screen)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from admin.app import AdminApp

    token = args.token if args.token is not None else os.environ.get("KASSA_ADMIN_TOKEN", "")
    size = None  # the screen's (a probe window of its own would leave Tk errors behind)
    if args.size:
        w, _, h = args.size.partition("x")
        size = (int(w), int(h))
    app = AdminApp(args.cloud, token=token, lang=args.lang, size=size, user=args.user)
    app.mainloop()
    return 0
