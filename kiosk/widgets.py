"""Till widgets: a label that shrinks its font to fit its width instead of cutting the text, and
an on-screen keypad.

Money on a till must be read in full: "Change: THB49." is worse than a smaller "Change: THB49.50".
``FitLabel`` asks for almost no width of its own (the layout gives it its column's width) and, each
time its text or its width changes, picks the largest font size up to its own that draws the whole
text in that width.
"""

from __future__ import annotations

from tkinter import font as tkfont
from typing import Any

import ttkbootstrap as ttk

__all__ = ["FitLabel", "Keypad", "TOUCH_PX", "text_width"]

PAD = 4  # pixels kept free at the label's edges
TOUCH_PX = 56  # the smallest key or button a finger hits reliably (≥ 48 px)


def text_width(font_spec, text: str) -> int:
    """Pixels ``text`` needs in ``font_spec`` (a font tuple or a named font)."""
    return tkfont.Font(font=font_spec).measure(text)


class FitLabel(ttk.Label):
    def __init__(self, parent, font=("Noto Sans", 12), min_size: int = 8, **kw) -> None:
        self.family = font[0]
        self.max_size = int(font[1])
        self.style_words = tuple(font[2:])
        self.min_size = min_size
        self._font = tkfont.Font(
            family=self.family,
            size=self.max_size,
            weight="bold" if "bold" in self.style_words else "normal",
        )
        kw.setdefault("width", 1)  # ask for next to nothing: the column decides the width
        super().__init__(parent, font=self._font, **kw)
        self._width = 0
        self.bind("<Configure>", self._resized, add="+")

    def _resized(self, event) -> None:
        if event.width != self._width:  # a new height (a smaller font) needs no refit
            self._width = event.width
            self.fit()

    def configure(self, cnf=None, **kw):
        out = super().configure(cnf, **kw)
        if "text" in kw or (isinstance(cnf, dict) and "text" in cnf):
            self.fit()
        return out

    config = configure

    def required_width(self) -> int:
        """Pixels the current text needs in the font now used."""
        return self._font.measure(self.cget("text")) + PAD

    def fit(self) -> None:
        """Pick the font size for the current text and width. The font is changed at most once
        and only when the size differs, so a fit never sets off another <Configure>."""
        text = str(self.cget("text"))
        width = self.winfo_width()
        if width <= 1:  # not laid out yet: the <Configure> that follows fits it
            return
        probe = tkfont.Font(
            family=self.family, size=self.max_size, weight=self._font.cget("weight")
        )
        size = self.max_size
        while size > self.min_size and probe.measure(text) + PAD > width:
            size -= 1
            probe.configure(size=size)
        if int(self._font.cget("size")) != size:
            self._font.configure(size=size)


class Keypad(ttk.Frame):
    """An on-screen keypad for a touch till: digits, ``00``, the decimal point, backspace, clear
    and Enter, each key at least ``TOUCH_PX`` square.

    Keys go into ``target()`` (an Entry; by default the entry that last had the focus inside the
    keypad's window), and Enter calls ``on_enter``. Keys take no keyboard focus, so a scanner burst
    or the person's own keyboard keeps going where it went.
    """

    KEYS = (("7", "8", "9"), ("4", "5", "6"), ("1", "2", "3"), ("00", "0", "."))

    def __init__(
        self,
        parent,
        target=None,
        on_enter=None,
        decimal: bool = True,
        font=("Noto Sans", 18, "bold"),
        key_px: int = 0,
    ) -> None:
        super().__init__(parent)
        self._target = target
        self.on_enter = on_enter
        self.last_entry: Any = None
        size = max(TOUCH_PX, key_px)
        self.buttons: dict[str, ttk.Button] = {}  # not "keys": that is every widget's keys()
        rows = [list(r) for r in self.KEYS]
        if not decimal:
            rows[-1][-1] = ""
        for r, row in enumerate(rows):
            for c, key in enumerate(row):
                if key:
                    self._key(key, key, r, c, font)
        self._key("⌫", "back", 0, 3, font, style="secondary")
        self._key("C", "clear", 1, 3, font, style="secondary")
        self._key("↵", "enter", 2, 3, font, style="success", rowspan=2)
        for i in range(4):
            self.columnconfigure(i, minsize=size, weight=1, uniform="key")
            self.rowconfigure(i, minsize=size, weight=1, uniform="key")

    def _key(self, text, name, row, col, font, style="light", rowspan=1) -> None:
        b = ttk.Button(self, text=text, bootstyle=style, takefocus=False)
        base = str(b.cget("style")) or "TButton"  # e.g. "success.TButton", made by bootstyle
        ttk.Style().configure(f"Keypad.{base}", font=font)
        b.configure(style=f"Keypad.{base}", command=lambda: self.press(name))
        b.grid(row=row, column=col, rowspan=rowspan, sticky="nsew", padx=2, pady=2)
        self.buttons[name] = b

    def target(self):
        """The entry a key goes into: ``target()`` if given, else the entry of this window that
        has the focus (the keys take none, so it is the one the person last tapped or typed in),
        else the last one a key went into."""
        if self._target is not None:
            return self._target()
        try:
            w = self.focus_get()
            if (
                w is not None
                and w.winfo_toplevel() is self.winfo_toplevel()
                and w.winfo_class() in ("TEntry", "Entry")
            ):
                self.last_entry = w
        except Exception:  # no focus in this application, or a widget being destroyed
            pass
        return self.last_entry

    def press(self, name: str) -> None:
        """What a tap on key ``name`` does (``"7"``, ``"00"``, ``"."``, ``back``, ``clear``,
        ``enter``)."""
        if name == "enter":
            if self.on_enter is not None:
                self.on_enter()
            return
        entry = self.target()
        if entry is None:
            return
        try:
            if name == "back":
                pos = entry.index("insert")
                if pos > 0:
                    entry.delete(pos - 1)
            elif name == "clear":
                entry.delete(0, "end")
            else:
                entry.insert("insert", name)
            entry.event_generate("<<KeypadChanged>>")
        except Exception:  # the entry went away with its dialog
            self.last_entry = None
