"""Sale counter: scan or search, quantities and weights, discounts, park/resume, pay, receipt.

Every change is a till command with an id chosen here before it is sent; the worker retries it
with the same id while the store is unreachable, and the basket on screen stays as it was.
``SaleScreen`` (scan and search) is built on ``sale_basket.BasketView`` (the commands and the
basket drawn) and ``sale_actions.BasketActions`` (the buttons on the basket, payment).
"""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from kiosk.client import ApiError
from kiosk.i18n import T, _
from kiosk.rtl_entry import RtlEntry
from kiosk.scanner import ScanDetector
from kiosk.screens.dialogs import FormDialog
from kiosk.screens.sale_actions import BasketActions, parse_percent_bp, parse_weight_g
from kiosk.staff import counter_title

__all__ = ["SaleScreen", "parse_weight_g", "parse_percent_bp"]


class SaleScreen(BasketActions):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        self.view: dict[str, Any] = {"lines": [], "total": 0, "parked": []}
        self.results: list[dict] = []
        self.detector = ScanDetector()
        self.last_order: dict | None = None
        app.header(self, counter_title("sale"))
        main = ttk.Frame(self, padding=8)
        main.pack(fill="both", expand=True)
        left = ttk.Frame(main)
        left.pack(side=app.side("left"), fill="both", expand=True)
        right = ttk.Frame(main, padding=(12, 0))
        right.pack(side=app.side("right"), fill="y")

        # scan / search
        ttk.Label(left, text=T("Scan a barcode, or type a name or SKU and press Enter")).pack(
            anchor=app.text_anchor
        )
        self.entry = RtlEntry(left, font=app.mid_font)  # Arabic search shown right
        self.entry.pack(fill="x", pady=4)
        self.entry.bind("<KeyPress>", self._key)
        self.entry.bind("<Return>", self._enter)
        self.entry.bind("<KP_Enter>", self._enter)
        cols: tuple[str, ...] = ("name", "sku", "price")
        self.search_tree = ttk.Treeview(left, columns=cols, show="headings", height=5)
        self._columns(
            self.search_tree,
            cols,
            {"name": T("Product"), "sku": T("SKU"), "price": T("Price")},
            {"name": 380},
        )
        self.search_tree.pack(fill="x")
        self.search_tree.bind("<Double-1>", lambda e: self.add_selected())
        self.search_tree.bind("<Return>", lambda e: self.add_selected())
        # basket
        cols = ("name", "qty", "price", "discount", "total")
        self.tree = ttk.Treeview(left, columns=cols, show="headings", height=12)
        self._columns(
            self.tree,
            cols,
            {
                "name": T("Item"),
                "qty": T("Qty"),
                "price": T("Price"),
                "discount": T("Discount"),
                "total": T("Total"),
            },
            {"name": 360},
        )
        self.tree.pack(fill="both", expand=True, pady=(8, 0))

        # totals
        self.total_label = ttk.Label(right, text="", font=app.big_font, bootstyle="primary")
        self.total_label.pack(anchor="e", pady=(0, 2))
        self.detail_label = ttk.Label(right, text="")
        self.detail_label.pack(anchor="e")
        self.change_label = ttk.Label(right, text="", font=app.big_font, bootstyle="success")
        self.change_label.pack(anchor="e", pady=6)
        self.info_label = ttk.Label(right, text="", wraplength=300)
        self.info_label.pack(anchor="e")
        self.buttons: dict[str, ttk.Button] = {}
        for key, label, style, cmd in (
            ("qty", T("Quantity / weight"), "secondary", self.ask_quantity),
            ("remove", T("Remove line"), "secondary", self.remove_line),
            ("line_discount", T("Line discount"), "info", lambda: self.ask_discount(True)),
            ("order_discount", T("Order discount"), "info", lambda: self.ask_discount(False)),
            ("park", T("Park"), "warning", self.park),
            ("resume", T("Resume"), "warning", self.ask_resume),
            ("void", T("Void basket"), "danger", self.void),
            ("reprint", T("Reprint last receipt"), "secondary", self.reprint_last),
            ("pay", T("Pay"), "success", self.pay),
        ):
            b = ttk.Button(right, text=label, bootstyle=style, command=cmd, width=22)
            b.pack(fill="x", pady=3, ipady=6 if key == "pay" else 2)
            self.buttons[key] = b
        self.render()
        self.refresh()
        self.entry.focus_set()

    def _columns(self, tree, cols, heads, widths) -> None:
        display = tuple(reversed(cols)) if self.app.rtl else cols
        tree.configure(displaycolumns=display)
        for c in cols:
            tree.heading(c, text=heads[c], anchor=self.app.text_anchor)
            anchor = self.app.text_anchor if c == "name" else "e"
            tree.column(c, width=widths.get(c, 110), anchor=anchor, stretch=c == "name")

    # ---------------------------------------------------------------- scanner vs typing
    def _key(self, event) -> None:
        if event.char and event.char.isprintable() and event.keysym not in ("Return", "KP_Enter"):
            self.detector.key(event.char, int(event.time))

    def _enter(self, event) -> str:
        code = self.detector.enter(int(event.time))
        text = self.entry.get().strip()
        self.entry.delete(0, "end")
        if code is not None:
            self.scan(code)
        elif text:
            self.search(text)
        return "break"

    def scan(self, code: str, weight_g: int | None = None, qty: int | None = None) -> None:
        args: dict[str, Any] = {"code": code}
        if weight_g is not None:
            args["weight_g"] = weight_g
        if qty is not None:
            args["qty"] = qty
        self.command("scan", args, on_error=lambda exc: self._need_weight(exc, code=code))

    def _need_weight(self, exc: BaseException, code: str = "", sku: str = "") -> bool:
        if getattr(exc, "code", "") != "basket.weight_required":
            return False

        def ok(values: dict[str, str]) -> str | None:
            try:
                grams = parse_weight_g(values["kg"])
            except KassaError as e:
                from kiosk.errors import error_text

                return error_text(e)
            if sku:
                self.command("add", {"sku": sku, "weight_g": grams})
            else:
                self.scan(code, weight_g=grams)
            return None

        self.app.open_dialog(
            FormDialog(self.app, _("Weigh this item."), [("kg", _("Weight (kg)"), "")], ok)
        )
        return True

    def search(self, text: str) -> None:
        def ok(rows: list[dict]) -> None:
            if not self.winfo_exists():
                return
            exact = [
                r
                for r in rows
                if text in (r.get("sku"), r.get("plu")) or text in (r.get("barcodes") or [])
            ]
            if len(exact) == 1:
                self.add(exact[0])
                return
            self.results = rows
            self.search_tree.delete(*self.search_tree.get_children())
            for i, r in enumerate(rows):
                self.search_tree.insert(
                    "",
                    "end",
                    iid=str(i),
                    values=(
                        self.app.name_of(r.get("names")),
                        r.get("sku", ""),
                        self.app.money(int(r.get("price", 0)))
                        + (" /kg" if r.get("unit") == "kg" else ""),
                    ),
                )
            if rows:
                self.search_tree.selection_set("0")
                self.search_tree.focus("0")
            else:
                self.app.notify(_("No product found for “{q}”.").format(q=text))

        self.app.worker.read(lambda: self.app.api.products(text, 30), ok, self.app.fail, "search")

    def add_selected(self) -> None:
        sel = self.search_tree.selection()
        if sel:
            self.add(self.results[int(sel[0])])

    def add(self, product: dict) -> None:
        sku = product["sku"]
        if product.get("unit") == "kg":
            self._need_weight(ApiError("basket.weight_required"), sku=sku)
            return
        self.command("add", {"sku": sku})
