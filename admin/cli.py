"""``kassa admin ...``: HQ's desk.

    kassa admin licence create --store S001 --days 365 --grace 7 --tills 4 --features a b \\
                               --out S001.licence [--from 2026-01-01] [--hq DIR]
    kassa admin licence revoke LICENCE_ID [--reason TEXT] [--hq DIR]
    kassa admin licence list [--hq DIR]
    kassa admin licence key [--hq DIR]          HQ's public key (hex), for the stores

``--hq`` is HQ's data folder (default ``$KASSA_HQ`` or ``./hq``); the cloud serves from the same
folder. The Ed25519 key is created there on first ``create``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["register"]

US = 1_000_000
DAY_US = 86_400 * US


def _hq_default() -> Path:
    return Path(os.environ.get("KASSA_HQ", "hq"))


def fmt_time(us: int) -> str:
    return datetime.fromtimestamp(us / US, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _parse_day(text: str) -> int:
    try:
        d = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError("a date is YYYY-MM-DD") from None
    return int(d.timestamp()) * US


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("admin", help="HQ's desk: products, publishing, stores, licences, feeds")
    asub = p.add_subparsers(dest="admin_cmd", metavar="AREA")
    lic = asub.add_parser("licence", help="issue, revoke and list store licences")
    lsub = lic.add_subparsers(dest="licence_cmd", metavar="ACTION")

    c = lsub.add_parser("create", help="issue a signed licence for a store")
    c.add_argument("--store", required=True, help="store id, e.g. S001")
    c.add_argument("--days", type=int, required=True, help="how many days the licence runs")
    c.add_argument(
        "--grace",
        type=int,
        default=7,
        help="days a store may work without a successful online check (default 7)",
    )
    c.add_argument("--tills", type=int, default=1, help="number of tills (default 1)")
    c.add_argument(
        "--features", nargs="*", default=[], help="feature names (space or comma separated)"
    )
    c.add_argument(
        "--from",
        dest="valid_from",
        type=_parse_day,
        help="first day, YYYY-MM-DD UTC (default: today)",
    )
    c.add_argument("--id", dest="licence_id", help="licence id (default: generated)")
    c.add_argument("--out", type=Path, required=True, help="where to write the licence file")
    c.add_argument("--hq", type=Path, default=None, help="HQ data folder")
    c.set_defaults(func=_create)

    r = lsub.add_parser("revoke", help="put a licence on the revocation list")
    r.add_argument("licence_id")
    r.add_argument("--reason", default="", help="why (stores see it)")
    r.add_argument("--force", action="store_true", help="revoke an id HQ has no record of")
    r.add_argument("--hq", type=Path, default=None)
    r.set_defaults(func=_revoke)

    ls = lsub.add_parser("list", help="licences issued, with their state")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--hq", type=Path, default=None)
    ls.set_defaults(func=_list)

    k = lsub.add_parser("key", help="print HQ's public key (hex) for the stores")
    k.add_argument("--out", type=Path, help="also write it to this file")
    k.add_argument("--hq", type=Path, default=None)
    k.set_defaults(func=_key)
    for name in PARTS:
        _register_part(name, asub)


# HQ's other areas, each ``admin/cli_<area>.py`` with ``register(asub)``; added when present
PARTS = (
    "admin.cli_products",
    "admin.cli_publish",
    "admin.cli_activation",
    "admin.cli_feed",
    "admin.cli_app",
    "admin.cli_reconcile",
    "admin.cli_members",
    "admin.cli_coupons",
)


def _register_part(name: str, asub: argparse._SubParsersAction) -> None:
    import importlib

    try:
        part = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return
    part.register(asub)


def _authority(args: argparse.Namespace):
    from cloud.licence import LicenceAuthority

    return LicenceAuthority(args.hq or _hq_default())


def _create(args: argparse.Namespace) -> int:
    from domain.errors import KassaError
    from domain.licence import key_id

    auth = _authority(args)
    if auth.ensure_key():
        print(
            f"created HQ licence key in {auth.dir} (keep hq_ed25519.key secret; give "
            f"hq_ed25519.pub to the stores)",
            file=sys.stderr,
        )
    features = [f for item in args.features for f in item.split(",") if f]
    if args.days < 1 or args.grace < 0 or args.tills < 1:
        print("error: --days >= 1, --grace >= 0, --tills >= 1", file=sys.stderr)
        return 2
    now = auth.clock.now_us()
    start = args.valid_from if args.valid_from is not None else now - now % DAY_US
    try:
        doc = auth.issue(
            args.store,
            start,
            start + args.days * DAY_US,
            args.grace,
            args.tills,
            features,
            args.licence_id,
        )
    except KassaError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    lic = doc["licence"]
    print(
        f"licence {lic['licence_id']} for store {lic['store_id']}: "
        f"{fmt_time(lic['valid_from'])} .. {fmt_time(lic['valid_until'])}, grace "
        f"{lic['grace_days']} days, {lic['tills']} till(s), features "
        f"{','.join(lic['features']) or '-'}; signed by key {key_id(auth.key)} -> {args.out}"
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    auth = _authority(args)
    try:
        entry = auth.revoke(args.licence_id, args.reason, must_exist=not args.force)
    except KassaError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(
        f"revoked {args.licence_id} at {fmt_time(entry['at'])}"
        f"{' (' + entry['reason'] + ')' if entry.get('reason') else ''}; stores learn it at "
        "their next check"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from cloud.activation import licence_rows

    auth = _authority(args)
    rows = licence_rows(auth)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no licences issued from {auth.dir}")
        return 0
    print(
        f"{'licence':<28} {'store':<10} {'from':<11} {'until':<11} {'grace':>5} {'tills':>5} "
        f"{'state':<8} features"
    )
    for r in rows:
        print(
            f"{r['licence_id']:<28} {r['store_id']:<10} {fmt_time(r['valid_from'])[:10]:<11} "
            f"{fmt_time(r['valid_until'])[:10]:<11} {r['grace_days']:>5} {r['tills']:>5} "
            f"{r['state']:<8} {','.join(r.get('features', [])) or '-'}"
        )
    return 0


def _key(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    auth = _authority(args)
    try:
        text = auth.public_key_text()
    except KassaError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0
