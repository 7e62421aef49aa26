"""The manager counter's business day tab: open or close the day with a count of the cash
drawer. Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import T, _, shown
from kiosk.screens.manager_reports import ReportsTab

__all__ = ["DayTab", "DENOMINATIONS"]


# notes and coins counted at open/close (minor units); other currencies count one total
DENOMINATIONS = {
    "THB": (100000, 50000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 25),
    "CNY": (10000, 5000, 2000, 1000, 500, 100, 50, 10),
    "SAR": (50000, 10000, 5000, 1000, 500, 100, 50, 25, 10),
    "USD": (10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1),
}


class DayTab(ReportsTab):
    """The business day tab's widgets and actions (a part of ``ManagerScreen``); closing the
    day shows its Z report in the reports tab."""

    day_tab: ttk.Frame

    # ---------------------------------------------------------------- business day
    def _day(self) -> None:
        app, f = self.app, self.day_tab
        self.day_state = ttk.Label(f, text="", font=app.mid_font)
        self.day_state.pack(anchor=app.text_anchor, pady=(0, 8))
        ttk.Label(f, text=T("Count the cash in the drawer:")).pack(anchor=app.text_anchor)
        grid = ttk.Frame(f)
        grid.pack(anchor=app.text_anchor, pady=4)
        self.count_entries: dict[int, ttk.Entry] = {}
        denoms = DENOMINATIONS.get(app.currency, ())
        digits = i18n.minor_digits(app.currency)
        for i, d in enumerate(denoms):
            cell = ttk.Frame(grid)
            cell.grid(
                row=i // 4, column=(3 - i % 4) if app.rtl else i % 4, padx=6, pady=2, sticky="e"
            )
            ttk.Label(cell, text=shown(i18n.money(d, app.currency)), width=12, anchor="e").pack(
                side=app.side("left")
            )
            e = ttk.Entry(cell, width=6)
            e.pack(side=app.side("left"))
            e.bind("<KeyRelease>", lambda ev: self.update_count())
            self.count_entries[d] = e
        if not denoms:
            self.count_total_entry = ttk.Entry(grid, width=14)
            self.count_total_entry.pack()
        self._digits = digits
        self.count_label = ttk.Label(f, text="", font=app.mid_font, bootstyle="primary")
        self.count_label.pack(anchor=app.text_anchor, pady=6)
        row = ttk.Frame(f)
        row.pack(anchor=app.text_anchor)
        self.open_button = ttk.Button(
            row, text=T("Open the day with this float"), bootstyle="success", command=self.open_day
        )
        self.open_button.pack(side=app.side("left"), padx=4)
        self.close_button = ttk.Button(
            row, text=T("Close the day with this count"), bootstyle="danger", command=self.close_day
        )
        self.close_button.pack(side=app.side("left"), padx=4)
        self.day_result = ttk.Label(f, text="", wraplength=800)
        self.day_result.pack(anchor=app.text_anchor, pady=8)
        self.update_count()
        self.load_day()

    def counted(self) -> int:
        if not self.count_entries:
            text = self.count_total_entry.get().strip()
            return to_minor(text, self.app.currency) if text else 0
        total = 0
        for d, e in self.count_entries.items():
            text = e.get().strip()
            if text:
                if not text.isdigit():
                    raise KassaError("input.bad_field", "counts are whole numbers")
                total += d * int(text)
        return total

    def update_count(self) -> None:
        try:
            total = self.counted()
            text = _("Counted: {amount}").format(amount=i18n.money(total, self.app.currency))
        except KassaError:
            text = _("Counts are whole numbers.")
        self.count_label.configure(text=shown(text))

    def load_day(self) -> None:
        def ok(day: Any) -> None:
            if not self.winfo_exists():
                return
            mine = (day.get("this_till") or {}) if isinstance(day, dict) else {}
            is_open = bool(mine.get("open")) if isinstance(mine, dict) else False
            self.day_state.configure(
                text=shown(_("The day is open.") if is_open else _("The day is closed."))
            )

        def err(exc: BaseException) -> None:
            if self.winfo_exists():
                from kiosk.errors import error_text

                self.day_state.configure(text=shown(error_text(exc)))

        self.app.worker.read(self.app.api.day, ok, err, "day")

    def _day_change(self, opening: bool) -> None:
        try:
            amount = self.counted()
        except KassaError as exc:
            self.app.fail(exc)
            return
        cid = new_id()
        client = self.app.api

        def ok(res: Any) -> None:
            if not self.winfo_exists():
                return
            if opening:
                self.day_result.configure(
                    text=shown(
                        _("Day opened with {amount}.").format(
                            amount=i18n.money(amount, self.app.currency)
                        )
                    )
                )
            else:
                z = (res or {}).get("z_report") if isinstance(res, dict) else {}
                z = z if isinstance(z, dict) else {}
                expected = z.get("expected_cash") if isinstance(z, dict) else None
                text = _("Day closed. Counted {amount}.").format(
                    amount=i18n.money(amount, self.app.currency)
                )
                if isinstance(expected, int):
                    text += " " + _("Expected {expected}, difference {diff}.").format(
                        expected=i18n.money(expected, self.app.currency),
                        diff=i18n.money(amount - expected, self.app.currency),
                    )
                self.day_result.configure(text=shown(text))
                if isinstance(z, dict) and z:
                    self.show_report(z)
            self.load_day()

        fn = (
            (lambda: client.day_open(cid, amount))
            if opening
            else (lambda: client.day_close(cid, amount))
        )
        self.app.worker.change(fn, ok, self.app.fail, "day")

    def open_day(self) -> None:
        self._day_change(True)

    def close_day(self) -> None:
        self._day_change(False)
