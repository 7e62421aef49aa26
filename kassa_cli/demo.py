"""``kassa demo``: a working shop with sample data — store server, sample catalogue, members, stock,
and a till window (when a display is available)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="start a demo shop with sample data and a till")
    p.add_argument("--data", type=Path, default=Path("kassa-demo"), help="data folder")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--products", type=int, default=2400)
    p.add_argument("--no-till", action="store_true", help="do not open a till window")
    p.add_argument("--exit-after-setup", action="store_true",
                   help="seed the shop, print its state and stop (used by tests)")
    p.set_defaults(func=_demo)


async def seed(handles, products: int) -> dict:
    """Put the sample catalogue, members, wallets and stock into a fresh store (idempotent:
    fixed command ids, so a second run changes nothing)."""
    from actors.ledger import Request, command_hash
    from actors.till import Who
    from domain.events import MemberRegistered, StockReceived, WalletToppedUp
    from kassa_cli.sample import MEMBERS, sample_products

    who = Who(staff="demo", ip="127.0.0.1")
    ns = uuid.UUID("6f1c0b7e-5d1a-4c1e-9a55-4b0c9d0e2a11")

    def cid(name: str) -> str:
        return str(uuid.uuid5(ns, name))

    if await handles.catalogue.version.remote() == "":
        await handles.catalogue.update.remote(cid("catalogue"), sample_products(products),
                                              "demo", who)
    reqs = []
    for m, name, phone, card in MEMBERS:
        reqs.append(Request(cid(f"member:{m}"), command_hash("demo", m),
                            MemberRegistered(m, name, phone, card), "demo", "", "127.0.0.1"))
        reqs.append(Request(cid(f"topup:{m}"), command_hash("demo", m),
                            WalletToppedUp(m, 50_000, "cash"), "demo", "", "127.0.0.1"))
    _, prods = await handles.catalogue.snapshot.remote()
    for p in prods[:300]:
        qty = 20_000 if p.unit == "kg" else 24
        reqs.append(Request(cid(f"stock:{p.sku}"), command_hash("demo", p.sku),
                            StockReceived(p.sku, qty, "opening stock"), "demo", "", "127.0.0.1"))
    for r in reqs:
        try:
            await handles.ledger.submit.remote(r)
        except Exception as exc:  # an already-seeded store refuses nothing: ids are fixed
            log.warning("seed: %s", exc)
    return {"products": len(prods), "members": len(MEMBERS)}


def _demo(args: argparse.Namespace) -> int:
    from actors.server import StoreServer

    async def run() -> int:
        server = StoreServer(args.data, "127.0.0.1", args.port)
        await server.start()
        info = await seed(server.handles, args.products)
        url = f"http://127.0.0.1:{server.port}"
        print(f"kassa demo shop {server.config.store_id}: {info['products']} products, "
              f"{info['members']} members, serving on {url}", flush=True)
        if args.exit_after_setup:
            await server.stop()
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        till = None
        if not args.no_till and os.environ.get("DISPLAY"):
            till = subprocess.Popen([sys.executable, "-m", "kassa_cli.main", "till", "--server",
                                     url, "--till", "T1"])
        elif not args.no_till:
            print("no DISPLAY: the till window is not opened; the gateway is ready for kiosks",
                  flush=True)
        print("press Ctrl-C to stop", flush=True)
        await stop.wait()
        if till is not None:
            till.terminate()
        await server.stop()
        return 0

    return asyncio.run(run())
