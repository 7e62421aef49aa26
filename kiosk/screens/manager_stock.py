"""The manager counter's Stock tab: levels with search and each product's movements, receiving
(purchase orders: create, receive in part or in full), stock counts (blind, a manager's variance
report and approval), adjustments with a reason and transfers between stores.

``StockTab(notebook, app)`` adds itself to the manager counter's notebook (a one-line hook in
``manager.py``); its sections are parts: ``manager_stock_receive`` (POs and receiving),
``manager_stock_count`` (counts), ``manager_stock_adjust`` (adjust, transfers). Every call to the
store runs on the till's worker threads; answers come back on the Tk thread."""

from __future__ import annotations

import datetime as _dt
from typing import Any
from zoneinfo import ZoneInfo

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.manager_stock_adjust import AdjustPart
from kiosk.screens.manager_stock_count import CountPart
from kiosk.screens.manager_stock_receive import ReceivePart
from kiosk.widgets import text_width

__all__ = ["StockTab", "MOVE_KINDS", "touch_button", "labelled_entry", "table"]

BUTTON_PAD = (14, 12)  # ≥ 48 px tall at the till's fonts
MOVE_KINDS = {
    "sale": N_("Sale"),
    "refund": N_("Refund"),
    "received": N_("Received from a supplier"),
    "adjusted": N_("Adjusted"),
    "counted": N_("Counted"),
    "count": N_("Stock count"),
    "transfer out": N_("Sent to another store"),
    "transfer in": N_("Received from another store"),
}


def touch_button(app: Any, parent: Any, text: str, style: str, cmd: Any) -> ttk.Button:
    """A touch-sized button (no keyboard focus), packed in the reading direction."""
    b = ttk.Button(
        parent, text=text, bootstyle=style, command=cmd, takefocus=False, padding=BUTTON_PAD
    )
    b.pack(side=app.side("left"), padx=4)
    return b


def labelled_entry(app: Any, parent: Any, label: str, width: int, expand: bool = False) -> Any:
    """An entry at the till's middle font, after its label (none when ``label`` is empty)."""
    if label:
        ttk.Label(parent, text=label).pack(side=app.side("left"), padx=(8, 2))
    e = ttk.Entry(parent, width=width, font=app.mid_font, justify="right" if app.rtl else "left")
    e.pack(side=app.side("left"), padx=4, ipady=6, fill="x", expand=expand)
    return e


def table(app: Any, parent: Any, cols: dict[str, tuple[str, int]], height: int = 10) -> Any:
    """A Treeview of ``cols`` (key → (heading, width)), mirrored for right-to-left; only the
    name column takes the room left (the figures keep their widths)."""
    box = ttk.Frame(parent)
    box.pack(fill="both", expand=True, pady=4)
    tree = ttk.Treeview(box, columns=tuple(cols), show="headings", height=height)
    scroll = ttk.Scrollbar(box, orient="vertical", command=tree.yview)
    tree.configure(yscrollcommand=scroll.set)
    scroll.pack(side=app.side("right"), fill="y")
    for c, (head, least) in cols.items():
        width = max(least, text_width("TkHeadingFont", head) + 16)  # no heading cut off
        tree.heading(c, text=head, anchor=app.text_anchor)
        tree.column(c, width=width, minwidth=40, anchor=app.text_anchor, stretch=c == "name")
    if app.rtl:
        tree.configure(displaycolumns=tuple(reversed(cols)))
    tree.pack(side=app.side("left"), fill="both", expand=True)
    return tree


class StockTab(ReceivePart, CountPart, AdjustPart, ttk.Frame):
    """One frame of the manager counter's notebook, with a notebook of its own sections."""

    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=6)
        self.app = app
        self.stock_buttons: dict[str, ttk.Button] = {}
        notebook.add(self, text=T("Stock"))
        self.sections = ttk.Notebook(self)
        self.sections.pack(fill="both", expand=True)
        self.levels_tab = self._section(T("Levels"))
        self.receive_tab = self._section(T("Receive"))
        self.count_tab = self._section(T("Count"))
        self.adjust_tab = self._section(T("Adjust and transfer"))
        self._levels()
        self._receive()
        self._count()
        self._adjust()
        self.sections.bind("<<NotebookTabChanged>>", lambda _e: self.refresh(), add="+")

    def _section(self, label: str) -> ttk.Frame:
        f = ttk.Frame(self.sections, padding=8)
        self.sections.add(f, text=label)
        return f

    def refresh(self) -> None:
        tab = self.sections.select()
        if tab == str(self.receive_tab):
            self.load_pos()
        elif tab == str(self.count_tab):
            self.load_counts()

    # ---------------------------------------------------------------- shared widgets
    def button(self, parent: Any, text: str, style: str, cmd: Any) -> ttk.Button:
        """A touch-sized button, kept in ``stock_buttons`` by its command's name."""
        b = self.stock_buttons[cmd.__name__] = touch_button(self.app, parent, text, style, cmd)
        return b

    def entry(self, parent: Any, label: str, width: int, expand: bool = False) -> ttk.Entry:
        return labelled_entry(self.app, parent, label, width, expand)

    def table(self, parent: Any, cols: dict[str, tuple[str, int]], height: int = 10) -> Any:
        return table(self.app, parent, cols, height)

    def when(self, ts: int) -> str:
        try:
            tz: _dt.tzinfo = ZoneInfo(self.app.zone)
        except Exception:
            tz = _dt.UTC
        return _dt.datetime.fromtimestamp(ts / 1e6, tz).strftime("%Y-%m-%d %H:%M")

    def name_for(self, product: dict) -> str:
        return self.app.name_of(product.get("names")) or str(product.get("sku", ""))

    def qty(self, text: str, lo: int = 1) -> int | None:
        """A whole number typed (Western or local digits), or None with a message."""
        try:
            n = int(text.strip())
        except ValueError:
            n = lo - 1
        if n < lo:
            self.app.notify(_("Enter a whole number."))
            return None
        return n

    # ---------------------------------------------------------------- levels
    def _levels(self) -> None:
        f = self.levels_tab
        top = ttk.Frame(f)
        top.pack(fill="x")
        self.level_search = self.entry(top, T("Product"), 20, expand=True)
        self.level_search.bind("<Return>", lambda _e: self.search_levels())
        self.button(top, T("Search"), "primary", self.search_levels)
        cols = {
            "sku": (T("SKU"), 130),
            "name": (T("Product name"), 300),
            "level": (T("In stock"), 110),
            "low": (T("Low at"), 90),
        }
        self.level_tree = self.table(f, cols, 6)
        self.level_tree.bind("<<TreeviewSelect>>", lambda _e: self.show_moves(), add="+")
        ttk.Label(f, text=T("Movements of the selected product")).pack(anchor=self.app.text_anchor)
        moves = {
            "when": (T("Time"), 170),
            "what": (T("What"), 260),
            "delta": (T("Change"), 100),
            "ref": (T("Reference"), 220),
        }
        self.moves_tree = self.table(f, moves, 5)

    def search_levels(self) -> None:
        q = self.level_search.get().strip()
        api = self.app.api

        def fetch() -> tuple[list, dict]:
            rows = api.get("/v1/products", q=q, limit=100) if q else []
            return rows, api.get("/v1/stock")

        def ok(res: tuple[list, dict]) -> None:
            rows, stock = res
            levels = stock.get("levels") or {}
            tree = self.level_tree
            tree.delete(*tree.get_children())
            shown_rows = rows or [{"sku": s, "names": {}} for s in sorted(levels)[:200]]
            for p in shown_rows:
                sku = p["sku"]
                tree.insert(
                    "",
                    "end",
                    iid=sku,
                    values=(
                        sku,
                        self.name_for(p),
                        shown(i18n.number(int(levels.get(sku, 0)))),
                        shown(i18n.number(int(p.get("low_stock") or 0))),
                    ),
                    tags=("low",) if levels.get(sku, 0) <= (p.get("low_stock") or 0) else (),
                )
            tree.tag_configure("low", foreground="#c0392b")

        self.app.worker.read(fetch, ok, self.app.fail, "stock")

    def show_moves(self) -> None:
        sel = self.level_tree.selection()
        if not sel:
            return
        sku = sel[0]

        def ok(res: dict) -> None:
            tree = self.moves_tree
            tree.delete(*tree.get_children())
            for m in res.get("moves") or []:
                delta = int(m["delta"])
                sign = "+" if delta > 0 else ""
                tree.insert(
                    "",
                    "end",
                    values=(
                        shown(self.when(int(m["ts"]))),
                        T(MOVE_KINDS.get(m["kind"], m["kind"])),
                        shown(sign + i18n.number(delta)),
                        shown(m.get("reference", "")),
                    ),
                )

        self.app.worker.read(
            lambda: self.app.api.get(f"/v1/stock/{sku}/moves"), ok, self.app.fail, "stock"
        )
