"""``kassa admin feed ...``: the product feeds HQ takes in (``cloud.feed``).

    kassa admin feed add NAME --stores S001 S002 [--auto-publish] [--hour 3] [--tax-class std]
    kassa admin feed list [--json]
    kassa admin feed staged NAME [--json]       the diff against master data, recent bad rows
    kassa admin feed approve NAME               into master data, published to the feed's stores
    kassa admin feed reject NAME
    kassa admin feed rotate-credential NAME     a new credential; the old one stops at once

``add`` and ``rotate-credential`` print the credential once; HQ keeps only its hash.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _hq(args: argparse.Namespace) -> Path:
    return Path(args.hq or os.environ.get("KASSA_HQ", "hq"))


def _desk(args: argparse.Namespace) -> Any:
    from cloud.feed_desk import FeedDesk
    from domain.ports import SystemClock

    hq, clock = _hq(args), SystemClock()
    cache: dict[str, Any] = {}

    def master() -> Any:
        if "master" not in cache:
            from cloud.master import MasterData

            cache["master"] = MasterData(hq, clock)
        return cache["master"]

    def publisher() -> Any:
        from cloud.licence import LicenceAuthority
        from cloud.publish import Publisher

        return Publisher(hq, master(), LicenceAuthority(hq, clock), clock)

    return FeedDesk(hq, clock, master, publisher)


def _who() -> str:
    return f"cli:{getpass.getuser()}"


def _run(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    try:
        return int(args.action(args))
    except KassaError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        for row in exc.details.get("rows", [])[:20]:
            print(f"  {row.get('sku', row.get('row'))}: {row['code']}: {row['message']}")
        return 1


def _add(args: argparse.Namespace) -> int:
    desk = _desk(args)
    stores = [s for item in args.stores for s in item.split(",") if s]
    cred = desk.add(args.name, stores, _who(), args.auto_publish, args.hour, args.tax_class)
    print(f"feed {args.name} for {', '.join(stores) or 'no store yet'}")
    print(f"credential (shown once; HQ keeps only its hash): {cred}")
    print(f"post files to /v1/feed/{args.name}/files or drop them into {desk.inbox(args.name)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    feeds = _desk(args).store.feeds()
    if args.json:
        print(json.dumps(feeds, indent=1))
        return 0
    for f in feeds:
        auto = f"auto {f['publish_hour']:02d}:00 UTC" if f["auto_publish"] else "after approval"
        print(f"{f['name']:<20} {','.join(f['stores']) or '-':<24} {auto:<18} staged {f['staged']}")
    return 0


def _staged(args: argparse.Namespace) -> int:
    review = _desk(args).review(args.name)
    if args.json:
        print(json.dumps(review, indent=1, ensure_ascii=False))
        return 0
    print(
        f"{review['staged']} staged: {len(review['new'])} new, {len(review['changed'])} changed, "
        f"{len(review['unchanged'])} unchanged, {len(review['owned_elsewhere'])} owned elsewhere"
    )
    for row in review["new"]:
        print(f"  + {row['sku']}  {row['price']}  {' / '.join(row['names'].values())}")
    for change in review["changed"]:
        fields = ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in change["fields"].items())
        print(f"  ~ {change['sku']}  {fields}")
    for other in review["owned_elsewhere"]:
        print(f"  ! {other['sku']}  belongs to {other['source']} (skipped)")
    for f in review["files"][:5]:
        print(f"file {f['sha256'][:12]} {f['via']} {f['status']}: {f['good']} good, {f['bad']} bad")
        for bad in f["bad_rows"][:10]:
            print(f"    row {bad['row']} {bad['field'] or '-'}: {bad['code']}: {bad['message']}")
    return 0


def _approve(args: argparse.Namespace) -> int:
    done = _desk(args).approve(args.name, _who())
    print(
        f"approved {done['count']} product(s) of feed {args.name}: master version "
        f"{done['version']}, catalogue version {done['published']} for {', '.join(done['stores'])}"
    )
    return 0


def _reject(args: argparse.Namespace) -> int:
    done = _desk(args).reject(args.name, _who())
    print(f"rejected {done['count']} staged row(s) of feed {args.name}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    cred = _desk(args).rotate(args.name, _who())
    print(f"new credential for feed {args.name} (the old one no longer works): {cred}")
    return 0


def register(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser("feed", help="product feeds: credentials, staged files, approval")
    fsub = p.add_subparsers(dest="feed_cmd", metavar="ACTION", required=True)

    def action(name: str, fn: Any, help_text: str, feed: bool = True) -> argparse.ArgumentParser:
        a = fsub.add_parser(name, help=help_text)
        if feed:
            a.add_argument("name", help="the feed's name, e.g. acme")
        a.add_argument("--hq", type=Path, default=None, help="HQ data folder")
        a.set_defaults(func=_run, action=fn)
        return a

    a = action("add", _add, "create a feed and print its credential once")
    a.add_argument("--stores", nargs="+", default=[], help="stores subscribed to the feed")
    a.add_argument("--auto-publish", action="store_true", help="publish daily without approval")
    a.add_argument("--hour", type=int, default=3, help="hour (UTC) of the daily publish")
    a.add_argument("--tax-class", default="std", help="tax class of the feed's new products")
    action("list", _list, "feeds and what they have staged", feed=False).add_argument(
        "--json", action="store_true"
    )
    action("staged", _staged, "staged rows as a diff, and bad rows").add_argument(
        "--json", action="store_true"
    )
    action("approve", _approve, "upsert the staged rows and publish to the feed's stores")
    action("reject", _reject, "drop what the feed staged")
    action("rotate-credential", _rotate, "replace the feed's credential")
