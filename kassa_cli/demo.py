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
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


def orjson_dumps(obj) -> str:
    import orjson

    return orjson.dumps(obj, default=str).decode()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="start a demo shop with sample data and a till")
    p.add_argument("--data", type=Path, default=Path("kassa-demo"), help="the store's data folder")
    p.add_argument(
        "--hq",
        type=Path,
        default=None,
        help="HQ's folder for the demo cloud and licence key (default: DATA-hq)",
    )
    p.add_argument("--cloud-port", type=int, default=0, help="port of the demo cloud (0: any)")
    p.add_argument("--no-cloud", action="store_true", help="no demo cloud: the shop is offline")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--products", type=int, default=2400)
    p.add_argument("--no-till", action="store_true", help="do not open a till window")
    p.add_argument(
        "--exit-after-setup",
        action="store_true",
        help="seed the shop, print its state and stop (used by tests)",
    )
    p.set_defaults(func=_demo)


async def seed(handles, products: int) -> dict:
    """Put the sample catalogue, members, wallets and stock into a fresh store (idempotent:
    fixed command ids, so a second run changes nothing)."""
    from actors.ledger import Request, command_hash
    from actors.till import Who
    from domain.events import MemberRegistered, StockReceived, WalletToppedUp
    from domain.loyalty import CouponIssued
    from kassa_cli.sample import MEMBERS, sample_products

    who = Who(staff="demo", ip="127.0.0.1")
    ns = uuid.UUID("6f1c0b7e-5d1a-4c1e-9a55-4b0c9d0e2a11")

    def cid(name: str) -> str:
        return str(uuid.uuid5(ns, name))

    if await handles.catalogue.version() == "":
        await handles.catalogue.update(cid("catalogue"), sample_products(products), "demo", who)
        handles.catalogue_changed()
    reqs = []
    for m, name, phone, card in MEMBERS:
        reqs.append(
            Request(
                cid(f"member:{m}"),
                command_hash("demo", m),
                MemberRegistered(m, name, phone, card),
                "demo",
                "",
                "127.0.0.1",
            )
        )
        reqs.append(
            Request(
                cid(f"topup:{m}"),
                command_hash("demo", m),
                WalletToppedUp(m, 50_000, "cash"),
                "demo",
                "",
                "127.0.0.1",
            )
        )
    year_us = 365 * 86_400 * 1_000_000
    until = time.time_ns() // 1000 + year_us
    coupon = CouponIssued(DEMO_COUPON, "amount", 5_000, min_spend=30_000, valid_to=until, uses=1000)
    reqs.append(  # its end is fixed at the first seeding: the command id is
        Request(cid("coupon"), command_hash("demo", DEMO_COUPON), coupon, "demo", "", "127.0.0.1")
    )
    _, prods = await handles.catalogue.snapshot()
    tracked = [p for p in prods if p.low_stock > 0]  # the sample tracks stock of its first 300
    for p in tracked:
        qty = 20_000 if p.unit == "kg" else 24
        reqs.append(
            Request(
                cid(f"stock:{p.sku}"),
                command_hash("demo", p.sku),
                StockReceived(p.sku, qty, "opening stock"),
                "demo",
                "",
                "127.0.0.1",
            )
        )
    for r in reqs:
        try:
            await handles.ledger.submit(r)
        except Exception as exc:  # an already-seeded store refuses nothing: ids are fixed
            log.warning("seed: %s", exc)
    from actors.demo_staff import (
        seed_demo_staff,  # staff with PINs (docs/readme/gateway.md); T1 open
    )

    await seed_demo_staff(handles)
    return {"products": len(prods), "members": len(MEMBERS)}


async def start_demo_cloud(hq: Path, port: int):
    """HQ's cloud on loopback, for the demo: ingest, licence checks, warehouse."""
    from aiohttp import web

    from cloud.app import make_app

    runner = web.AppRunner(make_app(hq), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def link_demo_store(data: Path, hq: Path, cloud_url: str) -> None:
    """Register the demo store with the demo HQ (upload secret) and install a signed licence."""
    import orjson

    from actors.files import atomic_write
    from actors.licence import LicenceKeeper
    from actors.server import load_config, update_store_json
    from cloud.licence import LicenceAuthority
    from cloud.registry import Registry
    from domain.ports import SystemClock
    from kassa_cli.licence import public_key_path

    cfg = load_config(data)
    if cfg.cloud_url != cloud_url:  # the demo cloud's port may change from run to run
        update_store_json(data, cloud_url=cloud_url)  # keeps auth and tls
    secret_path = data / "cloud_secret"
    reg = Registry(hq)
    try:
        if reg.store(cfg.store_id) is None or not secret_path.exists():
            secret = (
                reg.rotate_secret(cfg.store_id)
                if reg.store(cfg.store_id)
                else reg.add_store(cfg.store_id, cfg.zone, cfg.name)
            )
            atomic_write(secret_path, secret.encode(), mode=0o600)
    finally:
        reg.close()
    auth = LicenceAuthority(hq)
    auth.ensure_key()
    if not (data / "licence" / "licence.json").exists():
        key_file = public_key_path(data)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(key_file, (auth.public_key_text() + "\n").encode())
        now = SystemClock().now_us()
        day = 86_400_000_000
        doc = auth.issue(
            cfg.store_id, now - now % day, now - now % day + 365 * day, 7, 99, ["demo"]
        )  # 99 tills: the tests and benches use many till ids
        keeper = LicenceKeeper(data, cfg.store_id, auth.public_key_text(), None, SystemClock())
        await keeper.install(orjson.dumps(doc))
    await activate_demo(data, hq, cfg.store_id)


async def activate_demo(data: Path, hq: Path, store_id: str) -> None:
    """The demo's HQ approves the demo store's licence on this install at once (moving it here
    from wherever it was active), as a person at HQ would (``cloud.activation``)."""
    from actors.licence import LicenceKeeper
    from actors.store_file import load_public_key
    from cloud.activation_db import Activations
    from domain.ports import SystemClock

    key = load_public_key(data)
    if not key:
        return
    keeper = LicenceKeeper(data, store_id, key, None, SystemClock())
    if not keeper.needs_activation():
        return
    acts = Activations(hq)
    try:
        answer = acts.request(keeper.activation_request())
    except Exception as exc:  # a licence of another HQ: the store says so at day open
        print(f"demo: the licence cannot be activated here: {exc}", flush=True)
        return
    rec = acts.approve(answer["id"], "demo", move=True)
    await keeper.accept_activation(rec["activation"])


async def demo_hq(args: argparse.Namespace, hq: Path, port: int) -> str:
    """HQ's side of the demo: master data, a published catalogue, an account for the admin app."""
    from actors.server import load_config
    from kassa_cli.demo_hq import DEMO_PASSWORD, DEMO_USER, seed_demo_hq

    cfg = load_config(args.data)
    done = await asyncio.to_thread(
        seed_demo_hq, hq, cfg.store_id, cfg.name, cfg.zone, cfg.currency, args.products
    )
    return (
        f"demo HQ: {done}; admin app: kassa admin app --cloud http://127.0.0.1:{port} "
        f"(user {DEMO_USER}, password {DEMO_PASSWORD})"
    )


# PromptPay QR to a sample phone number, and the card terminal simulator approving every payment
# points: 1 per 25.00 spent, worth 0.25 each; tiers by spend over 90 days (a new member has none)
DEMO_LOYALTY = {
    "points_per_unit": 1,
    "unit": 2500,
    "point_value": 25,
    "tiers": [
        {
            "name": "Silver",
            "by": "spend",
            "threshold": 100_000,
            "window_days": 90,
            "discount_bp": 200,
            "multiplier_bp": 12_500,
        },
        {
            "name": "Gold",
            "by": "spend",
            "threshold": 500_000,
            "window_days": 90,
            "discount_bp": 500,
            "multiplier_bp": 15_000,
        },
    ],
}
DEMO_COUPON = "DEMO50"  # a bearer coupon: 50.00 off an order of 300.00 or more, 1,000 uses

DEMO_PAYMENTS = {
    "qr": "promptpay",
    "card": "card-sim",
    "promptpay": {"id": "0812345678", "id_type": "phone"},
    "card_sim": {"mode": "approve"},
}


def open_bigscreen(url: str, credential: Path) -> subprocess.Popen:
    """The sales big screen beside the till (a window on the right half of the screen)."""
    cmd = [sys.executable, "-m", "kassa_cli.main", "bigscreen", "--server", url]
    return subprocess.Popen([*cmd, "--credential", str(credential), "--windowed"])


class _NoSigtermNote(logging.Filter):
    """Ray's note that it set no SIGTERM handler (the demo starts Ray off the main thread, and
    stops it itself): noise on a demo's first screen."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


def _demo(args: argparse.Namespace) -> int:
    from actors.server import StoreServer, run_loop
    from kassa_cli.bigscreen import demo_credential
    from kassa_cli.demo_hq import prepare_demo_hq

    logging.getLogger("ray._private.worker").addFilter(_NoSigtermNote())

    async def run() -> int:
        cloud = None
        if not args.no_cloud:
            hq = args.hq or args.data.with_name(args.data.name + "-hq")
            await asyncio.to_thread(prepare_demo_hq, hq)
            cloud, cloud_port = await start_demo_cloud(hq, args.cloud_port)
            args.data.mkdir(parents=True, exist_ok=True)
            await link_demo_store(args.data, hq, f"http://127.0.0.1:{cloud_port}")
            print(
                f"kassa demo cloud (HQ) on http://127.0.0.1:{cloud_port}, data in {hq}; "
                f"HQ reads need its token: kassa cloud token --data {hq}",
                flush=True,
            )
            print(await demo_hq(args, hq, cloud_port), flush=True)
        server = StoreServer(args.data, "127.0.0.1", args.port)
        if not server.config.payments:  # the demo shop takes QR and a (simulated) card terminal
            from actors.server import load_config, update_store_json

            update_store_json(args.data, payments=DEMO_PAYMENTS)
            server.config = load_config(args.data)
        if not server.config.loyalty and (args.data / "store.json").exists():
            from actors.server import load_config, update_store_json

            update_store_json(args.data, loyalty=DEMO_LOYALTY)  # journaled at start
            server.config = load_config(args.data)
        await server.start()
        await server.started()  # the demo seeds through the catalogue actor
        info = await seed(server.handles, args.products)
        url = server.url  # https:// when TLS is on (kassa store tls enable)
        print(
            f"kassa demo shop {server.config.store_id}: {info['products']} products, "
            f"{info['members']} members, serving on {url}",
            flush=True,
        )
        if args.exit_after_setup:
            print(orjson_dumps(await server.handles.extra_status()), flush=True)
            await server.stop()
            if cloud is not None:
                await cloud.cleanup()
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        till = big = None
        if not args.no_till and os.environ.get("DISPLAY"):
            till = subprocess.Popen(
                [
                    *(sys.executable, "-m", "kassa_cli.main", "till", "--server", url),
                    *("--till", "T1", "--geometry", "1024x760+0+0"),  # the big screen beside it
                ]
            )
            big = open_bigscreen(url, await demo_credential(server.handles, args.data))
        elif not args.no_till:
            print(
                "no DISPLAY: the till window is not opened; the gateway is ready for kiosks",
                flush=True,
            )
        print("press Ctrl-C to stop", flush=True)
        await stop.wait()
        for proc in (till, big):
            if proc is not None:
                proc.terminate()
        await server.stop()
        if cloud is not None:
            await cloud.cleanup()
        return 0

    return run_loop(run())
