"""The till tells the store its receipt printer's state (``POST /v1/tills/{till}/devices``, kept
in the store's memory: ``actors.device_states``), so the manager counter's Health tab and the
store's metrics (``kassa_printer_up{till}``) show every till's printer. Part of ``TillApp``.

A report goes when the printer's state changes (ok, offline, out of paper…, or a receipt that
failed), after a sign-in (a report needs a session on this till), and every ``EVERY_S`` seconds
(a restarted store knows nothing until then). It is a read-lane call off the Tk thread: a store
without the route (an older version) or a failed send costs nothing and is tried again later.
"""

from __future__ import annotations

import time
from typing import Any

from kiosk import i18n
from kiosk.i18n import N_, _

__all__ = ["DeviceReport", "printer_report", "printer_rows", "PRINTER_WORDS", "EVERY_S"]

EVERY_S = 300.0
PRINTER_WORDS = {  # the print queue's states (hw.queue_state), in words
    "ok": N_("ready"),
    "offline": N_("offline"),
    "paper_out": N_("out of paper"),
    "paper_low": N_("paper low"),
    "cover_open": N_("cover open"),
    "error": N_("error"),
    "unknown": N_("ready"),
    "none": N_("not set up"),
}


def printer_rows(devices: dict[str, Any], zone: Any) -> list[tuple[str, str]]:
    """(what, value in words) per till's printer report (``GET /v1/alerts``'s ``devices``)."""
    rows = []
    for till, rep in sorted(devices.items()):
        text = _(PRINTER_WORDS.get(str(rep.get("printer")), N_("error")))
        if rep.get("failed"):
            text += " · " + _("{n} receipts failed").format(n=i18n.number(int(rep["failed"])))
        if rep.get("pending"):
            text += " · " + i18n.counted(
                N_("1 receipt waiting"), N_("{n} receipts waiting"), int(rep["pending"])
            )
        when = i18n.when(rep["at_us"], zone) if rep.get("at_us") else "—"
        text += " · " + _("reported {when}").format(when=when)
        rows.append((_("Printer at till {till}").format(till=till), text))
    return rows


def printer_report(state: Any) -> dict[str, Any]:
    """The report of a print queue's ``QueueState`` (None: no printer set up)."""
    if state is None:
        return {"printer": "none", "pending": 0, "failed": 0}
    return {"printer": state.printer, "pending": state.pending, "failed": state.failed}


class DeviceReport:
    """Sends the printer's state to the store when it changes (a part of ``TillApp``)."""

    session: Any
    printer_state: Any
    till: str
    api: Any
    worker: Any
    _printer_sent: tuple[Any, ...] | None = None
    _printer_sent_at = 0.0

    def report_printer(self) -> None:
        s = self.session
        if s is None:
            return
        rep = printer_report(self.printer_state)
        key = (s.token, rep["printer"], rep["failed"] > 0)
        now = time.monotonic()
        if key == self._printer_sent and now - self._printer_sent_at < EVERY_S:
            return
        self._printer_sent, self._printer_sent_at = key, now
        path = f"/v1/tills/{self.till}/devices"

        def failed(_exc: BaseException) -> None:
            self._printer_sent = None  # sent again at the next change or minute

        self.worker.read(lambda: self.api.post(path, rep), None, failed, "devices")
