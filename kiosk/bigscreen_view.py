"""The big screen's panels, built for one language and filled from ``Figures``: the headline
figures (revenue, orders, the same weekday last week and the difference), revenue by hour, per
till, the top products by revenue and by quantity, and the ticker of the latest sales.

Built again when the language changes (columns and text mirror for Arabic); ``render`` only sets
texts, so a sale costs a few label updates. Every money figure is a ``FitLabel``.
"""

from __future__ import annotations

import tkinter as tk
from datetime import UTC, datetime
from tkinter import font as tkfont
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import i18n
from kiosk.bigscreen_chart import BG, HourChart
from kiosk.bigscreen_low import LowStrip
from kiosk.bigscreen_model import Figures
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import FitLabel

__all__ = ["Panels", "PRODUCT_ROWS"]

PRODUCT_ROWS = 5
CARD = "#1e293b"
MUTED = "#94a3b8"
UP, DOWN = "#22c55e", "#ef4444"
FONT = "Noto Sans"


class Panels:
    """The widgets of one build (one language) inside ``parent``."""

    def __init__(self, parent: tk.Misc, scale: float, ticker_rows: int) -> None:
        self.rtl = i18n.is_rtl()
        self.lang = i18n.current()
        self.s = scale
        self.frame = tk.Frame(parent, background=BG)
        self.frame.pack(fill="both", expand=True)
        self.anchor: Any = "e" if self.rtl else "w"  # where text starts
        self.far: Any = "w" if self.rtl else "e"  # where figures end
        self.ticker_rows = ticker_rows
        self._elided: dict[tuple[str, int], str] = {}
        self._header()
        self._kpis()
        self._middle()
        self._bottom()
        self.low = LowStrip(self, 4)  # low stock (kiosk.bigscreen_low), hidden while none
        for r, w in ((0, 0), (1, 0), (2, 5), (3, 6)):
            self.frame.rowconfigure(r, weight=w)
        self.frame.columnconfigure(0, weight=1)

    # ------------------------------------------------------------ building blocks
    def px(self, n: float) -> int:
        return max(8, int(n * self.s))

    def col(self, c: int, n: int) -> int:
        return n - 1 - c if self.rtl else c

    def card(self, parent: tk.Misc, title: str) -> tk.Frame:
        f = tk.Frame(parent, background=CARD, padx=self.px(10), pady=self.px(6))
        head = self.fit(f, 13, MUTED)
        head.configure(text=T(title), font=head._font)
        head.pack(side="top", fill="x")
        return f

    def label(self, parent: tk.Misc, text: str, size: int, fg: str = "white", bold: bool = False):
        return tk.Label(
            parent,
            text=text,
            font=(FONT, self.px(size), "bold" if bold else "normal"),
            foreground=fg,
            background=str(parent.cget("background")),
            anchor=self.anchor,
        )

    def fit(self, parent: tk.Misc, size: int, fg: str = "white", anchor: str | None = None):
        lab = FitLabel(parent, font=(FONT, self.px(size), "bold"), anchor=anchor or self.anchor)
        lab.configure(foreground=fg, background=str(parent.cget("background")))
        return lab

    # ------------------------------------------------------------ panels
    def _header(self) -> None:
        h = tk.Frame(self.frame, background=BG, padx=self.px(10), pady=self.px(4))
        h.grid(row=0, column=0, sticky="ew")
        # the title and the clock shrink to their columns (a big screen beside a till is narrow)
        self.title = self.fit(h, 20)
        self.status = self.label(h, "", 14, bold=True)
        self.clock = self.fit(h, 16)
        for i, w in enumerate((self.title, self.status, self.clock)):
            w.grid(row=0, column=self.col(i, 3), sticky="ew", padx=self.px(6))
            w.configure(anchor=(self.anchor, "center", self.far)[i])
        h.columnconfigure(self.col(0, 3), weight=3)
        h.columnconfigure(1, weight=2)
        h.columnconfigure(self.col(2, 3), weight=2)

    def _kpis(self) -> None:
        k = tk.Frame(self.frame, background=BG, padx=self.px(6))
        k.grid(row=1, column=0, sticky="ew")
        self.kpi: dict[str, FitLabel] = {}
        self.kpi_note: dict[str, tk.Label] = {}
        for i, (key, title) in enumerate(
            (
                ("revenue", N_("Revenue today")),
                ("orders", N_("Orders")),
                ("last_week", N_("Same day last week")),
                ("difference", N_("Difference")),
            )
        ):
            c = self.card(k, title)
            c.grid(row=0, column=self.col(i, 4), sticky="nsew", padx=self.px(4), pady=self.px(4))
            k.columnconfigure(i, weight=1, uniform="kpi")
            self.kpi[key] = self.fit(c, 40 if key == "revenue" else 32)
            self.kpi[key].pack(side="top", fill="x")
            self.kpi_note[key] = self.label(c, "", 12, MUTED)
            self.kpi_note[key].pack(side="top", fill="x")

    def _middle(self) -> None:
        m = tk.Frame(self.frame, background=BG, padx=self.px(6))
        m.grid(row=2, column=0, sticky="nsew")
        chart = self.card(m, N_("Revenue by hour"))
        chart.grid(row=0, column=self.col(0, 2), sticky="nsew", padx=self.px(4), pady=self.px(4))
        self.chart = HourChart(chart, font_px=self.px(14))
        self.chart.configure(background=CARD)
        self.chart.pack(fill="both", expand=True)
        tills = self.card(m, N_("Per till"))
        tills.grid(row=0, column=self.col(1, 2), sticky="nsew", padx=self.px(4), pady=self.px(4))
        self.till_box = tk.Frame(tills, background=CARD)
        self.till_box.pack(fill="both", expand=True)
        m.columnconfigure(self.col(0, 2), weight=3, uniform="mid")
        m.columnconfigure(self.col(1, 2), weight=1, uniform="mid")
        m.rowconfigure(0, weight=1)
        self.till_rows: list[tuple[tk.Label, FitLabel]] = []

    def _table(self, parent: tk.Misc, title: str, rows: int, column: int) -> list[list[Any]]:
        c = self.card(parent, title)
        c.grid(row=0, column=self.col(column, 3), sticky="nsew", padx=self.px(4), pady=self.px(4))
        out = []
        box = tk.Frame(c, background=CARD)
        box.pack(fill="both", expand=True)
        box.columnconfigure(self.col(0, 2), weight=3, uniform="t")
        box.columnconfigure(self.col(1, 2), weight=2, uniform="t")
        for r in range(rows):
            name = self.label(box, "", 15, bold=True)
            name.configure(width=1)  # the column decides; long names are cut with "…"
            value = self.fit(box, 15, anchor=self.far)
            name.grid(row=r, column=self.col(0, 2), sticky="ew")
            value.grid(row=r, column=self.col(1, 2), sticky="ew")
            box.rowconfigure(r, weight=1, uniform="r")
            out.append([name, value])
        return out

    def _bottom(self) -> None:
        b = tk.Frame(self.frame, background=BG, padx=self.px(6))
        b.grid(row=3, column=0, sticky="nsew", pady=(0, self.px(6)))
        self.top_amount = self._table(b, N_("Top products by revenue"), PRODUCT_ROWS, 0)
        self.top_qty = self._table(b, N_("Top products by quantity"), PRODUCT_ROWS, 1)
        self.ticker = self._table(b, N_("Latest sales"), self.ticker_rows, 2)
        for i in range(3):
            b.columnconfigure(i, weight=1, uniform="bottom")
        b.rowconfigure(0, weight=1)

    # ------------------------------------------------------------ filling in
    def money(self, amount: int, f: Figures) -> str:
        return shown(i18n.money(amount, f.currency, self.lang))

    def render(self, f: Figures, state: str, now_us: int) -> None:
        zone = ZoneInfo(f.zone)
        now = datetime.fromtimestamp(now_us / 1e6, UTC).astimezone(zone)
        self.title.configure(text=shown(f.store + "  ·  " + _("Sales today")))
        self.clock.configure(text=i18n.when(now_us, f.zone, self.lang))
        text, colour = {
            "live": (T("Live"), UP),
            "refused": (T("Display credential refused: ask a manager"), DOWN),
            "connecting": (T("Connecting…"), "#f59e0b"),
        }.get(state, (T("Reconnecting…"), "#f59e0b"))
        self.status.configure(text=text, foreground=colour)
        self.kpi["revenue"].configure(text=self.money(f.revenue, f))
        self.kpi["orders"].configure(text=i18n.number(f.orders, self.lang))
        self.kpi["last_week"].configure(text=self.money(f.last_week, f))
        self.kpi_note["last_week"].configure(
            text=shown(
                _("until {time}").format(time=now.strftime("%H:%M"))
                + "  ·  "
                + _("Orders: {n}").format(n=i18n.number(f.last_week_orders, self.lang))
            )
        )
        diff = f.difference()
        sign = "+" if diff > 0 else "−" if diff < 0 else ""
        self.kpi["difference"].configure(
            text=sign + self.money(abs(diff), f), foreground=UP if diff >= 0 else DOWN
        )
        pct = ""
        if f.last_week > 0:
            p = (abs(diff) * 100 + f.last_week // 2) // f.last_week
            pct = f"{sign}{i18n.number(p, self.lang)} %"
        self.kpi_note["difference"].configure(text=pct)
        self.kpi_note["revenue"].configure(text=shown(f.day))
        self.chart.show(f.hours, now.hour, lambda v: self.money(v, f))
        self._render_tills(f)
        self._rows(
            self.top_amount,
            [(p.name(self.lang), self.money(p.amount, f)) for p in f.top_by_amount()],
            elide=True,
        )
        self._rows(
            self.top_qty,
            [(p.name(self.lang), "× " + i18n.number(p.qty, self.lang)) for p in f.top_by_qty()],
            elide=True,
        )
        ticks = []
        for t in list(f.ticker)[: len(self.ticker)]:
            at = datetime.fromtimestamp(t.ts / 1e6, UTC).astimezone(zone).strftime("%H:%M:%S")
            what = at + "   " + t.till
            if t.amount < 0:
                what += "   " + _("Refund")
            ticks.append((shown(what), self.money(t.amount, f)))
        self._rows(self.ticker, ticks, [t.amount < 0 for t in f.ticker])
        self.low.render(f)

    def elided(self, label: tk.Label, text: str) -> str:
        """``text`` shown whole if it fits ``label``'s width, else cut (in reading order) with
        an ellipsis."""
        width = label.winfo_width() - 4
        key = (text, width)
        if width <= 10:  # not laid out yet
            return shown(text)
        if key not in self._elided:
            font = tkfont.Font(font=label.cget("font"))
            out, cut = shown(text), text
            while cut and width > 10 and font.measure(out) > width:
                cut = cut[:-1].rstrip()
                out = shown(cut + "…")
            self._elided[key] = out
        return self._elided[key]

    def _rows(
        self,
        widgets: list[list[Any]],
        rows: list[tuple[str, str]],
        red: list[bool] | None = None,
        elide: bool = False,
    ) -> None:
        for i, (name, value) in enumerate(widgets):
            a, b = rows[i] if i < len(rows) else ("", "")
            a = self.elided(name, a) if elide and a else a
            if name.cget("text") != a:
                name.configure(text=a)
            colour = DOWN if red and i < len(red) and red[i] else "white"
            if value.cget("text") != b or str(value.cget("foreground")) != colour:
                value.configure(text=b, foreground=colour)

    def _render_tills(self, f: Figures) -> None:
        rows = f.till_rows()
        while len(self.till_rows) < len(rows):
            r = len(self.till_rows)
            name = self.label(self.till_box, "", 15, bold=True)
            value = self.fit(self.till_box, 18, anchor=self.far)
            name.grid(row=r, column=self.col(0, 2), sticky="ew")
            value.grid(row=r, column=self.col(1, 2), sticky="ew")
            self.till_box.columnconfigure(self.col(0, 2), weight=1, uniform="till")
            self.till_box.columnconfigure(self.col(1, 2), weight=2, uniform="till")
            self.till_rows.append((name, value))
        for (name, value), (till, revenue, orders) in zip(self.till_rows, rows, strict=False):
            name.configure(text=f"{till} ({i18n.number(orders, self.lang)})")
            value.configure(text=self.money(revenue, f))
