"""The till's link to the store in the background: the store's configuration (and the TLS
pairing notice), the print queue and its state in the status bar, receipts, and the licence
warnings from the store's health report. Once the store answers, the feedback outbox is sent.
Part of ``TillApp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.app_devices import PRINTER_WORDS, DeviceReport
from kiosk.app_feedback import FeedbackOutbox
from kiosk.i18n import N_, T, _, shown

__all__ = ["StoreStatus"]


class StoreStatus(FeedbackOutbox, DeviceReport):
    """Store configuration, printer and licence (a part of ``TillApp``)."""

    data_dir: Path
    printer_settings: dict[str, Any]
    print_queue: Any
    printer_state: Any
    printer_label: ttk.Label
    licence: dict
    licence_label: ttk.Label

    # ---------------------------------------------------------------- store config & printer
    def _load_store(self) -> None:
        def ok(cfg: dict) -> None:
            self.store = cfg
            if self.api.pin.paired_now:  # trust on first use: the person compares it
                self.notify(
                    _(
                        "Paired with the store. Its key must read the same as "
                        "'kassa store tls fingerprint' on the store PC: {fp}"
                    ).format(fp=self.api.pin.fingerprint),
                    error=False,
                )
            self._start_printer()
            self._flush_feedback()

        def err(exc: Exception) -> None:
            if getattr(exc, "code", "").startswith("tls."):
                self.fail(exc)  # a store that is not the paired one: say so, keep trying
            self.after(1000, self._load_store)

        self.worker.read(self.api.config, ok, err, "config")

    def _start_printer(self) -> None:
        """Open the print queue on a worker thread (loading the printer's profile takes time)."""
        if self.print_queue is not None:
            return

        def make():
            from domain.store import StoreConfig
            from hw.queue import PrintQueue

            cfg = StoreConfig.from_dict(self.store)
            return PrintQueue(
                self.data_dir,
                self.printer_settings,
                cfg,
                on_change=lambda st: self.worker.results.put((self._printer_changed, (st,))),
            )

        def ok(q) -> None:
            self.print_queue = q
            self._printer_changed(q.state())

        def err(exc: BaseException) -> None:  # the till sells without a printer
            self.printer_label.configure(text=T("Printer: not set up"), bootstyle="danger")
            self.report_printer()

        self.worker.read(make, ok, err, "printer")

    def _printer_changed(self, st: Any) -> None:
        self.printer_state = st
        word = _(PRINTER_WORDS.get(st.printer, N_("error")))
        text = _("Printer: {state}").format(state=word)
        if st.pending:
            text += " · " + i18n.counted(
                N_("1 receipt waiting"), N_("{n} receipts waiting"), st.pending
            )
        self.printer_label.configure(text=shown(text), bootstyle="default" if st.ok else "danger")
        self.report_printer()  # to the store, when the state changed

    def print_order(self, order: dict, member_balance: int | None = None) -> None:
        if self.print_queue is None:
            return
        s = self.session
        self.print_queue.submit(
            order,
            i18n.current(),
            member_balance=member_balance,
            till=self.till,
            staff=s.name if s else "",
        )

    # ---------------------------------------------------------------- licence
    def _poll_licence(self) -> None:
        """The store's licence, from its health report: say why a day cannot open, how many
        grace days are left while HQ cannot be reached, and warn before the licence ends."""

        def ok(health: dict) -> None:
            self.licence = health.get("licence") or {}
            self._show_licence()

        self.worker.read(self.api.health, ok, lambda exc: None, "health")
        self.report_printer()  # again every few minutes: a restarted store learns it
        self.after(60_000, self._poll_licence)

    def _show_licence(self) -> None:
        lic = self.licence
        text = ""
        if lic.get("code") == "licence.not_activated":  # HQ must approve this PC (its install id)
            text = _("HQ must approve install {install}")
            text = text.format(install=lic.get("install_id", ""))
        elif lic.get("ok") is False:
            text = _("Licence: the day cannot be opened ({code})").format(code=lic.get("code", ""))
        elif lic.get("code") == "licence.grace" or lic.get("warn_code") == "licence.grace_ending":
            text = _("Licence: {days} grace days left (HQ not reached)").format(
                days=i18n.number(int(lic.get("grace_days_left") or 0))
            )
        elif lic.get("warn_code") == "licence.expiring":
            text = _("Licence ends in {days} days").format(
                days=i18n.number(int(lic.get("expires_days_left") or 0))
            )
        self.licence_label.configure(
            text=shown(text) if text else "",
            bootstyle="danger" if lic.get("ok") is False else "warning",
        )
