"""The big screen's low-stock strip: one line under the panels naming the products at or under
their minimum stock (``low_stock`` of ``GET /v1/bigscreen/summary``, most urgent first), in amber;
hidden while nothing is low. Cut with "…" to the screen's width; money never shows here."""

from __future__ import annotations

import tkinter as tk
from typing import Any

from kiosk import i18n
from kiosk.bigscreen_chart import BG
from kiosk.bigscreen_model import Figures
from kiosk.i18n import _

__all__ = ["LowStrip", "AMBER"]

AMBER = "#f59e0b"


class LowStrip:
    """The strip, in row ``row`` of the panels' frame (built by ``kiosk.bigscreen_view.Panels``)."""

    def __init__(self, panels: Any, row: int) -> None:
        self.p = panels
        self.box = tk.Frame(panels.frame, background=BG, padx=panels.px(14))
        self.box.grid(row=row, column=0, sticky="ew", pady=(0, panels.px(6)))
        self.box.grid_remove()  # shown by the first render that has something low
        self.text = panels.label(self.box, "", 15, AMBER, bold=True)
        self.text.configure(width=1)  # the frame decides; a long list is cut with "…"
        self.text.pack(fill="x")
        self.shown = ""

    def words(self, f: Figures) -> str:
        lang = self.p.lang
        names = [
            _("{name} ({level} left)").format(
                name=str(i.get("name") or i.get("sku")),
                level=i18n.number(int(i.get("level") or 0), lang),
            )
            for i in f.low_stock
        ]
        return _("Low stock: {products}").format(products=" · ".join(names)) if names else ""

    def render(self, f: Figures) -> None:
        text = self.words(f)
        if not text:
            if self.shown:
                self.box.grid_remove()
                self.shown = ""
            return
        if not self.shown:
            self.box.grid()
        out = self.p.elided(self.text, text)
        if out != self.shown:
            self.text.configure(text=out)
            self.shown = out
