"""``kassa admin publish / bundle / store``: publishing catalogues to stores, from HQ's folder.

    kassa admin publish [--store S001 ...] [--preview] [--note TEXT] [--hq DIR]
    kassa admin bundle export --store S001 --out FILE [--full] [--hq DIR]
    kassa admin store create --id S009 --name "Riverside" --zone Asia/Bangkok --currency THB \\
        --group north --tills 2 --days 365 --cloud-url https://hq.example:8443 --out S009.setup \\
        [--manager-id m1 --manager-name "Somchai" --manager-lang th] [--hq DIR]

``store create`` puts the store's profile into master data, registers it with the cloud (its upload
secret), issues its licence, makes a first manager with a random PIN, publishes the store's first
catalogue and writes a setup bundle: the catalogue and profile signed by HQ, the secrets (upload
secret, licence, the manager and PIN) sealed with a new setup code. The code and the manager's id
are printed once, to tell the installer apart from the file; neither the code nor the PIN is
written anywhere in clear.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from admin.cli import _hq_default

__all__ = ["register"]


def register(asub: argparse._SubParsersAction) -> None:
    p = asub.add_parser("publish", help="publish a new catalogue version to stores")
    p.add_argument("--store", action="append", dest="stores", help="a store (repeat); default all")
    p.add_argument("--preview", action="store_true", help="show what would change, publish nothing")
    p.add_argument("--note", default="", help="why (kept with the publication)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--hq", type=Path, default=None, help="HQ data folder")
    p.set_defaults(func=_publish)

    b = asub.add_parser("bundle", help="catalogue bundles for stores without a link to HQ")
    bsub = b.add_subparsers(dest="bundle_cmd", metavar="ACTION")
    e = bsub.add_parser("export", help="write a store's signed catalogue to a file (USB stick)")
    e.add_argument("--store", required=True, help="store id, e.g. S001")
    e.add_argument("--out", type=Path, required=True, help="the bundle file to write")
    e.add_argument(
        "--full",
        action="store_true",
        help="the whole catalogue (default: a delta when HQ knows the version the store runs)",
    )
    e.add_argument("--hq", type=Path, default=None)
    e.set_defaults(func=_export)

    s = asub.add_parser("store", help="create a new store from HQ's base data")
    ssub = s.add_subparsers(dest="store_cmd", metavar="ACTION")
    c = ssub.add_parser("create", help="profile, upload secret, licence, first manager, setup file")
    c.add_argument("--id", dest="store", required=True, help="store id, e.g. S009")
    c.add_argument("--name", required=True, help="the store's name")
    c.add_argument("--zone", default="UTC", help="time zone, e.g. Asia/Bangkok")
    c.add_argument("--currency", default="THB", help="currency, e.g. THB")
    c.add_argument(
        "--locale", default="", help="the store's language, e.g. th (default: --manager-lang)"
    )
    c.add_argument("--group", default="default", help="price group (default: default)")
    c.add_argument("--tills", type=int, default=1, help="tills the licence allows (default 1)")
    c.add_argument("--days", type=int, default=365, help="days the licence runs (default 365)")
    c.add_argument("--grace", type=int, default=7, help="licence grace days offline (default 7)")
    c.add_argument("--features", nargs="*", default=[], help="licensed features")
    c.add_argument("--cloud-url", required=True, help="the address stores upload to and pull from")
    c.add_argument("--manager-id", default="m1", help="the first manager's id (default m1)")
    c.add_argument("--manager-name", default="Manager", help="the first manager's name")
    c.add_argument("--manager-lang", default="en", help="the first manager's language (default en)")
    c.add_argument("--out", type=Path, required=True, help="the setup file to write")
    c.add_argument("--hq", type=Path, default=None)
    c.set_defaults(func=_store_create)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class _Hq:
    """HQ's master data, licence authority and publisher on one folder (closed on exit)."""

    def __init__(self, hq: Path | None) -> None:
        from cloud.hqauth import private_dir
        from cloud.licence import LicenceAuthority
        from cloud.master import MasterData
        from cloud.publish import Publisher
        from domain.ports import SystemClock

        self.dir = private_dir(hq or _hq_default())
        clock = SystemClock()
        self.master = MasterData(self.dir, clock)
        self.authority = LicenceAuthority(self.dir, clock)
        self.publisher = Publisher(self.dir, self.master, self.authority, clock)

    def __enter__(self) -> _Hq:
        return self

    def __exit__(self, *exc: object) -> None:
        self.publisher.close()
        self.master.close()


def _fail(exc: Any) -> int:
    print(
        f"error: {getattr(exc, 'code', 'error')}: {getattr(exc, 'message', exc)}", file=sys.stderr
    )
    return 1


def _publish(args: argparse.Namespace) -> int:
    from domain.errors import KassaError

    with _Hq(args.hq) as hq:
        pub = hq.publisher
        try:
            if args.preview:
                stores = args.stores or pub.known_stores()
                previews = [pub.preview(s) for s in stores]
                if args.json:
                    print(json.dumps(previews, indent=1, ensure_ascii=False))
                for pv in [] if args.json else previews:
                    _print_preview(pv)
                return 0
            version = pub.publish(args.stores, _who(), args.note)
        except KassaError as exc:
            return _fail(exc)
        stores = pub.stores_of(version)
    if args.json:
        print(json.dumps({"version": version, "stores": stores}))
    else:
        print(f"published catalogue version {version} to {', '.join(stores)}")
    return 0


def _print_preview(pv: dict[str, Any]) -> None:
    n = pv["counts"]
    since = pv["from_version"] if pv["from_version"] is not None else "nothing published"
    print(
        f"{pv['store']}: since {since}: {n['added']} added, {n['changed']} changed, "
        f"{n['removed']} removed"
        f"{', scheduled prices changed' if pv['prices_changed'] else ''}"
        f"{', profile changed' if pv['profile_changed'] else ''}"
    )
    for c in pv["changed"][:50]:
        fields = "; ".join(f"{f}: {old!r} -> {new!r}" for f, (old, new) in c["fields"].items())
        print(f"  ~ {c['sku']}  {fields}")
    for a in pv["added"][:50]:
        print(f"  + {a['sku']}  {a.get('price')}")
    for sku in pv["removed"][:50]:
        print(f"  - {sku}")


def _export(args: argparse.Namespace) -> int:
    from domain.catalogue_bundle import read_header
    from domain.errors import KassaError

    with _Hq(args.hq) as hq:
        try:
            data = hq.publisher.export(args.store, full=args.full)
        except KassaError as exc:
            return _fail(exc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)  # signed, and no secret in it: readable by whoever holds the stick
    head = read_header(data)[0]
    base = f" from version {head['base']}" if head.get("base") is not None else ""
    print(
        f"{head['kind']} catalogue version {head['version']}{base} for {args.store}: "
        f"{head['count']} products -> {args.out}"
    )
    return 0


def _store_create(args: argparse.Namespace) -> int:
    from cloud.registry import Registry
    from cloud.store_setup import create_store, spec_from_dict
    from domain.errors import KassaError

    if args.days < 1 or args.grace < 0 or args.tills < 1:
        print("error: --days >= 1, --grace >= 0, --tills >= 1", file=sys.stderr)
        return 2
    features = [f for item in args.features for f in item.split(",") if f]
    with _Hq(args.hq) as hq:
        reg = Registry(hq.dir)
        try:
            spec = spec_from_dict({**vars(args), "features": features})
            made = create_store(hq.dir, reg, hq.master, hq.authority, hq.publisher, spec, _who())
        except (KassaError, ValueError) as exc:
            return _fail(exc)
        finally:
            reg.close()
    data, code, manager = made.bundle, made.code, {"id": made.manager}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"store {args.store} created; setup file -> {args.out}")
    print(f"first manager: {manager['id']} (the PIN is sealed in the setup file)")
    print(f"setup code (tell the installer apart from the file; shown once): {code}")
    return 0
