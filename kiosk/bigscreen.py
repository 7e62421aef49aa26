"""``kassa bigscreen``: the sales big screen (大屏) for the shop's wall — today's revenue and
orders against the same weekday last week, revenue by hour, per till, the top products and a
ticker of the latest sales, live from the store's sales feed.

The window only draws: ``kiosk.bigscreen_feed.Feed`` talks to the store on its own thread and
``kiosk.bigscreen_model.Figures`` keeps the figures; the Tk thread drains the feed's messages
every 100 ms (a sale shows well within 2 s) and redraws what changed. It cycles through the
store's languages (or keeps the one given), and never shows a traceback: a lost store shows
"Reconnecting…" while the feed keeps trying.
"""

from __future__ import annotations

import logging
import time
import tkinter as tk
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.bigscreen_chart import BG
from kiosk.bigscreen_feed import Credential, Feed
from kiosk.bigscreen_model import Figures
from kiosk.bigscreen_view import Panels

__all__ = ["BigScreen"]

TILL_BESIDE_PX = 1024  # the till window `kassa demo` opens on the screen's left

log = logging.getLogger(__name__)
POLL_MS = 100


class BigScreen(ttk.Window):
    def __init__(
        self,
        server: str,
        cred: Credential,
        lang: str | None = None,
        fullscreen: bool = True,
        cycle_s: float = 20.0,
        pin_file: Path | None = None,
        geometry: str | None = None,
    ) -> None:
        super().__init__(title="kassa", themename="bootstrap-dark")
        self.configure(background=BG)
        self.fixed_lang = i18n.base(lang) if lang else None
        i18n.set_language(self.fixed_lang or "en")
        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        if not geometry:  # full screen, or beside a till window of 1024 px (`kassa demo`)
            left = TILL_BESIDE_PX if sw - TILL_BESIDE_PX >= 640 else sw // 2
            geometry = f"{sw}x{sh}+0+0" if fullscreen else f"{sw - left}x{sh}+{left}+0"
        self.geometry(geometry)
        if fullscreen:
            try:
                self.attributes("-fullscreen", True)
            except tk.TclError:
                pass
        self.bind("<Escape>", lambda _e: self.attributes("-fullscreen", False))
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.update_idletasks()
        h = int(geometry.split("x")[1].split("+")[0]) if "x" in geometry else sh
        self.scale = max(0.8, min(h / 768, 2.0))
        self.ticker_rows = 5 if h < 900 else 7
        self.model = Figures()
        self.state_name, self.state_detail = "connecting", ""
        self.last_error = ""  # what tilldriver.pump shows when a wait times out
        self.cycle_ms = int(cycle_s * 1000)
        self.langs_at = 0.0
        self.panels: Panels | None = None
        self.build()
        self.feed = Feed(server, cred, pin_file).start()
        self.dirty = True
        self.closed = False
        self.after(POLL_MS, self.poll)
        self.after(self.cycle_ms, self.next_language)

    # ------------------------------------------------------------ drawing
    def build(self) -> None:
        if self.panels is not None:
            self.panels.frame.destroy()
        self.panels = Panels(self, self.scale, self.ticker_rows)
        self.update_idletasks()  # laid out before the first fill: long names are cut to fit
        self.dirty = True

    def render(self) -> None:
        if self.panels is not None:
            self.panels.render(self.model, self.state_name, time.time_ns() // 1000)
        self.dirty = False
        self.rendered_at = time.monotonic()

    def languages(self) -> list[str]:
        if self.fixed_lang:
            return [self.fixed_lang]
        out: list[str] = []
        for lang in self.model.languages:
            b = i18n.base(lang)
            if b in i18n.LANGS and b not in out:
                out.append(b)
        return out or ["en"]

    def show_language(self, lang: str) -> None:
        if lang != i18n.current():
            i18n.set_language(lang)
            self.build()

    def next_language(self) -> None:
        if self.closed:
            return
        langs = self.languages()
        cur = i18n.current()
        nxt = langs[(langs.index(cur) + 1) % len(langs)] if cur in langs else langs[0]
        self.show_language(nxt)
        self.after(self.cycle_ms, self.next_language)

    # ------------------------------------------------------------ the feed
    def handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "summary":
            first = not self.model.loaded
            self.model.load(msg[1])
            if first and not self.fixed_lang:
                self.show_language(self.languages()[0])
        elif kind == "events":
            for e in msg[1]:
                if self.model.apply(e) == "new_day":
                    self.feed.reload.set()  # a new business day: start from its summary
                    break
        elif kind == "state":
            self.state_name, self.state_detail = msg[1], msg[2]
            self.last_error = f"{msg[1]}: {msg[2]}" if msg[1] != "live" else ""
        self.dirty = True

    def poll(self) -> None:
        if self.closed:
            return
        try:
            for msg in self.feed.drain():
                self.handle(msg)
            if self.dirty or time.monotonic() - getattr(self, "rendered_at", 0.0) >= 1.0:
                self.render()  # the clock moves on once a second
        except Exception:  # a bad message must not stop the screen
            log.exception("big screen: drawing failed")
        self.after(POLL_MS, self.poll)

    def close(self) -> None:
        self.closed = True
        self.feed.stop()
        self.destroy()
