"""The typed client of the store's actors: the only module that calls ``.remote()``.

Each class wraps one actor's Ray handle and gives it typed ``async`` methods that await the Ray
call; the gateway routes, the actor shells (calling each other), ``actors.staff`` and the demo use
these, never a handle. Creating the actors is ``actors.bootstrap``'s; starting Ray is
``actors.ray_boot``'s. The ledger is no Ray actor: it lives in the store server's own process,
which calls it directly, and ``LedgerClient`` reaches it over its owner-only Unix socket
(``actors.wire``) from every other process. A till actor's commands travel over its own socket
(``till_channel``); Ray only wakes a restarted till actor to open its socket again.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Protocol

import orjson

from actors.catalogue import paused_gc
from actors.ledger import Ack, Request
from actors.shells.ledger import LEDGER_RPC
from actors.till import TILL_METHODS, Who
from actors.wire import RpcClient, socket_name

__all__ = [
    "LedgerClient",
    "CatalogueClient",
    "TillClient",
    "StockClient",
    "WalletClient",
    "AnalyticsClient",
    "UploaderClient",
    "LicenceClient",
    "ledger_channel",
    "till_channel",
    "named",
    "DATA_ENV",
    "LedgerCaller",
]

BLOB_ROWS = 1000  # an update of more products than this crosses Ray as one JSON blob
DATA_ENV = "KASSA_DATA"  # the store's data folder, for the actors Ray starts


def named(name: str) -> Any:
    """The Ray handle of the store's actor called ``name`` (ValueError if there is none)."""
    from actors.ray_boot import (
        NAMESPACE,
        ray,
    )  # not before it is needed: the selling path starts first

    return ray.get_actor(name, namespace=NAMESPACE)


class _Client:
    __slots__ = ("handle",)

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    @classmethod
    def named(cls, name: str) -> Any:
        return cls(named(name))

    async def up(self) -> None:
        """Wait until the actor is created and answers (Ray's own no-op method)."""
        await self.handle.__ray_ready__.remote()


class LedgerCaller(Protocol):
    async def call(self, method: str, arg: Any = None) -> Any: ...


class LedgerClient:
    """The ledger: the journal's only writer (``actors.shells.ledger.LedgerShell``), hosted by the
    store server's own process. There it is called directly; from any other process (the actors)
    over its owner-only Unix socket, found from the data folder (``at``) or, in an actor, from
    ``KASSA_DATA`` which the server sets before Ray starts (``named``)."""

    __slots__ = ("rpc",)

    def __init__(self, rpc: LedgerCaller) -> None:
        self.rpc = rpc

    @classmethod
    def at(cls, data_dir: str | Path) -> LedgerClient:
        return cls(RpcClient(socket_name(data_dir, "ledger"), LEDGER_RPC))

    @classmethod
    def named(cls, name: str = "ledger") -> LedgerClient:
        data = os.environ.get(DATA_ENV, "")
        if name != "ledger" or not data:
            raise ValueError(f"no ledger {name!r} here ({DATA_ENV} is not set)")
        return cls.at(data)

    async def serve(self) -> str:
        return await self.rpc.call("serve")

    async def submit(self, req: Request) -> Ack:
        return await self.rpc.call("submit", req)

    async def wait(self, after: int, limit: int = 1000, timeout: float = 10.0) -> list:
        return await self.rpc.call("wait", (after, limit, timeout))

    async def read(self, after: int = 0, limit: int = 1000) -> list:
        return await self.rpc.call("read", (after, limit))

    async def till_state(self, till: str) -> tuple:
        return await self.rpc.call("till_state", till)

    async def order(self, order_id: str) -> dict:
        return await self.rpc.call("order", order_id)

    async def orders_of(self, key: str, zone: str = "UTC") -> list[dict]:
        return await self.rpc.call("orders_of", (key, zone))

    async def staff_state(self) -> dict:
        return await self.rpc.call("staff_state")

    async def payments(self, keys: list[str] | None = None) -> list[dict]:
        return await self.rpc.call("payments", (keys,))

    async def loyalty(self, member: str) -> dict:
        return await self.rpc.call("loyalty", member)

    async def coupon(self, code: str) -> dict:
        return await self.rpc.call("coupon", code)

    async def status(self) -> dict:
        return await self.rpc.call("status")


class CatalogueClient(_Client):
    async def snapshot(self) -> tuple:
        return await self.handle.snapshot.remote()

    async def version(self) -> str:
        return await self.handle.version.remote()

    async def changes(self, have: str) -> tuple:
        return await self.handle.changes.remote(have)

    async def rows(self, skus: list[str] | None = None) -> tuple[str, list[dict]]:
        """The version and the products of ``skus`` (None: all) as dicts; they cross Ray as one
        JSON blob (not 300,000 pickled products), decoded in a worker thread when large."""

        def decode() -> list[dict]:
            with paused_gc():
                return orjson.loads(blob)

        version, blob = await self.handle.rows.remote(skus)
        if len(blob) > 1_000_000:
            return version, await asyncio.to_thread(decode)
        return version, orjson.loads(blob)

    async def price_split(
        self, hq: dict[str, dict], pairs: list[list] | None = None
    ) -> tuple[str, bytes | None, list[dict]]:
        """HQ's new rows and price pairs cross as JSON blobs; the store's rows of the products
        whose price is not all that changes come back as one (``CatalogueActor.price_split``)."""
        blob, given = await asyncio.to_thread(lambda: (orjson.dumps(hq), orjson.dumps(pairs or [])))
        version, prices, rest = await self.handle.price_split.remote(blob, given)
        if len(rest) > 1_000_000:  # not a reprice after all: every product's row
            return version, prices, await asyncio.to_thread(orjson.loads, rest)
        return version, prices, orjson.loads(rest)

    async def lookup(self, code: str) -> dict:
        return await self.handle.lookup.remote(code)

    async def search(self, query: str, limit: int = 50, sellable_only: bool = False) -> list:
        return await self.handle.search.remote(query, limit, sellable_only)

    async def grid(self, category: str = "") -> dict:
        return await self.handle.grid.remote(category)

    async def register_till(self, name: str) -> None:
        await self.handle.register_till.remote(name)

    async def update(
        self,
        cid: str,
        products: list[dict],
        source: str,
        who: Who,
        replace_all: bool = False,
        remove: list[str] | None = None,
        prices: bytes | None = None,
        base: str | None = None,
    ) -> dict:
        """The products cross Ray as one JSON blob: pickling 300,000 dicts there and back took
        about 2.6 s of a whole-catalogue apply; JSON about a quarter of that (made in a worker
        thread, off this process's loop). Rows JSON cannot carry go as they are."""
        blob: list[dict] | bytes = products
        if len(products) > BLOB_ROWS:
            try:
                blob = await asyncio.to_thread(orjson.dumps, products)
            except TypeError:
                blob = products
        return await self.handle.update.remote(
            cid, blob, source, who, replace_all, remove, prices, base
        )


class TillClient(_Client):
    """A till actor (``till_placement`` "actor"); its commands go over ``till_channel``."""

    async def serve(self) -> str:
        return await self.handle.serve.remote()

    async def reload_catalogue(self) -> None:
        """Tell the till its catalogue is stale (it loads the new one before its next command)."""
        await self.handle.reload_catalogue.remote()

    async def do_many(self, cmds: list[tuple[str, str, dict, Who]]) -> list:
        return await self.handle.do_many.remote(cmds)


class _Follower(_Client):
    def ping(self) -> None:
        """Wake the read model (it starts following the journal); not waited for."""
        self.handle.ping.remote()

    async def submit(self, req: Request) -> Ack:
        return await self.handle.submit.remote(req)


class StockClient(_Follower):
    async def level(self, sku: str) -> int:
        return await self.handle.level.remote(sku)

    async def report(self) -> dict:
        return await self.handle.report.remote()


class WalletClient(_Follower):
    async def member(self, key: str) -> dict:
        return await self.handle.member.remote(key)

    async def search(self, q: str, limit: int = 50) -> dict:
        return await self.handle.search.remote(q, limit)

    async def rows(self) -> list[dict]:
        return await self.handle.rows.remote()


class AnalyticsClient(_Client):
    def ping(self) -> None:
        self.handle.ping.remote()

    async def status(self) -> dict:
        return await self.handle.status.remote()

    async def report(
        self,
        name: str,
        kwargs: dict | None = None,
        at_seq: int = 0,
        wait_s: float = 10.0,
        strict: bool = False,
    ) -> Any:
        return await self.handle.report.remote(name, kwargs, at_seq, wait_s, strict)

    async def flag_now(self, days: int = 2) -> int:
        return await self.handle.flag_now.remote(days)

    async def rebuild(self) -> int:
        return await self.handle.rebuild.remote()


class UploaderClient(_Client):
    def wake(self) -> None:
        """Start the actor (its first call); not waited for."""
        self.handle.status.remote()

    async def status(self) -> dict:
        return await self.handle.status.remote()

    async def notify(self) -> None:
        await self.handle.notify.remote()


class LicenceClient(_Client):
    def wake(self) -> None:
        """Start the actor (its first call); not waited for."""
        self.handle.status.remote()

    async def status(self) -> dict:
        return await self.handle.status.remote()

    async def may_open_day(self) -> dict:
        return await self.handle.may_open_day.remote()

    async def check_now(self) -> dict:
        return await self.handle.check_now.remote()

    async def reload(self) -> dict:
        return await self.handle.reload.remote()


def ledger_channel(data_dir: str, ledger: LedgerClient) -> LedgerCaller:
    """The channel to the ledger of the store in ``data_dir`` that the tills commit through
    (``call("submit", req)``): the ledger client's own."""
    return ledger.rpc


def till_channel(data_dir: str, till_id: str, till: TillClient) -> RpcClient:
    """The fast channel to till ``till_id``'s actor (``call("do", …)``, ``call("view")``)."""
    return RpcClient(socket_name(data_dir, f"till-{till_id}"), TILL_METHODS, wake=till.serve)
