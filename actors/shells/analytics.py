"""The analytics shell: the only process that opens the store's DuckDB copy; it follows the
journal, answers reports, and journals anomaly flags (``analytics.flagging``) every so often."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from actors.client import LedgerClient
from actors.shells.readmodels import Follower
from actors.shells.system import JournalFn

__all__ = ["AnalyticsActor", "REPORTS"]

log = logging.getLogger(__name__)

REPORTS = {
    "x_report",
    "z_report",
    "day_report",
    "cashier_report",
    "sales_by",
    "refunds_and_voids",
    "wallet_liability",
    "stock_on_hand",
    "negative_stock",
    "low_stock",
    "flags",
    "period_report",
    "year_report",
    "bigscreen",
}


def _plain(value: Any) -> Any:
    """Polars frames become lists of rows so that they cross Ray and HTTP as JSON."""
    if hasattr(value, "to_dicts"):
        return value.to_dicts()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class AnalyticsActor(Follower):
    """The only process that opens the store's DuckDB analytics copy; follows the journal."""

    def __init__(
        self,
        data_dir: str,
        zone: str,
        store_id: str = "",
        flag_every_s: float = 20.0,
        rules: dict | None = None,
    ) -> None:
        from analytics.store import StoreAnalytics

        self.ledger = LedgerClient.named("ledger")
        self.store = StoreAnalytics(
            str(Path(data_dir) / "analytics.duckdb"), zone, store_id=store_id or "S001"
        )
        self.journal_path = Path(data_dir) / "journal.sqlite"
        self.zone = zone
        self.store_id = store_id
        self.view = self
        self.task = None
        self.pace_s = 1.0  # DuckDB likes few large inserts: ingest at most once a second
        self.flag_task: asyncio.Task | None = None
        self.flag_every_s = flag_every_s
        from analytics.anomaly_settings import rules_from

        self.rules = rules_from(rules)
        self.data_dir = data_dir
        self.journal_fn = JournalFn(data_dir)
        self.flagged = 0
        self.error = ""  # the last ingest's error, until one succeeds (health shows it)

    def _ensure(self) -> None:
        super()._ensure()
        if self.flag_task is None or self.flag_task.done():
            self.flag_task = asyncio.get_running_loop().create_task(self._flag_loop())

    async def _flag_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flag_every_s)
            try:
                await self.flag_now()
            except Exception:
                log.warning("anomaly scoring failed", exc_info=True)

    async def flag_now(self, days: int = 2) -> int:
        """Score today's (and yesterday's) orders; journal new flags, freeze where a rule says."""
        from analytics.flagging import journal_new_flags  # Polars: not in the server's process

        today = datetime.now(ZoneInfo(self.zone)).date()
        n = await journal_new_flags(
            self.store, self.rules, today, days, self.journal_fn.submit, self.data_dir
        )
        self.flagged += n
        return n

    @property
    def seq(self) -> int:
        return self.store.last_seq

    def apply(self, envs: list) -> None:
        if envs:
            try:
                self.store.ingest(envs)
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {str(exc)[:200]}"
                raise
            self.error = ""

    async def status(self) -> dict:
        """The copy's seq, its quarantined events and its last ingest error (for health)."""
        self._ensure()
        return {
            "seq": self.store.last_seq,
            "quarantined": self.store.quarantine(limit=0)["total"],
            "error": self.error,
        }

    async def report(
        self,
        name: str,
        kwargs: dict | None = None,
        at_seq: int = 0,
        wait_s: float = 10.0,
        strict: bool = False,
    ) -> Any:
        """Run report ``name`` once the copy holds everything up to ``at_seq`` (the journal's seq
        when asked), waiting up to ``wait_s``. A report that still lags says so (``lagging``,
        ``as_of_seq`` < ``journal_seq``) or, ``strict`` (a Z report at close), is refused."""
        if name not in REPORTS:
            from domain.errors import NotFound

            raise NotFound("report.unknown", f"no report {name!r}")
        if at_seq:
            await self.caught_up(at_seq, wait_s)
        self._ensure()
        return _plain(self.store.fresh_report(name, kwargs or {}, at_seq, strict))

    async def rebuild(self) -> int:
        """Drop the copy and derive it again from the journal (read-only; the ledger writes)."""
        from actors.journal import COLS, _env, connect

        con = connect(self.journal_path, readonly=True)
        try:
            rows = (_env(r) for r in con.execute(f"SELECT {COLS} FROM events ORDER BY seq"))
            return self.store.rebuild(rows)
        finally:
            con.close()
