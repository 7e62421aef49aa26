"""``kassa cloud ...``: run HQ's cloud, register stores, compact the warehouse.

kassa cloud serve --data DIR [--host 127.0.0.1] [--port 8700] [--insecure-open-reads]
kassa cloud token --data DIR [--rotate]    HQ's API token for the read endpoints (Bearer)
kassa cloud store add --data DIR --id S001 [--zone Asia/Bangkok] [--name ...]
                                        adds a store; prints its secret
kassa cloud store list --data DIR
kassa cloud store rotate --data DIR --id S001   prints a new secret
kassa cloud export --data DIR           flatten everything held into the warehouse now
kassa cloud compact --data DIR [--store S001] [--min-files 2]
kassa cloud alerts --data DIR
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cloud", help="HQ's cloud: ingest, warehouse, store registry")
    csub = p.add_subparsers(dest="cloud_cmd", metavar="ACTION")

    s = csub.add_parser("serve", help="run the cloud's HTTP server")
    s.add_argument("--data", required=True, type=Path, help="the cloud's data folder")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.add_argument(
        "--export-delay",
        type=float,
        default=1.0,
        help="seconds to wait after an upload before writing Parquet",
    )
    s.add_argument(
        "--insecure-open-reads",
        action="store_true",
        help="a lab only: revenue, member balances and the store list without a token",
    )
    s.set_defaults(func=_serve)

    t = csub.add_parser("token", help="show (or --rotate) HQ's API token for the read endpoints")
    t.add_argument("--data", required=True, type=Path)
    t.add_argument(
        "--rotate",
        action="store_true",
        help="issue a new token (restart the cloud; the old one stops working)",
    )
    t.set_defaults(func=_token)

    st = csub.add_parser("store", help="the registry of stores and their signing secrets")
    ssub = st.add_subparsers(dest="store_cmd", metavar="ACTION")
    a = ssub.add_parser("add", help="register a store; prints the secret to install on it")
    a.add_argument("--data", required=True, type=Path)
    a.add_argument("--id", required=True, dest="store_id")
    a.add_argument("--zone", default="UTC", help="the store's IANA zone (its business day)")
    a.add_argument("--name", default="")
    a.set_defaults(func=_store_add)
    ls = ssub.add_parser("list", help="registered stores")
    ls.add_argument("--data", required=True, type=Path)
    ls.set_defaults(func=_store_list)
    r = ssub.add_parser("rotate", help="issue a new secret for a store")
    r.add_argument("--data", required=True, type=Path)
    r.add_argument("--id", required=True, dest="store_id")
    r.set_defaults(func=_store_rotate)

    e = csub.add_parser("export", help="write everything held into the Parquet warehouse now")
    e.add_argument("--data", required=True, type=Path)
    e.set_defaults(func=_export)

    c = csub.add_parser("compact", help="merge the warehouse's small Parquet files")
    c.add_argument("--data", required=True, type=Path)
    c.add_argument("--store", default=None)
    c.add_argument("--min-files", type=int, default=2)
    c.set_defaults(func=_compact)

    al = csub.add_parser("alerts", help="conflicts and broken hash chains")
    al.add_argument("--data", required=True, type=Path)
    al.set_defaults(func=_alerts)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    for cmd in (s, t, a, ls, r, e, c, al):  # every file they create is HQ's alone
        cmd.set_defaults(func=_private(cmd.get_default("func")))


def _private(func):
    def run(args: argparse.Namespace) -> int:
        old = os.umask(0o077)
        try:
            return func(args)
        finally:
            os.umask(old)

    return run


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from cloud.app import AUTH, make_app
    from cloud.hqauth import OpenReadsRefused

    try:
        app = make_app(
            args.data,
            export_delay_s=args.export_delay,
            insecure_open_reads=args.insecure_open_reads,
        )
    except OpenReadsRefused as exc:
        print(f"error: {exc}", flush=True)
        return 2
    auth = app[AUTH]
    print(f"kassa cloud on http://{args.host}:{args.port} (data: {args.data})", flush=True)
    print(f"auth: {auth.mode}: {auth.describe()}", flush=True)
    if auth.created:
        print(
            f"HQ API token (created now; `kassa cloud token --data {args.data}` shows it again):",
            flush=True,
        )
        print(auth.token, flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def _token(args: argparse.Namespace) -> int:
    from cloud.hqauth import ensure_token

    token, created = ensure_token(args.data, rotate=args.rotate)
    if args.rotate:
        print("a new HQ API token; restart the cloud for it to take effect:")
    elif created:
        print("no HQ API token yet; created one:")
    print(token)
    return 0


def _store_add(args: argparse.Namespace) -> int:
    from cloud.registry import Registry
    from domain.ports import SystemClock

    reg = Registry(args.data)
    try:
        secret = reg.add_store(
            args.store_id, zone=args.zone, name=args.name, now_us=SystemClock().now_us()
        )
    except ValueError as exc:
        print(f"error: {exc}")
        return 1
    finally:
        reg.close()
    print(f"store {args.store_id} registered. Install this secret on the store (keep it private):")
    print(secret)
    return 0


def _store_list(args: argparse.Namespace) -> int:
    from cloud.registry import Registry

    reg = Registry(args.data)
    try:
        for s in reg.stores():
            print(f"{s.id}\t{s.zone}\t{'active' if s.active else 'inactive'}\t{s.name}")
    finally:
        reg.close()
    return 0


def _store_rotate(args: argparse.Namespace) -> int:
    from cloud.registry import Registry

    reg = Registry(args.data)
    try:
        print(reg.rotate_secret(args.store_id))
    except KeyError:
        print(f"error: no store {args.store_id}")
        return 1
    finally:
        reg.close()
    return 0


def _warehouse(data: Path):
    from cloud.registry import Registry
    from cloud.warehouse import Warehouse
    from domain.ports import SystemClock

    reg = Registry(data)
    return reg, Warehouse(data, reg, SystemClock())


def _export(args: argparse.Namespace) -> int:
    reg, wh = _warehouse(args.data)
    try:
        n = wh.export_all()
    finally:
        reg.close()
    print(json.dumps({"exported_events": n}))
    return 0


def _compact(args: argparse.Namespace) -> int:
    reg, wh = _warehouse(args.data)
    try:
        res = wh.compact(args.store, min_files=args.min_files)
    finally:
        reg.close()
    print(json.dumps(res))
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from cloud.registry import Registry

    reg = Registry(args.data)
    try:
        for a in reg.alerts():
            print(json.dumps(a))
    finally:
        reg.close()
    return 0
