"""The gateway's view of stock documents: ``domain.stock_docs.StockDocs`` and the levels
(``domain.stock.StockBook``) as of the journal's tail, read from the journal file through a
read-only SQLite connection (WAL: never in the ledger's way) when a stock route asks, so an answer
always holds every event committed before the question. Built from the journal's start on first
use, then only the new events; kept on the gateway (``docs_view(g)``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from domain.stock import StockBook
from domain.stock_docs import StockDocs

__all__ = ["DocsView", "docs_view", "PRICE_SOURCE"]

_KINDS = ("order.completed", "order.refunded", "order.exchanged")
_PREFIXES = ("stock.", "po.", "count.", "transfer.")
BATCH = 20_000
PRICE_SOURCE = "prices:"


class DocsView:
    def __init__(self, journal_path: Path | str) -> None:
        self.journal_path = Path(journal_path)
        self.docs = StockDocs()
        self.levels = StockBook()
        self.price_batches: dict[str, tuple[int, int, str]] = {}  # id -> seq, products, version
        self.seq = 0
        self.source: Any = None
        self.lock = asyncio.Lock()

    def _apply(self, body: Any, ts: int) -> None:
        self.docs.apply(body, ts)
        self.levels.apply(body)

    def _price_batch(self, env: Any) -> None:
        """A batch price edit (``actors.http.prices``: source ``prices:<id>``), by its id."""
        body = env.decoded()
        if str(body.source).startswith(PRICE_SOURCE):
            self.price_batches[env.id] = (env.seq, len(body.skus), body.version)

    async def fresh(self) -> DocsView:
        """This view, caught up with every event committed so far."""
        async with self.lock:
            if self.source is None:
                from actors.upload_source import JournalFileSource

                self.source = JournalFileSource(self.journal_path)
            while True:
                envs = await self.source.read(self.seq, BATCH)
                for env in envs:
                    if env.kind == "catalogue.updated":
                        self._price_batch(env)
                    elif env.kind in _KINDS or env.kind.startswith(_PREFIXES):
                        body = env.decoded()
                        if env.kind == "order.exchanged":  # a refund and a sale in one
                            for part in body.parts():
                                self._apply(part, env.ts)
                        else:
                            self._apply(body, env.ts)
                    self.seq = env.seq
                if len(envs) < BATCH:
                    return self
                await asyncio.sleep(0)  # a long first read lets the selling routes in between


def docs_view(g: Any) -> DocsView:
    view = getattr(g, "stock_docs_view", None)
    if view is None:
        view = DocsView(Path(g.data_dir) / "journal.sqlite")
        g.stock_docs_view = view
    return view
