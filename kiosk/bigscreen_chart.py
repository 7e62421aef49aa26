"""The big screen's revenue-by-hour bar chart, drawn on a Tk Canvas (no chart library).

Hours run left to right in every language (a clock axis); the current hour's bar is highlighted
and labelled with its amount, as is the best hour. Only the hours of the shop's day are drawn
(06–22, widened to any hour that had sales), so each bar stays wide enough to read at 1024×768.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

__all__ = ["HourChart", "shown_hours"]

BAR = "#3b82f6"
NOW = "#f59e0b"
GRID = "#334155"
TEXT = "#cbd5e1"
BG = "#0f172a"


def shown_hours(values: list[int], now_hour: int) -> range:
    """The hours to draw: 06–22, widened to every hour with sales and to the current hour."""
    busy = [h for h, v in enumerate(values) if v]
    lo = min([6, now_hour, *busy])
    hi = max([22, now_hour, *busy])
    return range(lo, hi + 1)


class HourChart(tk.Canvas):
    def __init__(self, parent: tk.Misc, font_px: int = 12) -> None:
        super().__init__(parent, background=BG, highlightthickness=0, height=120, width=200)
        self.font_px = font_px
        self.values: list[int] = [0] * 24
        self.now_hour = 0
        self.fmt: Callable[[int], str] = str
        self.bind("<Configure>", lambda _e: self.redraw(), add="+")

    def show(self, values: list[int], now_hour: int, fmt: Callable[[int], str]) -> None:
        self.values, self.now_hour, self.fmt = list(values), now_hour, fmt
        self.redraw()

    def redraw(self) -> None:
        self.delete("all")
        w, h = self.winfo_width(), self.winfo_height()
        if w < 50 or h < 50:
            return
        f = ("Noto Sans", -self.font_px)
        hours = shown_hours(self.values, self.now_hour)
        top, bottom, left, right = self.font_px * 2 + 6, self.font_px * 2 + 4, 8, 8
        plot_h = max(10, h - top - bottom)
        slot = (w - left - right) / len(hours)
        peak = max([v for v in (self.values[x] for x in hours)] + [1])
        best = max(hours, key=lambda x: self.values[x])
        every = 1 if slot >= self.font_px * 2.2 else 2 if slot >= self.font_px * 1.2 else 3
        base_y = top + plot_h
        self.create_line(left, base_y, w - right, base_y, fill=GRID)
        for i, hour in enumerate(hours):
            x0 = left + i * slot + slot * 0.15
            x1 = left + (i + 1) * slot - slot * 0.15
            v = max(0, self.values[hour])
            bh = plot_h * v / peak
            colour = NOW if hour == self.now_hour else BAR
            if bh >= 1:
                self.create_rectangle(x0, base_y - bh, x1, base_y, fill=colour, width=0)
            if hour % every == 0 or hour == self.now_hour:
                self.create_text(
                    (x0 + x1) / 2,
                    base_y + 4,
                    text=f"{hour:02d}",
                    anchor="n",
                    fill=NOW if hour == self.now_hour else TEXT,
                    font=f,
                )
            if v and hour in (best, self.now_hour):
                cx = min(max((x0 + x1) / 2, left + 60), w - right - 60)
                self.create_text(
                    cx, base_y - bh - 3, text=self.fmt(v), anchor="s", fill=TEXT, font=f
                )
