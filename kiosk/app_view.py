"""The till window's drawing helpers every screen uses: fonts, reading direction (Arabic reads
right to left), money and names in the current language, the status message, and the one open
dialog. The lowest part of ``TillApp``."""

from __future__ import annotations

import tkinter as tk
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.errors import error_text
from kiosk.i18n import shown

__all__ = ["TillView", "screen_scale", "BASE_PT", "MIN_TOUCH_PX"]

BASE_PT = 13  # the text size on a 1024x768 screen; larger screens scale it up
MIN_TOUCH_PX = 48  # every button at least this tall (the keypad's keys: TOUCH_PX, 56)
BUTTON_CHROME_PX = 6  # a ttk button's border and focus ring around its padding


def screen_scale(width: int, height: int) -> float:
    """How much larger than on 1024x768 text and rows are drawn: 1.0 there (never smaller, so
    text stays readable), ~1.4 on 1920x1080, at most 1.8."""
    return max(1.0, min(width / 1024, height / 768, 1.8))


class TillView(ttk.Window):
    """Fonts, layout direction, money and names, messages and dialogs (a part of ``TillApp``)."""

    store: dict[str, Any]
    message: ttk.Label
    last_error: str
    dialog: tk.Toplevel | None

    # ---------------------------------------------------------------- fonts & layout helpers
    def _setup_fonts(self) -> None:
        """Fonts, Treeview rows and buttons sized for a finger, scaled with the screen: readable
        at 1024x768 and larger on 1920x1080; every button at least ``MIN_TOUCH_PX`` tall. The
        window is never larger than the screen."""
        from tkinter import font as tkfont

        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        # scaled for the window the till gets (its screen, or the part of it the till was given):
        # fonts for a 1920x1080 screen in a 1200x760 window would run off it
        w, h = getattr(self, "window_size", None) or (sw, sh)
        self.ui_scale = screen_scale(min(w, sw), min(h, sh))
        base = round(BASE_PT * self.ui_scale)
        for name in ("TkDefaultFont", "TkTextFont", "TkHeadingFont", "TkMenuFont"):
            try:
                tkfont.nametofont(name).configure(family="Noto Sans", size=base)
            except tk.TclError:
                pass
        self.base_font = ("Noto Sans", base)
        self.big_font = ("Noto Sans", round(26 * self.ui_scale), "bold")
        self.mid_font = ("Noto Sans", round(17 * self.ui_scale), "bold")
        line = tkfont.nametofont("TkDefaultFont").metrics("linespace")
        pad_y = max(4, (MIN_TOUCH_PX - line - BUTTON_CHROME_PX + 1) // 2)
        try:
            style = ttk.Style()
            style.configure("Treeview", rowheight=line + round(12 * self.ui_scale))
            style.configure("TButton", padding=(round(12 * self.ui_scale), pad_y))
        except tk.TclError:
            pass
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Shrink the window to the screen when it asked for more (a 1024x768 till)."""
        self.update_idletasks()
        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        w, h = self.winfo_width(), self.winfo_height()
        if w > sw or h > sh:
            self.geometry(f"{min(w, sw)}x{min(h, sh)}+0+0")

    @property
    def rtl(self) -> bool:
        return i18n.is_rtl()

    def side(self, s: str = "left") -> str:
        """Pack side that follows the reading direction."""
        if not self.rtl or s not in ("left", "right"):
            return s
        return "right" if s == "left" else "left"

    @property
    def text_anchor(self) -> str:
        return "e" if self.rtl else "w"

    def money(self, amount: int) -> str:
        return shown(i18n.money(amount, self.currency))

    @property
    def currency(self) -> str:
        return str(self.store.get("currency") or "THB")

    @property
    def zone(self) -> str:
        return str(self.store.get("zone") or "UTC")

    def name_of(self, names: dict[str, str] | None) -> str:
        names = names or {}
        lang = i18n.current()
        return shown(names.get(lang) or names.get("en") or next(iter(names.values()), ""))

    # ---------------------------------------------------------------- messages

    def notify(self, text: str, error: bool = True) -> None:
        self.last_error = text if error else ""
        self.message.configure(text=shown(text), bootstyle="danger" if error else "success")

    def fail(self, exc: BaseException) -> None:
        self.notify(error_text(exc))

    # ---------------------------------------------------------------- dialogs
    def open_dialog(self, dlg: tk.Toplevel) -> tk.Toplevel:
        self.close_dialog()
        self.dialog = dlg
        return dlg

    def close_dialog(self) -> None:
        d, self.dialog = self.dialog, None
        if d is not None:
            try:
                d.destroy()
            except tk.TclError:
                pass
