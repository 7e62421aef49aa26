"""Charts where people would rather look than read: bars drawn on a Tk Canvas (no new
dependency), and the manager counter's charts tab (today's sales by hour, by category, by till).

``BarChart.set_data(title, bars)`` draws ``(label, value, value text)`` bars: upright columns
(``vertical``, e.g. by hour) or lying bars with their labels (by category, by till), mirrored
right-to-left in Arabic. Figures come from the store (``GET /v1/reports/sales?by=…``).
"""

from __future__ import annotations

import tkinter as tk
from tkinter import font as tkfont
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, T, _, shown

__all__ = ["BarChart", "ChartsTab", "chart_bars"]

BAR = "#2c7be5"
GRID = "#d5dbe3"
INK = "#1f2d3d"
FONT = ("Noto Sans", 11)
TITLE_FONT = ("Noto Sans", 13, "bold")


def font_scale(window_width: int) -> float:
    """How much bigger a chart's texts are drawn on a wide window: 1 up to 1366 px wide (the
    till's 1024x768 unchanged), growing with the width to 1.4 (1920 px and wider)."""
    return max(1.0, min(1.4, window_width / 1366))


def chart_bars(rows: list[dict], by: str, currency: str) -> list[tuple[str, int, str]]:
    """(label, net sales, net sales as money) per row of ``sales_by`` (by hour: every hour of
    the usual day and any other hour with sales, empty hours included)."""
    if by == "hour":
        got = {
            int(r["hour"]): int(r.get("net_sales") or 0) for r in rows if r.get("hour") is not None
        }
        # a shop's usual day (08–20) and any hour with sales outside it, so that gaps show
        hours = range(min([*got, 8]), max([*got, 20]) + 1) if got else range(0)
        return [(f"{h:02d}", got.get(h, 0), i18n.money(got.get(h, 0), currency)) for h in hours]
    out = []
    for r in rows:
        name = str(r.get(by) or "") or _("(none)")
        v = int(r.get("net_sales") or 0)
        out.append((name, v, i18n.money(v, currency)))
    return out


class BarChart(ttk.Frame):
    empty = N_("No sales yet today.")  # what an empty chart says

    def best_text(self, best: tuple[str, int, str]) -> str:
        """The line over upright columns naming the best one."""
        return _("Best hour: {hour}:00, {amount}").format(hour=best[0], amount=best[2])

    def __init__(self, parent: Any, rtl: bool, vertical: bool = False) -> None:
        super().__init__(parent)
        self.rtl = rtl
        self.vertical = vertical
        self.canvas = tk.Canvas(
            self, background="white", highlightthickness=1, highlightbackground=GRID, height=220
        )
        self.canvas.pack(fill="both", expand=True)
        self.title = ""
        self.bars: list[tuple[str, int, str]] = []
        self.font: tuple[Any, ...] = FONT
        self.title_font: tuple[Any, ...] = TITLE_FONT
        self.scale = 1.0
        self.canvas.bind("<Configure>", lambda e: self.draw())

    def set_data(self, title: str, bars: list[tuple[str, int, str]]) -> None:
        self.title, self.bars = title, bars
        self.draw()

    def texts(self) -> list[str]:
        """Every text drawn on the chart (for tests)."""
        c = self.canvas
        return [c.itemcget(i, "text") for i in c.find_all() if c.type(i) == "text"]

    def _x(self, x: float, w: int) -> float:
        return w - x if self.rtl else x

    def draw(self) -> None:
        c = self.canvas
        c.delete("all")
        w, h = max(c.winfo_width(), 200), max(c.winfo_height(), 150)
        self.scale = font_scale(self.winfo_toplevel().winfo_width())
        self.font = (FONT[0], round(FONT[1] * self.scale))
        self.title_font = (TITLE_FONT[0], round(TITLE_FONT[1] * self.scale), "bold")
        anchor_start: Any = "ne" if self.rtl else "nw"
        c.create_text(
            self._x(10, w),
            6,
            text=shown(self.title),
            anchor=anchor_start,
            font=self.title_font,
            fill=INK,
        )
        if not self.bars:
            c.create_text(w / 2, h / 2, text=shown(_(self.empty)), font=self.font, fill=INK)
            return
        top = max(1, max(v for _, v, _ in self.bars))
        if self.vertical:
            self._columns(w, h, top)
        else:
            self._rows(w, h, top)

    def _columns(self, w: int, h: int, top: int) -> None:
        c, n = self.canvas, len(self.bars)
        k = self.scale
        x0, x1, y0, y1 = 16.0, w - 16.0, 56.0 * k, h - 28.0 * k
        c.create_line(x0, y1, x1, y1, fill=GRID)
        step = min((x1 - x0) / n, 90 * k)
        f = tkfont.Font(font=self.font)
        x0 = (w - step * n) / 2  # a few hours: narrow columns in the middle
        for i, (name, v, text) in enumerate(self.bars):
            left = x0 + i * step + step * 0.15
            right = x0 + (i + 1) * step - step * 0.15
            if self.rtl:
                left, right = w - right, w - left
            bh = (y1 - y0) * v / top
            c.create_rectangle(left, y1 - bh, right, y1, fill=BAR, outline="")
            mid = (left + right) / 2
            c.create_text(mid, y1 + 4, text=shown(name), anchor="n", font=self.font, fill=INK)
            if v and step >= max(60, f.measure(shown(text)) + 6):  # labels never overlap
                c.create_text(
                    mid, y1 - bh - 2, text=shown(text), anchor="s", font=self.font, fill=INK
                )
        best = max(self.bars, key=lambda b: b[1])
        c.create_text(
            self._x(w - 12, w),
            8,
            anchor="nw" if self.rtl else "ne",
            font=self.font,
            fill=INK,
            text=shown(self.best_text(best)),
        )

    def _rows(self, w: int, h: int, top: int) -> None:
        c = self.canvas
        bars = self.bars[: max(1, int((h - 40) // (26 * self.scale)))]
        names = [shown(n) for n, _, _ in bars]
        vals = [shown(t) for _, _, t in bars]
        f = tkfont.Font(font=self.font)
        name_w = min(w // 3, max(f.measure(n) for n in names) + 12)
        val_w = max(f.measure(v) for v in vals) + 12
        span = max(20, w - name_w - val_w - 24)
        step = min(34 * self.scale, (h - 40) / len(bars))
        for i, (_name, v, _t) in enumerate(bars):
            y = 38 * self.scale + i * step
            bw = span * v / top
            x_name = name_w
            c.create_text(
                self._x(x_name, w),
                y + step / 2,
                text=names[i],
                font=self.font,
                fill=INK,
                anchor="w" if self.rtl else "e",
            )
            a, b = self._x(name_w + 8, w), self._x(name_w + 8 + bw, w)
            c.create_rectangle(min(a, b), y + 4, max(a, b), y + step - 4, fill=BAR, outline="")
            c.create_text(
                self._x(name_w + 14 + bw, w),
                y + step / 2,
                text=vals[i],
                font=self.font,
                fill=INK,
                anchor="e" if self.rtl else "w",
            )


class ChartsTab:
    """The manager counter's charts tab (a part of ``ManagerScreen``): today's sales of the
    store by hour, by category and by till."""

    app: Any
    charts_tab: ttk.Frame

    def _charts(self) -> None:
        app, f = self.app, self.charts_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.charts_button = ttk.Button(
            row,
            text=T("Show today's charts"),
            bootstyle="info",
            takefocus=False,
            command=self.load_charts,
        )
        self.charts_button.pack(side=app.side("left"), padx=4, ipady=10)
        grid = ttk.Frame(f)
        grid.pack(fill="both", expand=True, pady=6)
        self.charts = {
            "hour": BarChart(grid, app.rtl, vertical=True),
            "category": BarChart(grid, app.rtl),
            "till": BarChart(grid, app.rtl),
        }
        self.charts["hour"].grid(row=0, column=0, columnspan=2, sticky="nsew", pady=4)
        self.charts["category"].grid(row=1, column=1 if app.rtl else 0, sticky="nsew", padx=(0, 4))
        self.charts["till"].grid(row=1, column=0 if app.rtl else 1, sticky="nsew", padx=(4, 0))
        for i in (0, 1):
            grid.columnconfigure(i, weight=1, uniform="c")
            grid.rowconfigure(i, weight=1)

    def load_charts(self) -> None:
        titles = {
            "hour": _("Sales by hour"),
            "category": _("Sales by category"),
            "till": _("Sales by till"),
        }
        cur = self.app.currency
        for by, chart in self.charts.items():

            def ok(rows: Any, by: str = by, chart: BarChart = chart) -> None:
                if chart.winfo_exists():
                    chart.set_data(
                        titles[by], chart_bars(rows if isinstance(rows, list) else [], by, cur)
                    )

            self.app.worker.read(
                lambda by=by: self.app.api.get("/v1/reports/sales", by=by),
                ok,
                self.app.fail,
                "charts",
            )
