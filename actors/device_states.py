"""The tills' printer states, as each till reports them (``POST /v1/tills/{till}/devices``):
kept in the gateway's memory with the time they came, exported as Prometheus series and shown on
the manager counter's Health tab.

A till reports when its printer's state changes, after a sign-in, and every few minutes (so a
restarted store learns the states again; nothing of this is journaled). A report is the print
queue's own words: ``printer`` (ok, offline, paper_out, paper_low, cover_open, error, unknown; or
none: the till has no printer set up), receipts ``pending`` and ``failed``. The printer is "up"
when it can print: ok, paper low or not yet known, with no failed receipt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from domain.error_codes.it16 import It16
from domain.errors import InvalidInput

__all__ = ["PRINTER_STATES", "DeviceStates", "check_report"]

PRINTER_STATES = (
    "ok",
    "offline",
    "paper_out",
    "paper_low",
    "cover_open",
    "error",
    "unknown",
    "none",
)
UP = ("ok", "paper_low", "unknown")
MAX_TILLS = 200  # the series stay bounded even if a till id is made up by a signed-in session


def _count(data: dict[str, Any], key: str) -> int:
    v = data.get(key, 0)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 1_000_000:
        raise InvalidInput(It16.BAD_DEVICE_REPORT, f"{key} must be a whole number, 0 or more")
    return v


def check_report(data: Any) -> dict[str, Any]:
    """A till's report, checked: ``{printer, pending, failed, up}``."""
    if not isinstance(data, dict) or data.get("printer") not in PRINTER_STATES:
        raise InvalidInput(
            It16.BAD_DEVICE_REPORT, "printer must be one of " + ", ".join(PRINTER_STATES)
        )
    rep = {
        "printer": data["printer"],
        "pending": _count(data, "pending"),
        "failed": _count(data, "failed"),
    }
    rep["up"] = rep["printer"] in UP and not rep["failed"]
    return rep


class DeviceStates:
    """The latest report per till, in memory, and its series in ``registry``."""

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.tills: dict[str, dict[str, Any]] = {}
        self.up = Gauge(
            "kassa_printer_up",
            "1 when the till's receipt printer can print (its latest report), else 0",
            ["till"],
            registry=registry,
        )
        self.pending = Gauge(
            "kassa_printer_pending_receipts",
            "receipts waiting in the till's print queue (its latest report)",
            ["till"],
            registry=registry,
        )
        self.reported = Gauge(
            "kassa_printer_report_timestamp_seconds",
            "when the till last reported its printer (UNIX time)",
            ["till"],
            registry=registry,
        )

    def report(self, till: str, data: Any) -> dict[str, Any]:
        """Keep a till's checked report; answers it with its time (``at_us``)."""
        rep = check_report(data)
        if till not in self.tills and len(self.tills) >= MAX_TILLS:
            raise InvalidInput(It16.BAD_DEVICE_REPORT, "too many tills report devices")
        now = self.clock()
        rep["at_us"] = int(now * 1_000_000)
        self.tills[till] = rep
        self.up.labels(till).set(1 if rep["up"] else 0)
        self.pending.labels(till).set(rep["pending"])
        self.reported.labels(till).set(now)
        return rep

    def figures(self) -> dict[str, dict[str, Any]]:
        """Each till's latest report, by till (for ``GET /v1/alerts`` and the Health tab)."""
        return {t: dict(r) for t, r in sorted(self.tills.items())}
