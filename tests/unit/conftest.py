"""Shared fixtures for unit tests: no Ray, a manual clock, a ledger on a tmp file, a small shop."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from actors.ledger import Ack, Ledger, Request
from actors.till import Till, Who
from domain.catalogue import CatalogueIndex, Product, ean_check_digit
from domain.events import MemberRegistered, WalletToppedUp
from domain.ports import ManualClock
from domain.store import StoreConfig


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch):
    """Unit tests never start Ray: any call to ray.init fails the test."""
    try:
        import ray
    except ImportError:  # pragma: no cover
        yield
        return

    def refuse(*args, **kwargs):
        raise RuntimeError("unit tests must not start Ray (ray.init was called)")

    monkeypatch.setattr(ray, "init", refuse)
    yield


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch):
    """Unit tests open no network or named Unix sockets (a socketpair, as asyncio makes, is fine):
    a test that needs a server belongs in tests/integration."""
    real_connect, real_bind = socket.socket.connect, socket.socket.bind

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) or address:
            raise RuntimeError(
                f"unit tests must not use sockets ({address!r}): move the test to tests/integration"
            )

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def bind(self, address):
        check(self, address)
        return real_bind(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "bind", bind)
    yield


def ean(prefix: str) -> str:
    """A valid EAN/UPC code: ``prefix`` plus its check digit."""
    return prefix + ean_check_digit(prefix)


MILK_EAN = ean("885000000001")  # EAN-13
BREAD_EAN8 = ean("9638507")  # EAN-8
SOAP_UPC = ean("03600029145")  # UPC-A (12 digits)


def sample_products() -> list[Product]:
    return [
        Product(
            "MILK-1L",
            {"en": "Fresh milk 1L", "zh": "鲜牛奶 1升", "th": "นมสด 1 ลิตร"},
            4500,
            category="dairy",
            barcodes=(MILK_EAN,),
            low_stock=5,
        ),
        Product(
            "BREAD",
            {"en": "White bread", "zh": "白面包", "th": "ขนมปังขาว"},
            3500,
            category="bakery",
            barcodes=(BREAD_EAN8,),
        ),
        Product(
            "SOAP",
            {"en": "Bar soap", "zh": "香皂", "th": "สบู่ก้อน"},
            2000,
            category="household",
            barcodes=(SOAP_UPC,),
        ),
        Product(
            "APPLE",
            {"en": "Apples", "zh": "苹果", "th": "แอปเปิ้ล"},
            8000,
            unit="kg",
            plu="00042",
            category="fruit",
        ),
        Product(
            "CHEESE",
            {"en": "Cheese by the piece", "zh": "奶酪"},
            50000,
            plu="00077",
            category="dairy",
        ),
        Product(
            "WATER",
            {"en": "Water 500ml", "zh": "矿泉水"},
            1000,
            tax_class="zero",
            category="drinks",
        ),
        Product("OLD", {"en": "Discontinued thing"}, 100, sellable=False),
    ]


@pytest.fixture
def catalogue() -> CatalogueIndex:
    return CatalogueIndex(sample_products(), version="test-1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(tmp_path: Path, clock: ManualClock):
    led = Ledger(tmp_path / "journal.sqlite", clock=clock)
    yield led
    led.journal.close()


def cid() -> str:
    return str(uuid.uuid4())


@dataclass
class Shop:
    """One till in front of a real ledger: ``do`` prepares, submits and commits like the actor."""

    ledger: Ledger
    till: Till
    who: Who = field(default_factory=lambda: Who(staff="alice", ip="10.0.0.5", limit_bp=1000))

    def do(self, op: str, args: dict, *, command_id: str | None = None, who: Who | None = None):
        req = self.till.prepare(command_id or cid(), op, args, who or self.who)
        return self.till.commit(self.ledger.submit(req))

    def submit(
        self,
        body,
        *,
        command_id: str | None = None,
        cmd: bytes | None = None,
        staff: str = "mgr",
        till: str = "T1",
    ) -> Ack:
        command_id = command_id or cid()
        return self.ledger.submit(
            Request(command_id, cmd or command_id.encode(), body, staff=staff, till=till)
        )

    def member(self, member: str = "M1", topup: int = 0) -> str:
        self.submit(MemberRegistered(member, f"Member {member}", card=f"CARD-{member}"))
        if topup:
            self.submit(WalletToppedUp(member, topup, "cash"))
        return member


def make_config(**kw) -> StoreConfig:
    base = dict(
        currency="THB",
        prices_include_tax=True,
        tax_classes={"std": 700, "zero": 0},
        cash_increment=25,
    )
    base.update(kw)
    return StoreConfig(**base)


@pytest.fixture
def config() -> StoreConfig:
    return make_config()


@pytest.fixture
def shop(ledger: Ledger, config: StoreConfig, catalogue: CatalogueIndex) -> Shop:
    return Shop(ledger, Till("T1", config, catalogue))
