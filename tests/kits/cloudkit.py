"""Helpers for the cloud tests: a simulated shop on a tmp journal (real Ledger + Till), the cloud
app on loopback, and the checks that the warehouse holds exactly the shop's events."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from pathlib import Path
from typing import Any

import polars as pl
from aiohttp import web

from actors.journal import Journal
from actors.ledger import Ledger, Request
from actors.till import Till, Who
from actors.uploader import FileState, HttpTransport, Uploader
from analytics.flatten import flatten
from cloud.app import AUTH, INGESTOR, WAREHOUSE, make_app
from cloud.registry import Registry
from domain.catalogue import CatalogueIndex, Product, ean_check_digit
from domain.commands import RefundOrder
from domain.events import MemberRegistered, WalletToppedUp
from domain.ports import ManualClock
from domain.store import StoreConfig

STORE = "S001"
ZONE = "Asia/Bangkok"


def _ean(stem: str) -> str:
    return stem + ean_check_digit(stem)


PRODUCTS = [
    Product("MILK", {"en": "Milk", "zh": "牛奶"}, 4500, barcodes=(_ean("885000000001"),)),
    Product("BREAD", {"en": "Bread"}, 3900, barcodes=(_ean("885000000002"),)),
    Product("RICE", {"en": "Rice 5kg"}, 18900, barcodes=(_ean("885000000003"),)),
    Product("APL", {"en": "Apples"}, 8000, unit="kg", plu="00042"),
]


class Shop:
    """A shop selling through the real ledger and till on a journal in ``folder``."""

    def __init__(self, folder: Path, clock: ManualClock, seed: int = 1) -> None:
        self.clock = clock
        self.ledger = Ledger(folder / "journal.sqlite", clock=clock)
        self.cfg = StoreConfig(store_id=STORE, zone=ZONE)
        self.till = Till("T1", self.cfg, CatalogueIndex(PRODUCTS))
        self.who = Who(staff="alice", ip="10.0.0.5")
        self.rng = random.Random(seed)
        self.orders: list[dict] = []
        self.members: list[str] = []

    def _do(self, op: str, args: dict) -> dict:
        r = self.till.prepare(str(uuid.uuid4()), op, args, self.who)
        return self.till.commit(self.ledger.submit(r))

    def member(self, mid: str, top_up: int) -> None:
        self.ledger.submit(
            Request(
                str(uuid.uuid4()),
                b"m" + mid.encode(),
                MemberRegistered(mid, f"Member {mid}", "", ""),
            )
        )
        self.ledger.submit(Request(str(uuid.uuid4()), b"t", WalletToppedUp(mid, top_up, "cash")))
        self.members.append(mid)

    def sell(self) -> dict:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            p = rng.choice(PRODUCTS)
            if p.unit == "kg":
                self._do("add", {"sku": p.sku, "weight_g": rng.randint(200, 2500)})
            else:
                self._do("scan", {"code": p.barcodes[0], "qty": rng.randint(1, 3)})
        total = self.till.view()["total"]
        pick = rng.random()
        if pick < 0.15 and self.members and self.ledger.balance(self.members[0]) >= total:
            tenders = [{"kind": "wallet", "member": self.members[0], "amount": total}]
        elif pick < 0.5:
            tenders = [{"kind": "card", "amount": total, "reference": "ref", "last4": "4242"}]
        else:
            tenders = [{"kind": "cash", "amount": total + 1000}]
        res = self._do("pay", {"tenders": tenders})
        self.orders.append(res["order"])
        return res["order"]

    def refund(self, order: dict) -> None:
        self.ledger.submit(
            Request(
                str(uuid.uuid4()),
                b"r" + order["order_id"].encode(),
                RefundOrder(
                    order["order_id"], "R" + order["order_id"][:8], None, cash_increment=25
                ),
            )
        )

    def trade(self, n_orders: int, step_s: float = 60.0, refund_every: int = 10) -> None:
        for i in range(n_orders):
            o = self.sell()
            if refund_every and i % refund_every == refund_every - 1:
                self.refund(o)
            self.clock.advance(step_s)

    @property
    def seq(self) -> int:
        return self.ledger.seq

    def close(self) -> None:
        self.ledger.journal.close()


def shop_events(folder: Path, seed: int = 3, orders: int = 12) -> tuple[list, ManualClock]:
    """A member and ``orders`` sales recorded by a shop in ``folder``: its events and its clock."""
    clock = ManualClock()
    shop = Shop(folder, clock, seed=seed)
    shop.member("M1", 50_000)
    shop.trade(orders)
    envs = shop.ledger.read(0, 10_000)
    shop.close()
    return envs, clock


class LedgerSource:
    """The uploader's source over the ledger (what the lead's Ray wrapper forwards to)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def read(self, after: int, limit: int):
        return self.ledger.read(after, limit)

    async def last_seq(self) -> int:
        return self.ledger.seq


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cloud:
    """The cloud app on 127.0.0.1 (port 0 unless given), restartable on the same data dir."""

    def __init__(self, data: Path, clock: Any, **kw: Any) -> None:
        self.data = data
        self.clock = clock
        self.kw = {"export_delay_s": 0.05, **kw}
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.app: web.Application | None = None
        self.token = ""  # HQ's API token (created in ``data`` at the first start)

    @staticmethod
    def register(data: Path, store: str = STORE, zone: str = ZONE) -> str:
        reg = Registry(data)
        try:
            return reg.add_store(store, zone=zone)
        finally:
            reg.close()

    async def start(self) -> Cloud:
        self.app = make_app(self.data, clock=self.clock, **self.kw)
        self.token = self.app[AUTH].token
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.app = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hq(self) -> dict[str, str]:
        """Headers for HQ's read endpoints."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ingestor(self):
        assert self.app is not None
        return self.app[INGESTOR]

    @property
    def warehouse(self):
        assert self.app is not None
        return self.app[WAREHOUSE]


def make_uploader(shop: Shop, url: str, secret: str, state_path: Path, **kw: Any) -> Uploader:
    opts = dict(
        max_events=kw.pop("max_events", 200),
        interval_s=0.05,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
    )
    opts.update(kw)
    return Uploader(
        LedgerSource(shop.ledger),
        HttpTransport(url, timeout_s=2.0),
        FileState(state_path),
        shop.clock,
        store=STORE,
        secret=secret,
        **opts,
    )


# ---------------------------------------------------------------- the checks

MONEY = {
    "orders": ["total", "paid", "tax", "discount", "cash", "card", "wallet", "change"],
    "order_lines": ["total", "amount", "tax"],
    "payments": ["amount"],
    "refunds": ["amount", "given"],
    "wallet_movements": ["amount"],
}


def store_tables(journal_path: Path) -> dict[str, pl.DataFrame]:
    j = Journal(journal_path)
    try:
        return flatten(list(j.scan()), STORE, ZONE)
    finally:
        j.close()


def warehouse_tables(data: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for t in MONEY:
        files = list((data / "warehouse" / t).glob("store=*/day=*/*.parquet"))
        out[t] = (
            pl.scan_parquet(
                str(data / "warehouse" / t / "**" / "*.parquet"), hive_partitioning=True
            ).collect()
            if files
            else None
        )
    return out


def assert_warehouse_matches(journal_path: Path, data: Path) -> dict[str, Any]:
    """The warehouse holds exactly the store's events: same rows, same money to the minor unit,
    and the cloud's event file is the journal, seq for seq and hash for hash."""
    want = store_tables(journal_path)
    got = warehouse_tables(data)
    summary: dict[str, Any] = {}
    for t, cols in MONEY.items():
        w, g = want[t], got[t]
        if w.height == 0:
            assert g is None or g.height == 0, t
            continue
        assert g is not None, f"no {t} in the warehouse"
        assert g.height == w.height, (t, g.height, w.height)
        assert g["seq"].n_unique() == w["seq"].n_unique(), t
        assert sorted(g["seq"].to_list()) == sorted(w["seq"].to_list()), t
        for c in cols:
            assert g[c].sum() == w[c].sum(), (t, c, g[c].sum(), w[c].sum())
        summary[t] = {"rows": g.height, **{c: int(g[c].sum()) for c in cols}}
    j = Journal(journal_path)
    import sqlite3

    con = sqlite3.connect(str(data / "stores" / STORE / "events.sqlite"))
    try:
        mine = [(e.seq, e.hash) for e in j.scan()]
        rows = con.execute("SELECT seq, hash FROM events ORDER BY seq")
        theirs = [(s, bytes(h)) for s, h in rows]
        assert mine == theirs
    finally:
        con.close()
        j.close()
    return summary


async def wait_for(cond, timeout: float = 20.0, every: float = 0.02) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(every)
