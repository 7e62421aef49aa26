"""An entry field that shows Arabic joined and right to left while keeping the typed text intact.

Tk draws an ``Entry``'s text as it is stored: Arabic letters come out unjoined and left to right.
``RtlEntry`` keeps two texts apart once the field holds right-to-left letters:

* the *logical* text, in the order typed (what ``get()`` answers, what a search or a save sends);
* the *drawn* text, ``i18n.shown(logical)`` (shaped, reordered, brackets mirrored), which is all Tk
  ever holds.

Without right-to-left letters the field is a plain ``ttk.Entry`` (Tk edits it natively; a scanner
burst costs one extra Python call per key). With them, typing, paste (Ctrl+V, Shift+Insert,
``<<Paste>>``) and Backspace edit the end of the logical text; select-all then typing or
Backspace replaces or clears it. ``insert``/``delete`` take logical indexes (``0``, ``"end"``,
``"insert"`` = the end). The field's own key bindings (``entry.bind(...)``) still run first: the
editing is bound on a tag of its own between the widget and its class.
"""

from __future__ import annotations

import tkinter as tk
from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import has_rtl, is_rtl, shown

__all__ = ["RtlEntry", "base_direction"]

_TAG = "RtlEntry"  # the bind tag of the editing, between each field's own tag and TEntry
_CONTROL, _ALT = 0x4, 0x8
_MOVES = frozenset({"Left", "Right", "Home", "End", "Up", "Down", "KP_Left", "KP_Right"})


def base_direction(text: str) -> str:
    """The paragraph direction of ``text``: that of its first letter (Unicode rules P2/P3), or the
    till language's when it has none."""
    for ch in text:
        if has_rtl(ch):
            return "R"
        if ch.isalpha():
            return "L"
    return "R" if is_rtl() else "L"


def _on(event: tk.Event, method: Any) -> str | None:
    widget = event.widget
    return method(widget, event) if isinstance(widget, RtlEntry) else None


class RtlEntry(ttk.Entry):
    """A ``ttk.Entry`` whose ``get()`` is the logical text and whose drawing is shaped and ordered
    right to left (see the module's doc). Right-aligned when the till's language is right to left.
    Do not give it a ``textvariable`` (that would hold the drawn text)."""

    def __init__(self, parent: Any, **kw: Any) -> None:
        kw.setdefault("justify", "right" if is_rtl() else "left")
        super().__init__(parent, **kw)
        self._logical: str | None = None  # None: nothing right to left, Tk edits natively
        tags = list(self.bindtags())
        tags.insert(1, _TAG)
        self.bindtags(tuple(tags))
        if not self.bind_class(_TAG):  # once per Tk interpreter
            self.bind_class(_TAG, "<KeyPress>", lambda e: _on(e, RtlEntry._key))
            self.bind_class(_TAG, "<<Paste>>", lambda e: _on(e, RtlEntry._paste_event))

    # ---------------------------------------------------------------- the logical text
    @property
    def shaped(self) -> bool:
        """Whether the drawn text differs from the logical one (the field holds RTL letters)."""
        return self._logical is not None

    def get(self) -> str:
        return self._logical if self._logical is not None else super().get()

    def drawn(self) -> str:
        """What Tk holds and draws."""
        return str(self.tk.call(str(self), "get"))

    def insert(self, index: Any, string: str) -> None:
        if self._logical is None and not has_rtl(string):
            super().insert(index, string)
            return
        text = self.get()
        at = self._at(index, len(text))
        self._set(text[:at] + string + text[at:])

    def delete(self, first: Any, last: Any = None) -> None:
        if self._logical is None:
            super().delete(first, last)
            return
        text = self._logical
        i = self._at(first, len(text))
        j = i + 1 if last is None else self._at(last, len(text))
        self._set(text[:i] + text[max(i, j) :])

    def _at(self, index: Any, end: int) -> int:
        """A logical position for ``index`` (past the end: the end)."""
        if index in ("end", tk.END, "insert", tk.INSERT) and self._logical is not None:
            return end
        if isinstance(index, int) or (isinstance(index, str) and index.isdigit()):
            return max(0, min(int(index), end))
        try:
            return min(int(self.index(index)), end)
        except tk.TclError:
            return end

    def _set(self, logical: str) -> None:
        """Keep ``logical`` and draw it; the insertion cursor sits where the next letter goes."""
        if has_rtl(logical):
            self._logical = logical
            direction = base_direction(logical)
            text = shown(logical, base_dir=direction)
        else:
            self._logical, direction, text = None, "L", logical
        super().delete(0, "end")
        super().insert(0, text)
        self.icursor(0 if direction == "R" else "end")
        self.xview_moveto(0.0 if direction == "R" else 1.0)

    # ---------------------------------------------------------------- editing
    def _all_selected(self) -> bool:
        if not self.selection_present():
            return False
        return int(self.index("sel.first")) == 0 and int(self.index("sel.last")) >= len(
            self.drawn()
        )

    def _type(self, string: str) -> None:
        if self._logical is None:  # the first RTL letter: insert where the cursor is
            text, at = super().get(), int(self.index("insert"))
            if self.selection_present():
                a, b = int(self.index("sel.first")), int(self.index("sel.last"))
                text, at = text[:a] + text[b:], a
            self._set(text[:at] + string + text[at:])
        else:
            self._set(("" if self._all_selected() else self._logical) + string)

    def _paste_event(self, event: tk.Event) -> str | None:
        return self._paste()

    def _paste(self) -> str | None:
        try:
            text = self.clipboard_get()
        except tk.TclError:
            return "break"
        if self._logical is None and not has_rtl(text):
            return None  # Tk pastes it natively
        self._type(text)
        return "break"

    def _key(self, event: tk.Event) -> str | None:
        keysym, state = event.keysym, int(event.state) if isinstance(event.state, int) else 0
        if state & _CONTROL and keysym.lower() == "v" or (keysym == "Insert" and state & 1):
            return self._paste()
        if self._logical is None:
            if event.char and has_rtl(event.char) and not state & (_CONTROL | _ALT):
                self._type(event.char)
                return "break"
            return None
        if keysym == "BackSpace":
            self._set("" if self._all_selected() else self._logical[:-1])
            return "break"
        if keysym == "Delete":
            if self._all_selected():
                self._set("")
            return "break"
        if keysym in _MOVES:
            return "break"  # the cursor stays where the next letter goes
        if event.char and event.char.isprintable() and not state & (_CONTROL | _ALT):
            self._type(event.char)
            return "break"
        return None
