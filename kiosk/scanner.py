"""Tell a keyboard-wedge barcode scanner from a person typing.

A scanner "types" the whole code in a burst (a few ms between keys) and ends with Enter; a person
types far slower. ``ScanDetector`` watches key presses with their times: when Enter ends a burst of
at least ``min_len`` characters whose gaps were all at most ``max_gap_ms``, it is a scan. Anything
else is typing (e.g. a search by name), and the detector says so. ``ScanRouter`` sends a burst
typed into any other widget of the till window to the scan field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScanDetector", "ScanRouter"]


@dataclass
class ScanDetector:
    max_gap_ms: int = 50
    min_len: int = 4
    buf: list[str] = field(default_factory=list)
    last_ms: int | None = None
    fast: bool = True

    def reset(self) -> None:
        self.buf.clear()
        self.last_ms = None
        self.fast = True

    def key(self, char: str, t_ms: int) -> None:
        """A printable key at time ``t_ms`` (Tk's event.time)."""
        if self.last_ms is not None and t_ms - self.last_ms > self.max_gap_ms and self.buf:
            self.fast = False
        if not self.buf:
            self.fast = True
        self.buf.append(char)
        self.last_ms = t_ms

    def enter(self, t_ms: int) -> str | None:
        """Enter at ``t_ms``: returns the scanned code if this was a scanner burst, else None."""
        code = "".join(self.buf)
        burst = (
            self.fast
            and len(code) >= self.min_len
            and self.last_ms is not None
            and t_ms - self.last_ms <= self.max_gap_ms
        )
        self.reset()
        return code if burst else None


class ScanRouter:
    """Sends every scanner burst to the scan field, wherever the keyboard focus is.

    A bind tag put first on whichever widget takes the focus sees each key before the widget
    does. Printable keys pass through (a person typing in a dialog sees them at once); the text of
    an entry is noted at the first key of a possible burst. When Enter ends a burst
    (``ScanDetector``), the widget gets its text back, its own Enter (and its window's) never
    runs, and the code goes to ``target()`` (the sale screen's scan, or None when the counter on
    screen takes no scans: then the keys are left alone). The scan field itself (a widget with
    ``scan_field = True``) tells scans from typing on its own.
    """

    TAG = "KassaScan"

    def __init__(
        self, root: Any, target: Callable[[], Callable[[str], None] | None], max_gap_ms: int = 50
    ) -> None:
        self.root = root
        self.target = target
        self.detector = ScanDetector(max_gap_ms=max_gap_ms)
        self._snapshot: tuple | None = None
        root.bind_class(self.TAG, "<KeyPress>", self._key)
        root.bind_all("<FocusIn>", self._focus_in, add="+")
        self.tag(root)

    @classmethod
    def install(cls, root: Any, target: Callable[[], Callable[[str], None] | None]) -> ScanRouter:
        """The window's router (made once per window)."""
        router = getattr(root, "scan_router", None)
        if router is None:
            router = cls(root, target)
            root.scan_router = router
        return router

    def tag(self, widget: Any) -> None:
        try:
            tags = widget.bindtags()
            if self.TAG not in tags:
                widget.bindtags((self.TAG, *tags))
        except Exception:  # a widget named by a string, or being destroyed
            pass

    def _focus_in(self, event: Any) -> None:
        self.tag(event.widget)

    def _key(self, event: Any) -> str | None:
        widget = event.widget
        if getattr(widget, "scan_field", False):
            return None
        t = int(event.time)
        d = self.detector
        if event.keysym in ("Return", "KP_Enter"):
            code = d.enter(t)
            snap, self._snapshot = self._snapshot, None
            scan = self.target() if code is not None else None
            if scan is None or code is None:
                return None
            if snap is not None and snap[0] is widget:
                self._restore(snap)
            scan(code)
            return "break"
        if event.char and event.char.isprintable():
            if not d.buf or (d.last_ms is not None and t - d.last_ms > d.max_gap_ms):
                d.reset()
                self._snapshot = self._take(widget)
            d.key(event.char, t)
        return None

    @staticmethod
    def _take(widget: Any) -> tuple | None:
        try:
            if widget.winfo_class() in ("TEntry", "Entry", "TCombobox", "TSpinbox"):
                return (widget, "entry", widget.get(), widget.index("insert"))
            if widget.winfo_class() == "Text":
                return (widget, "text", widget.get("1.0", "end-1c"), widget.index("insert"))
        except Exception:  # a widget being destroyed
            return None
        return (widget, "other")

    @staticmethod
    def _restore(snap: tuple) -> None:
        widget, kind = snap[0], snap[1]
        try:
            if kind == "entry":
                widget.delete(0, "end")
                widget.insert(0, snap[2])
                widget.icursor(snap[3])
            elif kind == "text":
                widget.delete("1.0", "end")
                widget.insert("1.0", snap[2])
                widget.mark_set("insert", snap[3])
        except Exception:  # the widget went away meanwhile
            pass
