"""The ledger's shell: owns the journal (``actors.ledger.Ledger``); concurrent submissions are
gathered and committed in one transaction (group commit)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from actors.ledger import LEDGER_METHODS, Ack, Ledger, Request
from actors.wire import RpcServer, socket_name
from domain.reports_query import orders_matching

__all__ = ["LedgerActor"]

log = logging.getLogger(__name__)


class LedgerActor:
    """Owns the journal. Concurrent submissions are gathered and committed in one transaction."""

    def __init__(self, path: str, batch: int = 256, limits: dict | None = None) -> None:
        import analytics.events  # noqa: F401 - registers order.flagged before the replay
        import domain.drawer  # and drawer.opened
        import domain.feedback  # noqa: F401 - and feedback.reported
        from domain.book import BookRules
        from domain.money import Limits

        # the store's ledger: a till sells only while its day is open, and no value beyond the
        # store's limits is journaled; the journal is checked before selling
        self.ledger = Ledger(path, check=True, rules=BookRules(True, Limits.from_dict(limits)))
        self.queue: list[tuple[Request, asyncio.Future]] = []
        self.batch = batch
        self.writing = False
        self.new_event: asyncio.Condition | None = None
        self.rpc = RpcServer(
            socket_name(str(Path(path).parent), "ledger"), self._rpc, LEDGER_METHODS
        )

    async def serve(self) -> str:
        """Open the ledger's fast socket (idempotent; called again after a restart)."""
        await self.rpc.start()
        return self.rpc.name

    async def _rpc(self, method: str, payload: Any) -> Any:
        if method == "submit":
            return await self.submit(payload)
        if method == "lookup":
            return self.ledger.lookup(*payload)
        raise ValueError(f"unknown method {method}")

    def _cond(self) -> asyncio.Condition:
        if self.new_event is None:
            self.new_event = asyncio.Condition()
        return self.new_event

    async def submit(self, req: Request) -> Ack:
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

    async def staff_state(self) -> dict:
        """Staff accounts, permissions, sessions and till days, for the gateway's mirror."""
        return {**self.ledger.book.staff_state(), "seq": self.ledger.seq}

    async def status(self) -> dict:
        st = self.ledger.status()
        st["last_ts"] = self.ledger.last_ts
        return st
