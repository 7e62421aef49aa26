"""The manager counter's product import tab: a CSV/XLSX file previewed row by row (with each
row's error), then the good rows sent to the store. Part of ``ManagerScreen``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import T, _, shown

__all__ = ["ImportTab"]


class ImportTab(ttk.Frame):
    """The product import tab's widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    import_tab: ttk.Frame

    # ---------------------------------------------------------------- product import
    def _import(self) -> None:
        app, f = self.app, self.import_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        ttk.Label(row, text=T("CSV or XLSX file")).pack(side=app.side("left"))
        self.import_path = ttk.Entry(row, width=50)
        self.import_path.pack(side=app.side("left"), padx=6, fill="x", expand=True)
        ttk.Button(row, text=T("Choose…"), bootstyle="secondary", command=self.choose_file).pack(
            side=app.side("left"), padx=2
        )
        self.preview_button = ttk.Button(
            row, text=T("Preview"), bootstyle="info", command=self.preview_import
        )
        self.preview_button.pack(side=app.side("left"), padx=2)
        cols = ("row", "sku", "name", "price", "error")
        self.import_tree = ttk.Treeview(f, columns=cols, show="headings", height=14)
        heads = {
            "row": T("Row"),
            "sku": T("SKU"),
            "name": T("Product name"),
            "price": T("Price"),
            "error": T("Error"),
        }
        for c in cols:
            self.import_tree.heading(c, text=heads[c], anchor=app.text_anchor)
            self.import_tree.column(
                c, width={"row": 60, "name": 240, "error": 520}.get(c, 100), anchor=app.text_anchor
            )
        if app.rtl:
            self.import_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.import_tree.tag_configure("bad", foreground="#c0392b")
        self.import_tree.pack(fill="both", expand=True, pady=6)
        # the whole error of the selected (or first) bad row: what is wrong, what to change
        self.import_error = ttk.Label(f, text="", bootstyle="danger", wraplength=900)
        self.import_error.pack(anchor=app.text_anchor)
        self.import_errors: dict[str, str] = {}
        self.import_tree.bind("<<TreeviewSelect>>", lambda e: self.show_row_error(), add="+")
        self.import_summary = ttk.Label(f, text="")
        self.import_summary.pack(anchor=app.text_anchor)
        self.import_button = ttk.Button(
            f,
            text=T("Import the good rows"),
            bootstyle="success",
            command=self.send_import,
            state="disabled",
        )
        self.import_button.pack(anchor=app.text_anchor, pady=4)
        self.import_rows: list = []

    def choose_file(self) -> None:
        from tkinter import filedialog

        path = filedialog.askopenfilename(
            parent=self, filetypes=[("CSV / XLSX", "*.csv *.xlsx"), ("*", "*")]
        )
        if path:
            self.import_path.delete(0, "end")
            self.import_path.insert(0, path)
            self.preview_import()

    def preview_import(self) -> None:
        from kiosk.importer import load, row_error_text

        path = self.import_path.get().strip()
        if not path:
            return
        cur = self.app.currency
        taxes = self.app.store.get("tax_classes")

        def ok(rows: list) -> None:
            if not self.winfo_exists():
                return
            self.import_rows = rows
            self.import_tree.delete(*self.import_tree.get_children())
            self.import_errors = {}
            for r in rows[:2000]:  # a page is enough to check; all good rows are sent
                p = r.product or {}
                name = (
                    (p.get("names") or {}).get("en")
                    or r.raw.get("name_en")
                    or r.raw.get("name", "")
                )
                price = i18n.money(p["price"], cur) if p else r.raw.get("price", "")
                iid = self.import_tree.insert(
                    "",
                    "end",
                    values=(
                        i18n.number(r.row),
                        r.raw.get("sku", ""),
                        shown(name),
                        shown(price),
                        shown(row_error_text(r, taxes)),
                    ),
                    tags=("bad",) if r.product is None else (),
                )
                if r.error_code:
                    self.import_errors[iid] = row_error_text(r, taxes)
            first = next(iter(self.import_errors.values()), "")
            self.import_error.configure(text=shown(first))
            good = sum(1 for r in rows if r.product is not None)
            self.import_summary.configure(
                text=shown(
                    _("{good} rows ready, {bad} rows with errors.").format(
                        good=i18n.number(good), bad=i18n.number(len(rows) - good)
                    )
                )
            )
            self.import_button.configure(state="normal" if good else "disabled")

        self.app.worker.read(
            lambda: load(path, cur, taxes, self.app.store.get("limits")),
            ok,
            self.app.fail,
            "import",
        )

    def show_row_error(self) -> None:
        sel = self.import_tree.selection()
        if sel and sel[0] in self.import_errors:
            self.import_error.configure(text=shown(self.import_errors[sel[0]]))

    def send_import(self) -> None:
        products = [r.product for r in self.import_rows if r.product is not None]
        if not products:
            return
        cid = new_id()
        source = Path(self.import_path.get().strip()).name[:100] or "import"
        self.import_button.configure(state="disabled")

        def ok(res: Any) -> None:
            self.app.notify(
                _("{n} products imported.").format(n=i18n.number(len(products))), error=False
            )

        self.app.worker.change(
            lambda: self.app.api.import_products(cid, products, source), ok, self.app.fail, "import"
        )
