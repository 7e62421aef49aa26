"""HQ's products: one page at a time (``PAGE`` rows: a Treeview of 300,000 rows is too slow),
searched in any language as you type (``GET /v1/hq/products?q=&lang=&offset=&limit=``), opened
for editing with a double click or the Edit button."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table, money_text
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.rtl_entry import RtlEntry

__all__ = ["ProductsScreen", "PAGE", "name_in"]

PAGE = 100
SEARCH_DELAY_MS = 300


def name_in(names: dict[str, str] | None, lang: str) -> str:
    names = names or {}
    return names.get(lang) or names.get("en") or next(iter(names.values()), "")


class ProductsScreen(Screen):
    def __init__(self, parent: Any, app: Any, q: str = "", offset: int = 0) -> None:
        super().__init__(parent, app, N_("Products"))
        side = app.side("left")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Search")).pack(side=side, padx=(0, 4))
        self.search = RtlEntry(bar, width=28)
        self.search.pack(side=side, padx=(0, 8), ipady=6)
        self.search.insert(0, q)
        self.search.bind("<KeyRelease>", self._typed)
        self.search.bind("<Return>", lambda _e: self.load(0))
        self.action(bar, N_("Edit"), "products.read", self.edit, "secondary")
        self.action(bar, N_("New product"), "products.edit", self.new, "success")
        self.table = Table(
            self,
            [
                ("sku", N_("SKU"), 10),
                ("name", N_("Product name"), 22),
                ("price", N_("Price"), 10),
                ("barcodes", N_("Barcodes"), 16),
                ("category", N_("Category"), 10),
                ("brand", N_("Brand"), 8),
            ],
            fmt={"price": lambda v: money_text(v, app.currency)},
            height=10,
            rtl=app.rtl,
        )
        self.table.pack(fill="both", expand=True, pady=4)
        self.table.tree.bind("<Double-1>", lambda _e: self.edit())
        nav = self.toolbar()
        nav.pack_configure(side="bottom", before=self.table)  # never pushed off the screen
        self.prev = ttk.Button(
            nav, text=T("Previous"), takefocus=False, bootstyle="secondary", command=self.back
        )
        self.prev.pack(side=side, padx=(0, 6))
        self.next = ttk.Button(
            nav, text=T("Next"), takefocus=False, bootstyle="secondary", command=self.forward
        )
        self.next.pack(side=side, padx=(0, 12))
        self.page_label = ttk.Label(nav, text="")
        self.page_label.pack(side=side)
        self.offset, self.total = offset, 0
        self._pending: str | None = None
        self._asked = 0
        self.load(offset)
        self.search.focus_set()  # typing (or a scanned barcode) searches at once

    def _typed(self, _event: Any = None) -> None:
        if self._pending is not None:
            self.after_cancel(self._pending)
        self._pending = self.after(SEARCH_DELAY_MS, lambda: self.load(0))

    def load(self, offset: int | None = None) -> None:
        self._pending = None
        if offset is not None:
            self.offset = max(0, offset)
        q, at = self.search.get().strip(), self.offset
        self._asked += 1
        asked = self._asked
        self.app.call(
            lambda: self.app.api.get(
                "/v1/hq/products", q=q, lang=i18n.current(), offset=at, limit=PAGE
            ),
            lambda res: self.show(res, asked),
            label="products",
        )

    def show(self, res: dict[str, Any], asked: int = 0) -> None:
        if not self.winfo_exists() or (asked and asked != self._asked):
            return  # an older search answered after a newer one was asked
        lang = i18n.current()
        rows = [
            {
                **p,
                "name": name_in(p.get("names"), lang),
                "barcodes": " ".join(p.get("barcodes") or []),
            }
            for p in res.get("products") or []
        ]
        self.table.fill(rows)
        self.total = int(res.get("total") or 0)
        first = self.offset + 1 if rows else 0
        self.page_label.configure(
            text=shown(
                _("{first}–{last} of {total}").format(
                    first=i18n.number(first),
                    last=i18n.number(self.offset + len(rows)),
                    total=i18n.number(self.total),
                )
            )
        )
        self.prev.configure(state="normal" if self.offset > 0 else "disabled")
        more = self.offset + len(rows) < self.total
        self.next.configure(state="normal" if more else "disabled")

    def back(self) -> None:
        self.load(self.offset - PAGE)

    def forward(self) -> None:
        self.load(self.offset + PAGE)

    def edit(self) -> None:
        row = self.table.selected()
        if row is None:
            self.say(_("Choose a product first."), error=True)
            return
        self.app.open("product", sku=row["sku"], back=(self.search.get(), self.offset))

    def new(self) -> None:
        self.app.open("product", sku="", back=(self.search.get(), self.offset))
