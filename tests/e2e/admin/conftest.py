"""Fixtures for the admin app's tests: a real cloud on loopback (in a thread of its own) holding
a shop's sales uploaded through the real uploader, and an Xvfb display."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from adminkit import trade_and_upload
from cloudkit import Cloud, Shop
from domain.ports import ManualClock
from tilldriver import xvfb_display

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "admin"


class CloudThread:
    """The cloud app served by an event loop on a thread, so the Tk window owns the main one."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.clock = ManualClock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="cloud")
        self.thread.start()
        (base / "shop").mkdir()
        self.shop = Shop(base / "shop", self.clock)
        self.cloud = Cloud(base / "cloud", self.clock)

    def run(self, coro, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> CloudThread:
        secret = Cloud.register(self.base / "cloud")
        Cloud.register(self.base / "cloud", "S002", zone="Asia/Shanghai")
        self.run(self.cloud.start())
        self.run(trade_and_upload(self.shop, self.cloud, secret, self.base / "shop" / "up.json"))
        self.seed_products()
        return self

    def seed_products(self) -> None:
        """HQ's master data holds the shop's products (when part hqmaster is in this cloud)."""
        try:
            from cloud.master import MASTER
        except ModuleNotFoundError:
            return
        from cloudkit import PRODUCTS

        app = self.cloud.app
        if app is None or MASTER not in app:
            return
        rows = [
            {
                "sku": p.sku,
                "names": dict(p.names),
                "price": p.price,
                "unit": p.unit,
                "plu": p.plu,
                "barcodes": list(p.barcodes),
                "category": "Food",
            }
            for p in PRODUCTS
        ]
        app[MASTER].upsert_products(rows, "test")

    def stop(self) -> None:
        self.run(self.cloud.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.shop.close()

    @property
    def url(self) -> str:
        return self.cloud.url

    @property
    def token(self) -> str:
        return self.cloud.token


@pytest.fixture(scope="session")
def xvfb():
    with xvfb_display() as display:
        yield display


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    c = CloudThread(tmp_path_factory.mktemp("hq")).start()
    yield c
    c.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
