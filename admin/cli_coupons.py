"""``kassa admin coupons issue|list|revoke``: HQ's coupons for the chain, on ``--hq DIR``.

    kassa admin coupons issue --kind amount --value 500 [--code C] [--min-spend 2000]
        [--days 30] [--uses 100] [--member M] [--stores S001,S002] [--quota 10]
    kassa admin coupons list
    kassa admin coupons revoke CODE

``--value`` is in minor units for an amount (500 = 5.00) and in basis points for a percent
(1250 = 12.5 %); ``--days``: valid from now to the end of that many days (UTC); ``--stores``:
the stores it is for (default: every store HQ knows); ``--quota``: uses each store may make
while it cannot reach HQ (default: half the uses spread over the stores). They work on HQ's
files directly, beside a running cloud (``cloud.coupons``); the stores pull the coupons (and
revocations) on their next coupon pull (``actors.coupons_sync``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["register"]

DAY_US = 86_400_000_000


def _hq(args: argparse.Namespace) -> Any:
    from admin.cli import _hq_default
    from cloud.coupons_db import CouponsHQ
    from cloud.registry import Registry
    from domain.ports import SystemClock

    data = Path(args.hq) if args.hq else _hq_default()
    return CouponsHQ(data, Registry(data), SystemClock())


def _run(args: argparse.Namespace, fn: Any) -> int:
    from domain.errors import KassaError

    hq = _hq(args)
    try:
        out = fn(hq)
    except KassaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        hq.close()
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


def _issue(args: argparse.Namespace) -> int:
    doc: dict[str, Any] = {"kind": args.kind, "value": args.value, "uses": args.uses}
    if args.code:
        doc["code"] = args.code
    if args.min_spend:
        doc["min_spend"] = args.min_spend
    if args.days:
        today = int(time.time() * 1e6) // DAY_US
        doc["valid_to"] = (today + args.days + 1) * DAY_US - 1
    if args.member:
        doc["member"] = args.member
    if args.stores:
        doc["stores"] = [s.strip() for s in args.stores.split(",") if s.strip()]
    if args.quota is not None:
        doc["quota"] = args.quota
    return _run(args, lambda hq: hq.issue(doc, "cli"))


def _list(args: argparse.Namespace) -> int:
    return _run(args, lambda hq: {"coupons": hq.listing()})


def _revoke(args: argparse.Namespace) -> int:
    return _run(args, lambda hq: hq.revoke(args.code.strip().upper()))


def register(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser("coupons", help="HQ's coupons for the chain: issue, list, revoke")
    sub = p.add_subparsers(dest="coupons_cmd", required=True)
    c = sub.add_parser("issue", help="issue a coupon to the stores")
    c.add_argument("--kind", choices=("amount", "percent"), required=True)
    c.add_argument("--value", type=int, required=True, help="minor units, or basis points")
    c.add_argument("--code", default="", help="default: a new 10-character code")
    c.add_argument("--min-spend", type=int, default=0, help="minor units")
    c.add_argument("--days", type=int, default=0, help="valid for this many days (0: no end)")
    c.add_argument("--uses", type=int, default=1)
    c.add_argument("--member", default="", help="for one member (default: a bearer coupon)")
    c.add_argument("--stores", default="", help="S001,S002 (default: every store)")
    c.add_argument("--quota", type=int, default=None, help="uses per store while offline")
    c.set_defaults(func=_issue)
    c = sub.add_parser("list", help="every coupon with its quota, pool, claims and state")
    c.set_defaults(func=_list)
    c = sub.add_parser("revoke", help="revoke a coupon (the stores pull it)")
    c.add_argument("code")
    c.set_defaults(func=_revoke)
    for name in ("issue", "list", "revoke"):
        sub.choices[name].add_argument("--hq", type=Path, default=None)
