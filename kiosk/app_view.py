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

__all__ = ["TillView"]


class TillView(ttk.Window):
    """Fonts, layout direction, money and names, messages and dialogs (a part of ``TillApp``)."""

    store: dict[str, Any]
    message: ttk.Label
    last_error: str
    dialog: tk.Toplevel | None

    # ---------------------------------------------------------------- fonts & layout helpers
    def _setup_fonts(self) -> None:
        from tkinter import font as tkfont

        for name, size in (
            ("TkDefaultFont", 12),
            ("TkTextFont", 12),
            ("TkHeadingFont", 12),
            ("TkMenuFont", 12),
        ):
            try:
                tkfont.nametofont(name).configure(family="Noto Sans", size=size)
            except tk.TclError:
                pass
        self.big_font = ("Noto Sans", 28, "bold")
        self.mid_font = ("Noto Sans", 18, "bold")
        try:
            ttk.Style().configure("Treeview", rowheight=28)
        except tk.TclError:
            pass

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
