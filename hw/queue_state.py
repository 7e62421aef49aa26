"""The print queue's records: the jobs table (``print-queue.sqlite``), a job as the till lists it
(``JobInfo``) and the snapshot the till's screen shows (``QueueState``)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from hw.printer import OK, PAPER_LOW, UNKNOWN

__all__ = ["JobInfo", "QueueState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,          -- idempotency: sale:<order_id>, refund:<refund_id>, ...
    kind TEXT NOT NULL,                -- sale | refund | reprint | drawer
    number TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,             -- JSON: the order/refund dict, lang and options
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    next_at REAL NOT NULL,
    printed REAL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_number ON jobs(number, id);
"""


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    number: str
    state: str
    attempts: int
    created: float
    printed: float | None
    last_error: str


@dataclass(frozen=True)
class QueueState:
    """What the till shows. ``printer``: ok | offline | paper_out | paper_low | cover_open | error |
    unknown; ``code`` is ``printer.<state>`` for the till's message catalogue."""

    printer: str = UNKNOWN
    detail: str = ""
    pending: int = 0
    failed: int = 0
    printing: bool = False
    last_error: str = ""
    next_retry_at: float | None = None
    last_printed: str = ""
    changed_at: float = field(default_factory=time.time)

    @property
    def code(self) -> str:
        return f"printer.{self.printer}"

    @property
    def ok(self) -> bool:
        return self.printer in (OK, PAPER_LOW, UNKNOWN) and not self.failed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["code"] = self.code
        d["ok"] = self.ok
        return d
