"""The customer-facing window: a ``Toplevel`` of the till's own Tk, placed on a second monitor.

It draws what ``kiosk.customer_display.CustomerDisplays`` tells it, in the customer's language
(not the cashier's): an idle screen (shop name, welcome), the lines as they are scanned (newest at
the bottom, always in view) with the total, and after payment the total, paid, change and a
thank-you. It shows nothing a receipt would not (no member, no staff, no PIN) and takes no
keyboard focus: a scanner's keys keep going to the till.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, shown
from kiosk.till_settings import Geometry
from kiosk.widgets import FitLabel

__all__ = ["CustomerWindow", "DEFAULT_SIZE"]

FAMILY = "Noto Sans"
DEFAULT_SIZE = (1024, 600)  # a plain window when no geometry was given
STYLE = "Customer.Treeview"


class CustomerWindow(ttk.Toplevel):
    """Widgets the tests read: ``header``, ``tree`` (values: name, qty, price), ``welcome``,
    ``total_value``, ``paid_value``, ``change_value``, ``thanks``; what it shows is ``idle``,
    ``basket`` or ``paid`` (``showing``)."""

    def __init__(self, master: tk.Misc, geometry: Geometry | None) -> None:
        super().__init__(master=master, title="kassa")
        self.px = self._place(geometry)
        w, h = self.px
        self.showing = ""
        self.lang = ""
        self.protocol("WM_DELETE_WINDOW", lambda: None)  # only the till closes it
        line_pt = max(12, h // 36)
        style = ttk.Style()
        style.configure(STYLE, font=(FAMILY, line_pt), rowheight=int(line_pt * 2.3))
        style.configure(f"{STYLE}.Heading", font=(FAMILY, max(10, line_pt * 4 // 5), "bold"))
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        self.header = FitLabel(
            self,
            font=(FAMILY, max(14, h // 26), "bold"),
            bootstyle="@primary",
            anchor="center",
            padding=(16, max(6, h // 80)),
        )
        self.header.grid(row=0, column=0, sticky="ew")
        self.body = ttk.Frame(self, padding=(max(8, w // 60), max(6, h // 90)))
        self.body.grid(row=1, column=0, sticky="nsew")
        self.body.columnconfigure(0, weight=1)
        self.body.rowconfigure(0, weight=1)
        self.tree = ttk.Treeview(
            self.body,
            columns=("name", "qty", "price"),
            show="headings",
            style=STYLE,
            selectmode="none",
            takefocus=False,
        )
        self.tree.bind("<Configure>", self._columns, add="+")
        self.welcome = FitLabel(self.body, font=(FAMILY, max(28, h // 9), "bold"), anchor="center")
        self.welcome_sub = FitLabel(
            self.body, font=(FAMILY, max(16, h // 22)), anchor="center", bootstyle="secondary"
        )
        self.totals = ttk.Frame(self, padding=(max(8, w // 40), max(4, h // 120)))
        self.totals.columnconfigure(0, weight=1)
        self.totals.columnconfigure(1, weight=3)
        big, mid = max(28, h // 11), max(18, h // 22)
        self.total_caption = ttk.Label(self.totals, font=(FAMILY, mid, "bold"))
        self.total_value = FitLabel(self.totals, font=(FAMILY, big, "bold"), bootstyle="primary")
        self.paid_caption = ttk.Label(self.totals, font=(FAMILY, mid))
        self.paid_value = FitLabel(self.totals, font=(FAMILY, mid))
        self.change_caption = ttk.Label(self.totals, font=(FAMILY, mid, "bold"))
        self.change_value = FitLabel(self.totals, font=(FAMILY, big, "bold"), bootstyle="success")
        self.thanks = FitLabel(
            self, font=(FAMILY, max(18, h // 18), "bold"), anchor="center", bootstyle="success"
        )

    # ---------------------------------------------------------------- placement
    def _place(self, geometry: Geometry | None) -> tuple[int, int]:
        if geometry is None:
            w, h = DEFAULT_SIZE
            self.geometry(f"{w}x{h}")
            return w, h
        w, h, x, y = geometry
        if not w or not h:  # only the position: the rest of the screen from there
            w = max(320, self.winfo_screenwidth() - max(0, x))
            h = max(240, self.winfo_screenheight() - max(0, y))
        self.overrideredirect(True)  # full screen on that monitor: no frame, never the focus
        self.geometry(f"{w}x{h}{x:+d}{y:+d}")
        return w, h

    def _columns(self, event: Any) -> None:
        """Share the list's width: quantity and price a fixed part, the name the rest."""
        width = max(100, int(event.width) - 4)
        qty, price = width * 14 // 100, width * 30 // 100
        for col, px in (("name", width - qty - price), ("qty", qty), ("price", price)):
            self.tree.column(col, width=px, minwidth=20, stretch=False)

    # ---------------------------------------------------------------- drawing
    def _direction(self, lang: str) -> None:
        """Lay the parts out for the language's reading direction (again only when it changed)."""
        if lang == self.lang:
            return
        self.lang = lang
        rtl = i18n.is_rtl(lang)
        order = ("price", "qty", "name") if rtl else ("name", "qty", "price")
        self.tree.configure(displaycolumns=order)
        anchor: Any
        for col, anchor in (
            ("name", "e" if rtl else "w"),
            ("qty", "center"),
            ("price", "w" if rtl else "e"),
        ):
            self.tree.column(col, anchor=anchor)
            self.tree.heading(col, anchor=anchor)
        cap, val = (1, 0) if rtl else (0, 1)
        for row, (caption, value) in enumerate(
            (
                (self.total_caption, self.total_value),
                (self.paid_caption, self.paid_value),
                (self.change_caption, self.change_value),
            )
        ):
            caption.grid(row=row, column=cap, sticky="e" if rtl else "w", padx=8)
            value.grid(row=row, column=val, sticky="ew", padx=8)
            value.configure(anchor="w" if rtl else "e")
        for index, weight in ((cap, 1), (val, 3)):
            self.totals.columnconfigure(index, weight=weight)

    def draw(
        self,
        state: str,
        lang: str,
        tr: Callable[[str], str],
        shop: str,
        rows: list[tuple[str, str, str]],
        money: dict[str, str],
    ) -> None:
        """Show ``state`` (``idle``, ``basket`` or ``paid``): ``rows`` are (name, qty, price) as
        shown; ``money`` has the ``total``, ``paid`` and ``change`` texts."""
        self._direction(lang)
        self.header.configure(text=shown(shop, lang))
        for col, title in (("name", N_("Item")), ("qty", N_("Qty")), ("price", N_("Price"))):
            self.tree.heading(col, text=shown(tr(title), lang))
        self.showing = state
        if state == "idle":
            self.tree.grid_remove()
            self.totals.grid_remove()
            self.thanks.grid_remove()
            self.welcome.configure(text=shown(tr(N_("Welcome")), lang))
            self.welcome_sub.configure(text=shown(tr(N_("Please place your items")), lang))
            self.welcome.grid(row=0, column=0, sticky="sew", pady=(0, 8))
            self.welcome_sub.grid(row=1, column=0, sticky="new")
            self.body.rowconfigure(1, weight=1)
            return
        self.welcome.grid_remove()
        self.welcome_sub.grid_remove()
        self.body.rowconfigure(1, weight=0)
        self.tree.grid(row=0, column=0, sticky="nsew")
        self._rows(rows)
        self.totals.grid(row=2, column=0, sticky="ew")
        self.total_caption.configure(text=shown(tr(N_("Total")), lang))
        self.total_value.configure(text=money.get("total", ""))
        paid = state == "paid"
        for w in (self.paid_caption, self.paid_value, self.change_caption, self.change_value):
            if paid:
                w.grid()
            else:
                w.grid_remove()
        if paid:
            self.paid_caption.configure(text=shown(tr(N_("Paid")), lang))
            self.paid_value.configure(text=money.get("paid", ""))
            self.change_caption.configure(text=shown(tr(N_("Change")), lang))
            self.change_value.configure(text=money.get("change", ""))
            self.thanks.configure(text=shown(tr(N_("Thank you for shopping with us!")), lang))
            self.thanks.grid(row=3, column=0, sticky="ew", pady=(0, max(4, self.px[1] // 60)))
        else:
            self.thanks.grid_remove()

    def _rows(self, rows: list[tuple[str, str, str]]) -> None:
        tree = self.tree
        old = tree.get_children()
        # redraw only from the first line that changed (a scan usually adds one at the end)
        keep = 0
        for iid, row in zip(old, rows, strict=False):
            if tuple(str(v) for v in tree.item(iid, "values")) != row:
                break
            keep += 1
        if keep < len(old):
            tree.delete(*old[keep:])
        for i in range(keep, len(rows)):
            tree.insert("", "end", iid=str(i), values=rows[i])
        if rows:
            tree.see(str(len(rows) - 1))

    def shown_lines(self) -> list[tuple[str, ...]]:
        """The lines on screen, as (name, qty, price) texts (for tests and checks)."""
        return [
            tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()
        ]

    def visible(self, index: int) -> bool:
        """Whether line ``index`` (0 = first, -1 = newest) is in view."""
        kids = self.tree.get_children()
        if not kids:
            return False
        self.update_idletasks()
        return bool(self.tree.bbox(kids[index]))
