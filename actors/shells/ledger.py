"""The ledger's shell: owns the journal (``actors.ledger.Ledger``); concurrent submissions are
gathered and committed in one transaction (group commit).

It runs in the store server's own process (the gateway's), before Ray: the tills hosted there call
it directly (``LocalLedger``), every other process (the actors Ray starts later) over its
owner-only Unix socket (``actors.wire``), whose methods are ``LEDGER_RPC``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from actors.ledger import LEDGER_METHODS, Ack, Ledger, Request
from actors.wire import Method, RpcServer, socket_name
from domain.error_codes.fastpath import Lifecycle
from domain.errors import Unavailable
from domain.journal_format import Envelope
from domain.reports_query import orders_matching

__all__ = ["LedgerShell", "LedgerActor", "LocalLedger", "LEDGER_RPC"]

log = logging.getLogger(__name__)
_EnvRow = tuple[int, str, int, str, int, str, str, str, str, bytes, bytes]


def _dump_envs(envs: list[Envelope]) -> list[tuple]:
    return [e.__reduce__()[1] for e in envs]


def _load_envs(rows: list[_EnvRow]) -> list[Envelope]:
    return [Envelope(*r) for r in rows]


def _dump_state(st: tuple[int, list[Envelope]]) -> tuple:
    return st[0], _dump_envs(st[1])


def _load_state(st: tuple[int, list[_EnvRow]]) -> tuple[int, list[Envelope]]:
    return st[0], _load_envs(st[1])


_ENVS = Method(None, list[_EnvRow], dump_res=_dump_envs, load_res=_load_envs)
# every method of the ledger, as it crosses its socket (submit and lookup: actors.ledger)
LEDGER_RPC: dict[str, Method] = {
    **LEDGER_METHODS,
    "serve": Method(None, str),
    "wait": _ENVS._replace(arg_type=tuple[int, int, float]),
    "read": _ENVS._replace(arg_type=tuple[int, int]),
    "open_basket_events": _ENVS._replace(arg_type=str),
    "till_state": Method(
        str, tuple[int, list[_EnvRow]], dump_res=_dump_state, load_res=_load_state
    ),
    "order": Method(str, dict),
    "orders_of": Method(tuple[str, str], list[dict]),
    "balance": Method(str, int),
    "loyalty": Method(str, dict),
    "coupon": Method(str, dict),
    "staff_state": Method(None, dict),
    "payments": Method(tuple[list[str] | None], list[dict]),
    "status": Method(None, dict),
}


class LedgerShell:
    """Owns the journal. Concurrent submissions are gathered and committed in one transaction."""

    def __init__(
        self, path: str, batch: int = 256, limits: dict | None = None, loyalty: dict | None = None
    ) -> None:
        import analytics.events  # noqa: F401 - registers order.flagged before the replay
        import domain.drawer  # and drawer.opened
        import domain.feedback  # noqa: F401 - and feedback.reported
        from domain.book import BookRules
        from domain.money import Limits

        # the store's ledger: a till sells only while its day is open, and no value beyond the
        # store's limits is journaled; the journal is checked before selling
        self.ledger = Ledger(path, check=True, rules=BookRules(True, Limits.from_dict(limits)))
        if loyalty:  # store.json's loyalty rules, journaled when the journal's differ
            from actors.loyalty_setup import journal_store_rules

            journal_store_rules(self.ledger, loyalty)
        self.queue: list[tuple[Request, asyncio.Future]] = []
        self.batch = batch
        self.writing = False
        self.new_event: asyncio.Condition | None = None
        self.rpc = RpcServer(socket_name(str(Path(path).parent), "ledger"), self.call, LEDGER_RPC)
        self.closed = False

    async def serve(self) -> str:
        """Open the ledger's socket (idempotent)."""
        await self.rpc.start()
        return self.rpc.name

    async def call(self, method: str, payload: Any = None) -> Any:
        """One call as it came over the socket (or from this process: ``LocalLedger``)."""
        if method == "submit":
            return await self.submit(payload)
        if method == "lookup":
            return self.ledger.lookup(*payload)
        if method in _NO_ARG:
            return await getattr(self, method)()
        if method in LEDGER_RPC:
            args = payload if isinstance(payload, tuple | list) else (payload,)
            return await getattr(self, method)(*args)
        raise ValueError(f"unknown method {method}")

    async def close(self) -> None:
        """Stop taking calls, let the batch being written finish, close the journal (with a
        snapshot where ``Ledger.close`` writes one)."""
        if self.closed:
            return
        self.closed = True
        await self.rpc.close()
        for _ in range(500):  # a group commit in flight finishes first (it is milliseconds)
            if not self.writing and not self.queue:
                break
            await asyncio.sleep(0.01)
        close = getattr(self.ledger, "close", None)
        if close is not None:
            close()
        else:
            self.ledger.journal.close()

    def _cond(self) -> asyncio.Condition:
        if self.new_event is None:
            self.new_event = asyncio.Condition()
        return self.new_event

    async def submit(self, req: Request) -> Ack:
        if self.closed:
            raise Unavailable(Lifecycle.STOPPING, "the store server is stopping; send it again")
        fut = asyncio.get_running_loop().create_future()
        self.queue.append((req, fut))
        if not self.writing:
            self.writing = True
            asyncio.get_running_loop().create_task(self._drain())
        res = await fut
        if isinstance(res, BaseException):
            raise res
        return res

    async def _drain(self) -> None:
        try:
            while self.queue:
                await asyncio.sleep(0)  # let calls that arrived together join this batch
                batch, self.queue = self.queue[: self.batch], self.queue[self.batch :]
                results: list[Any]
                try:
                    results = self.ledger.submit_batch([r for r, _ in batch])
                except Exception as exc:  # a bug, not a refusal: fail these callers loudly
                    log.exception("ledger batch failed")
                    results = [exc] * len(batch)
                for (_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res)
                cond = self._cond()
                async with cond:
                    cond.notify_all()
        finally:
            self.writing = False

    async def wait(self, after: int, limit: int = 1000, timeout: float = 10.0) -> list:
        """Events after ``after``; waits up to ``timeout`` seconds for one if there is none yet."""
        if self.ledger.seq <= after:
            cond = self._cond()
            try:
                async with cond:
                    await asyncio.wait_for(cond.wait_for(lambda: self.ledger.seq > after), timeout)
            except TimeoutError:
                return []
        return self.ledger.read(after, limit)

    async def read(self, after: int = 0, limit: int = 1000) -> list:
        return self.ledger.read(after, limit)

    async def open_basket_events(self, till: str) -> list:
        return self.ledger.open_basket_events(till)

    async def till_state(self, till: str) -> tuple:
        return self.ledger.till_state(till)

    async def order(self, order_id: str) -> dict:
        return self.ledger.order(order_id)

    async def orders_of(self, key: str, zone: str = "UTC") -> list[dict]:
        """Orders by number, id, member, or business date (YYYY-MM-DD in the store's zone);
        the newest 50."""
        book = self.ledger.book
        return orders_matching(book.orders, key, zone, book.numbers)

    async def payments(self, keys: list[str] | None = None) -> list[dict]:
        return self.ledger.payments(keys)

    async def balance(self, member: str) -> int:
        return self.ledger.balance(member)

    async def loyalty(self, key: str) -> dict:
        """A member's points, tier and coupons (by id, card or phone; domain.loyalty_book)."""
        book = self.ledger.book
        return book.loyalty.member_view(book.find_member(key).member, self.ledger.clock.now_us())

    async def coupon(self, code: str) -> dict:
        return self.ledger.book.loyalty.coupon_view(code, self.ledger.clock.now_us())

    async def staff_state(self) -> dict:
        """Staff accounts, permissions, sessions and till days, for the gateway's mirror."""
        return {**self.ledger.book.staff_state(), "seq": self.ledger.seq}

    async def status(self) -> dict:
        st = self.ledger.status()
        st["last_ts"] = self.ledger.last_ts
        return st


LedgerActor = LedgerShell  # its name when it was a Ray actor
_NO_ARG = frozenset({"serve", "staff_state", "status"})


class LocalLedger:
    """The ledger hosted in this process, called like its socket (``call(method, arg)``) but
    without the hop: the gateway's tills and routes use it."""

    __slots__ = ("shell",)

    def __init__(self, shell: LedgerShell) -> None:
        self.shell = shell

    async def call(self, method: str, arg: Any = None) -> Any:
        return await self.shell.call(method, arg)

    async def close(self) -> None:
        pass
