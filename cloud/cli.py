"""``kassa cloud ...``: run HQ's cloud, register stores, compact the warehouse.

    kassa cloud serve --data DIR [--host 127.0.0.1] [--port 8700]
    kassa cloud store add --data DIR --id S001 [--zone Asia/Bangkok] [--name ...]   prints the secret
    kassa cloud store list --data DIR
    kassa cloud store rotate --data DIR --id S001                                   prints a new secret
    kassa cloud export --data DIR           flatten everything held into the warehouse now
    kassa cloud compact --data DIR [--store S001] [--min-files 2]
    kassa cloud alerts --data DIR
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cloud", help="HQ's cloud: ingest, warehouse, store registry")
    csub = p.add_subparsers(dest="cloud_cmd", metavar="ACTION")

    s = csub.add_parser("serve", help="run the cloud's HTTP server")
    s.add_argument("--data", required=True, type=Path, help="the cloud's data folder")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.add_argument("--export-delay", type=float, default=1.0,
                   help="seconds to wait after an upload before writing Parquet")
    s.set_defaults(func=_serve)

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


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from cloud.app import make_app
    app = make_app(args.data, export_delay_s=args.export_delay)
    print(f"kassa cloud on http://{args.host}:{args.port} (data: {args.data})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def _store_add(args: argparse.Namespace) -> int:
    from cloud.registry import Registry
    from domain.ports import SystemClock
    reg = Registry(args.data)
    try:
        secret = reg.add_store(args.store_id, zone=args.zone, name=args.name,
                               now_us=SystemClock().now_us())
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
