"""The manager counter's business day tab: open or close the day with a count of the cash
drawer (by denomination, with the on-screen keypad) and, optionally, the card terminal's total;
expected, counted and difference per tender as the count goes, and a question with those figures
before the day closes (``kiosk.report_close``). Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import T, _, shown
from kiosk.report_close import CloseConfirm, expected_by_tender, fill, tender_lines, tender_tree
from kiosk.screens.manager_reports import ReportsTab
from kiosk.widgets import Keypad

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
        body = ttk.Frame(f)
        body.pack(fill="x")
        left = ttk.Frame(body)
        left.pack(side=app.side("left"), anchor="n", fill="x", expand=True)
        self.keypad = Keypad(body, on_enter=self.update_count)
        self.keypad.pack(side=app.side("left"), anchor="n", padx=(12, 0))
        ttk.Label(left, text=T("Count the cash in the drawer:")).pack(anchor=app.text_anchor)
        grid = ttk.Frame(left)
        grid.pack(anchor=app.text_anchor, pady=4)
        self.count_entries: dict[int, ttk.Entry] = {}
        denoms = DENOMINATIONS.get(app.currency, ())
        for i, d in enumerate(denoms):
            cell = ttk.Frame(grid)
            cell.grid(
                row=i // 3, column=(2 - i % 3) if app.rtl else i % 3, padx=6, pady=2, sticky="e"
            )
            ttk.Label(cell, text=shown(i18n.money(d, app.currency)), width=11, anchor="e").pack(
                side=app.side("left")
            )
            e = ttk.Entry(cell, width=5, font=("Noto Sans", 14))
            e.pack(side=app.side("left"))
            self.count_entries[d] = e
        if not denoms:
            self.count_total_entry = ttk.Entry(grid, width=14, font=("Noto Sans", 14))
            self.count_total_entry.pack()
        card = ttk.Frame(left)
        card.pack(anchor=app.text_anchor, pady=(6, 0))
        ttk.Label(card, text=T("Card terminal total (optional):")).pack(side=app.side("left"))
        self.card_entry = ttk.Entry(card, width=12, font=("Noto Sans", 14))
        self.card_entry.pack(side=app.side("left"), padx=6)
        for e in self.entries():
            e.bind("<KeyRelease>", lambda ev: self.update_count(), add="+")
            e.bind("<<KeypadChanged>>", lambda ev: self.update_count(), add="+")
        self.count_label = ttk.Label(left, text="", font=app.mid_font, bootstyle="primary")
        self.count_label.pack(anchor=app.text_anchor, pady=6)
        self.expected: dict[str, int] | None = None
        self.tender_tree = tender_tree(f, app)
        self.tender_tree.pack(anchor=app.text_anchor, fill="x", pady=(4, 6))
        row = ttk.Frame(f)
        row.pack(anchor=app.text_anchor)
        self.open_button = ttk.Button(
            row,
            text=T("Open the day with this float"),
            bootstyle="success",
            takefocus=False,
            command=self.open_day,
        )
        self.open_button.pack(side=app.side("left"), padx=4, ipady=10)
        self.close_button = ttk.Button(
            row,
            text=T("Close the day with this count"),
            bootstyle="danger",
            takefocus=False,
            command=self.close_day,
        )
        self.close_button.pack(side=app.side("left"), padx=4, ipady=10)
        self.day_result = ttk.Label(f, text="", wraplength=800)
        self.day_result.pack(anchor=app.text_anchor, pady=8)
        self.update_count()
        self.load_day()

    def entries(self) -> list[ttk.Entry]:
        own = list(self.count_entries.values()) or [self.count_total_entry]
        return own + [self.card_entry]

    def counted_card(self) -> int | None:
        text = self.card_entry.get().strip()
        return to_minor(text, self.app.currency) if text else None

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
        counted: dict[str, int | None] = {"cash": None, "card": None, "wallet": None}
        try:
            total = counted["cash"] = self.counted()
            counted["card"] = self.counted_card()
            text = _("Counted: {amount}").format(amount=i18n.money(total, self.app.currency))
        except KassaError:
            text = _("Counts are whole numbers; the card total is an amount.")
        self.count_label.configure(text=shown(text))
        self.tender_figures = tender_lines(self.expected, counted, self.app.currency)
        fill(self.tender_tree, self.tender_figures)

    def load_expected(self) -> None:
        """Expected per tender from this till's X report (the day so far)."""

        def ok(rep: Any) -> None:
            if self.winfo_exists() and isinstance(rep, dict):
                self.expected = expected_by_tender(rep.get("totals") or {})
                self.update_count()

        self.app.worker.read(lambda: self.app.api.report("x", "till"), ok, lambda e: None, "day")

    def load_day(self) -> None:
        def ok(day: Any) -> None:
            if not self.winfo_exists():
                return
            mine = (day.get("this_till") or {}) if isinstance(day, dict) else {}
            is_open = bool(mine.get("open")) if isinstance(mine, dict) else False
            self.day_state.configure(
                text=shown(_("The day is open.") if is_open else _("The day is closed."))
            )
            if is_open:
                self.load_expected()

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
                expected = (z.get("totals") or {}).get("expected_cash")
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
                    self.show_report(z, "z", "till")
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
        """Ask first, with expected, counted and difference per tender (fresh from the store)."""
        try:
            self.counted()
            self.counted_card()
        except KassaError as exc:
            self.app.fail(exc)
            return

        def ok(rep: Any) -> None:
            if not self.winfo_exists():
                return
            self.expected = expected_by_tender((rep or {}).get("totals") or {})
            self.update_count()
            CloseConfirm(self.app, self.tender_figures, lambda: self._day_change(False))

        self.app.worker.read(lambda: self.app.api.report("x", "till"), ok, self.app.fail, "day")
