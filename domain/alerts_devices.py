"""The printer alert: tills whose receipt printer cannot print, from the reports the tills send
(``actors.device_states``). A till with no printer set up (``none``) raises nothing. Values are
flat (HQ's health report takes plain values only): ``count`` and, for the first five tills,
``till_N``, ``printer_N`` (the print queue's state) and ``failed_N`` (receipts that failed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.alerts import Alert
from domain.error_codes.it16 import DeviceAlert

__all__ = ["printer_alert", "SHOWN"]

SHOWN = 5  # tills named in the alert's values


def printer_alert(reports: Mapping[str, Mapping[str, Any]]) -> Alert | None:
    down = [
        (till, r)
        for till, r in sorted(reports.items())
        if not r.get("up") and r.get("printer") != "none"
    ]
    if not down:
        return None
    values: dict[str, Any] = {"count": len(down)}
    for n, (till, r) in enumerate(down[:SHOWN], 1):
        values.update(
            {
                f"till_{n}": till,
                f"printer_{n}": r.get("printer", ""),
                f"failed_{n}": r.get("failed", 0),
            }
        )
    names = ", ".join(f"{till} ({r.get('printer')})" for till, r in down[:SHOWN])
    return Alert(DeviceAlert.PRINTER_NOT_READY, f"printer cannot print at till {names}", values)
