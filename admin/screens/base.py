"""What every admin screen is made of: a title, a toolbar of actions (disabled with the reason
when the signed-in role may not use them), a table (``Table``: a Treeview that shows one page of
rows, never all of them) and small form helpers."""

from __future__ import annotations

import datetime as _dt
import tkinter as tk
from collections.abc import Callable, Sequence
from typing import Any

import ttkbootstrap as ttk
from babel.dates import format_date

from kiosk import i18n
from kiosk.i18n import T, shown

__all__ = [
    "Screen",
    "Table",
    "Column",
    "money_text",
    "when_text",
    "day_text",
    "rows_of",
    "parse_when",
]

Column = tuple[str, str, int]  # key, title (untranslated), width in characters


def money_text(amount: Any, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return shown(i18n.money(int(amount), currency or "THB"))


def when_text(us: Any, zone: str = "UTC") -> str:
    return shown(i18n.when(int(us), zone)) if us else "—"


def day_text(us: Any) -> str:
    """A UTC time as its date only (a licence's end, day-granular)."""
    if not us:
        return "—"
    day = _dt.datetime.fromtimestamp(int(us) / 1_000_000, _dt.UTC).date()
    return shown(format_date(day, "medium", locale=i18n.locale_of(None)))


def rows_of(res: Any, key: str) -> list[dict[str, Any]]:
    """The list an answer holds under ``key`` (or the answer itself when it is a list)."""
    rows = res.get(key) if isinstance(res, dict) else res
    return [r for r in rows or [] if isinstance(r, dict)]


def parse_when(text: str, zone: str = "UTC") -> int:
    """``YYYY-MM-DD HH:MM`` (or just the day) in ``zone`` → µs since the epoch (UTC)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    text = text.strip()
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    t = dt.datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone))
    return int(t.timestamp()) * 1_000_000


class Table(ttk.Frame):
    """A Treeview of ``columns``; ``fill(rows)`` shows dicts (values through ``fmt[key]``);
    ``selected()`` gives back the row dict under the selection."""

    def __init__(
        self,
        parent: Any,
        columns: Sequence[Column],
        fmt: dict[str, Callable[[Any], str]] | None = None,
        height: int = 12,
        rtl: bool = False,
    ) -> None:
        super().__init__(parent)
        self.cols = [c[0] for c in columns]
        shown_cols = list(reversed(self.cols)) if rtl else self.cols
        self.tree = ttk.Treeview(
            self, columns=self.cols, displaycolumns=shown_cols, show="headings", height=height
        )
        unit = tk.font.nametofont("TkDefaultFont").measure("0")
        font = tk.font.nametofont("TkHeadingFont")
        # never narrower than its heading (a long Arabic heading is not cut at the edge)
        self.widths = {
            key: max(width * unit, font.measure(T(title)) + 2 * unit)
            for key, title, width in columns
        }
        for key, title, width in columns:
            self.tree.heading(key, text=T(title), anchor="e" if rtl else "w")
            self.tree.column(
                key, width=width * unit, minwidth=unit, stretch=False, anchor="e" if rtl else "w"
            )
        # the columns share the table's width (none cut at an edge, in either direction)
        self.tree.bind("<Configure>", self._fit, add="+")
        bar = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=bar.set)
        bar.pack(side="left" if rtl else "right", fill="y")
        # shown only when the columns need more room than the window gives (a narrow screen)
        self.hbar = ttk.Scrollbar(self, orient="horizontal", command=self.tree.xview)
        self.tree.configure(xscrollcommand=self.hbar.set)
        self.tree.pack(fill="both", expand=True)
        self.fmt = fmt or {}
        self.rtl = rtl
        self.visible = list(self.cols)
        self._room = 0
        self.rows: list[dict[str, Any]] = []
        self.content: dict[str, int] = {}  # the widest value shown per column (of the first 200)

    def show_only(self, keys: Sequence[str]) -> None:
        """Show just the columns ``keys`` (in their order), sharing the table's width."""
        self.visible = [k for k in self.cols if k in keys]
        order = list(reversed(self.visible)) if self.rtl else self.visible
        self.tree.configure(displaycolumns=order)
        self._room = 0
        self._fit(None)

    def _fit(self, event: Any) -> None:
        """The columns share the table's width; when they need more than it has, each keeps its
        own width (no heading or value cut) and a scroll bar under the table reaches the rest."""
        need = {k: max(self.widths[k], self.content.get(k, 0)) for k in self.visible}
        total = sum(need.values())
        room = (event.width if event is not None else self.tree.winfo_width()) - 2
        if room <= 0 or total <= 0:
            return
        narrow = total > room
        for key in self.visible:
            width = need[key] if narrow else need[key] * room // total
            self.tree.column(key, width=max(1, width))
        if narrow and not self.hbar.winfo_ismapped():
            self.hbar.pack(side="bottom", fill="x", before=self.tree)
        elif not narrow and self.hbar.winfo_ismapped():
            self.hbar.pack_forget()
        if narrow and self.rtl:  # right to left, the first columns are at the right end
            self.tree.after_idle(lambda: self.tree.xview_moveto(1.0))
        if self.rtl and self.rows and room != self._room:
            self._room = room
            self._render()
        self._room = room

    def fill(self, rows: list[dict[str, Any]]) -> None:
        self.rows = list(rows)
        self._render()

    def _render(self) -> None:
        chosen = self.tree.selection()
        self.tree.delete(*self.tree.get_children())
        font = tk.font.nametofont("TkDefaultFont")
        seen: dict[str, int] = {}
        for i, row in enumerate(self.rows):
            full = [self._full(k, row.get(k)) for k in self.cols]
            values = [self._cut(k, row.get(k), v) for k, v in zip(self.cols, full, strict=True)]
            self.tree.insert("", "end", iid=str(i), values=values)
            if i < 200:  # a very long value is cut rather than widen its column past 3 times
                for k, v in zip(self.cols, full, strict=True):
                    wide = min(font.measure(v) + 16, 3 * self.widths[k])
                    seen[k] = max(seen.get(k, 0), wide)
        if seen != self.content:
            self.content = seen
            self._fit(None)
            if self.rtl:  # cut again at the new widths (the same values: no further round)
                self._render()
                return
        keep = [i for i in chosen if self.tree.exists(i)]
        if keep:
            self.tree.selection_set(keep)

    def _full(self, key: str, value: Any) -> str:
        """The whole text of a cell as shown (a formatter's text is shown already)."""
        if key in self.fmt:
            return self.fmt[key](value)
        return shown("" if value is None else str(value))

    def _cut(self, key: str, value: Any, full: str) -> str:
        """Tk cuts a long text at its end: the end of the sentence. Right to left it would cut the
        sentence's beginning: cut its end here instead (before the text is put in display order)."""
        if not self.rtl or key in self.fmt:
            return full
        room = int(self.tree.column(key, "width")) - 12
        font = tk.font.nametofont("TkDefaultFont")
        if font.measure(full) <= room:
            return full
        text = "" if value is None else str(value)
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if font.measure(shown(text[:mid] + "…")) <= room:
                lo = mid
            else:
                hi = mid - 1
        return shown(text[:lo] + "…")

    def selected(self) -> dict[str, Any] | None:
        sel = self.tree.selection()
        return self.rows[int(sel[0])] if sel else None

    def values(self) -> list[list[str]]:
        """What the table shows, row by row (for tests)."""
        return [list(self.tree.item(i, "values")) for i in self.tree.get_children()]


class Screen(ttk.Frame):
    """A screen of the admin app (in the content area beside the sidebar)."""

    def __init__(self, parent: Any, app: Any, title: str) -> None:
        super().__init__(parent)
        self.app = app
        head = ttk.Frame(self)
        head.pack(fill="x", pady=(0, 6))
        ttk.Label(head, text=T(title), font=app.mid_font).pack(side=app.side("left"))
        self.head = head

    def toolbar(self, parent: Any = None) -> ttk.Frame:
        bar = ttk.Frame(parent or self)
        bar.pack(fill="x", pady=4)
        return bar

    def action(
        self,
        bar: Any,
        text: str,
        action: str,
        command: Callable[[], None],
        style: str = "primary",
        explain: bool = True,
    ) -> ttk.Button:
        """A button for ``action``; disabled, with the reason beside it (unless ``explain`` is
        false: a neighbour for the same action says it already), if the role may not."""
        b = ttk.Button(bar, text=T(text), bootstyle=style, takefocus=False, command=command)
        b.pack(side=self.app.side("left"), padx=(0, 6))
        why = self.app.reason(action)
        if why:
            b.configure(state="disabled")
        if why and explain:
            ttk.Label(bar, text=shown(why), bootstyle="secondary").pack(
                side=self.app.side("left"), padx=(0, 10)
            )
        return b

    @property
    def label_col(self) -> int:
        """A form's label column: 0, or 1 (right of the entries) in Arabic."""
        return 1 if self.app.rtl else 0

    @property
    def entry_col(self) -> int:
        return 0 if self.app.rtl else 1

    @property
    def form_side(self) -> str:
        """Where a form's message lines up under its fields: the labels' side."""
        return "e" if self.app.rtl else "w"

    @property
    def form_justify(self) -> str:
        return "right" if self.app.rtl else "left"

    def label(self, parent: Any, text: str, row: int) -> None:
        """A form label (``text`` translated and shaped already) in its row."""
        ttk.Label(parent, text=text).grid(
            row=row, column=self.label_col, sticky="e" if self.app.rtl else "w", padx=8, pady=2
        )

    def field(self, parent: Any, label: str, row: int, width: int = 30) -> ttk.Entry:
        """A labelled entry in a grid row (label and entry in reading order)."""
        parent.grid_anchor("ne" if self.app.rtl else "nw")  # a form starts on the reading side
        self.label(parent, T(label), row)
        e = ttk.Entry(parent, width=width, justify="right" if self.app.rtl else "left")
        e.grid(row=row, column=self.entry_col, sticky="we", pady=2)
        return e

    def load(self) -> None:
        """Ask HQ for what the screen shows (called when it opens)."""

    def say(self, text: str, error: bool = False) -> None:
        self.app.notify(text, error=error)

    def done(self, text: str) -> Callable[[Any], None]:
        """A callback that tells the user ``text`` (translated already) and reloads."""

        def ok(_res: Any) -> None:
            self.say(text)
            if self.winfo_exists():
                self.load()

        return ok
