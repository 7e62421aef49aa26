"""A tab bar that wraps: the manager counter has more tabs than a 1024-pixel screen shows in one
row of notebook tabs (they were cut to "Reorde", "Stoc", "Membe"). ``TabBar`` hides a notebook's
own tab strip and shows one touch-sized button per tab instead, in as many rows as the width
needs (right to left in Arabic). The notebook stays the one that holds the pages: selecting a tab
by code (``notebook.select``) lights its button, and a tapped button selects its page."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import is_rtl

__all__ = ["TabBar", "HIDDEN_TABS"]

HIDDEN_TABS = "Bar.TNotebook"  # a notebook style without its own tab strip
GAP = 4  # pixels between buttons


class TabBar(ttk.Frame):
    def __init__(self, parent: Any, notebook: ttk.Notebook, min_height: int = 48) -> None:
        super().__init__(parent, padding=(6, 6, 6, 0))
        style = ttk.Style()
        style.layout(f"{HIDDEN_TABS}.Tab", [])
        notebook.configure(style=HIDDEN_TABS)
        self.notebook = notebook
        self.min_height = min_height
        self.choice = ttk.StringVar(master=self)
        self.buttons: list[ttk.Radiobutton] = []
        for page in notebook.tabs():
            b = ttk.Radiobutton(
                self,
                text=notebook.tab(page, "text"),
                value=str(page),
                variable=self.choice,
                command=self._chosen,
                bootstyle="info-outline-toolbutton",
                takefocus=False,
                padding=(12, 10),
            )
            self.buttons.append(b)
        self._width = 0
        self.row_frames: list[ttk.Frame] = []
        self._shown()
        notebook.bind("<<NotebookTabChanged>>", lambda _e: self._shown(), add="+")
        self.bind("<Configure>", self._resized, add="+")
        self._flow(max(self.winfo_reqwidth(), 1024))

    def _chosen(self) -> None:
        self.notebook.select(self.choice.get())

    def _shown(self) -> None:
        current = self.notebook.select()
        if current:
            self.choice.set(str(current))

    def _resized(self, event: Any) -> None:
        if event.width != self._width:
            self._width = event.width
            self._flow(event.width)

    def rows(self) -> list[list[ttk.Radiobutton]]:
        """The buttons per row as they are laid out now (a test reads it)."""
        return [[b for b in self.buttons if b.pack_info().get("in") == f] for f in self.row_frames]

    def _flow(self, width: int) -> None:
        """Fill rows left to right (right to left in Arabic) with as many buttons as fit."""
        width -= 12  # the frame's padding
        rows: list[list[ttk.Radiobutton]] = [[]]
        used = 0
        for b in self.buttons:
            need = b.winfo_reqwidth() + GAP
            if rows[-1] and used + need > width:
                rows.append([])
                used = 0
            rows[-1].append(b)
            used += need
        for b in self.buttons:
            b.pack_forget()
        for f in self.row_frames:
            f.destroy()
        side = "right" if is_rtl() else "left"
        self.row_frames = []
        for row in rows:
            frame = ttk.Frame(self, height=self.min_height)
            frame.pack(fill="x", pady=(0, GAP))
            self.row_frames.append(frame)
            for b in row:
                b.pack(in_=frame, side=side, padx=(0, GAP), fill="y")
                b.lift(frame)  # a button drawn in a frame made after it would be hidden
