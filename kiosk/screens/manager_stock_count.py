"""The Stock tab's Count section: start a count (all products or one category, blind or not),
count by scanning or typing a product and the quantity found, then — for a manager — the
variance report (expected, counted, difference, value) and the approval that makes the counted
quantities the levels. A blind count shows its counters no level until the report. A part of
``StockTab``."""

from __future__ import annotations

import tkinter as tk
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import T, _, shown
from kiosk.widgets import FitLabel

__all__ = ["CountPart"]

COUNTED = ("sku", "name", "counted")
REPORT = ("sku", "name", "expected", "counted", "difference", "value")


class CountPart(ttk.Frame):
    app: Any
    count_tab: ttk.Frame
    button: Any
    entry: Any
    table: Any
    name_for: Any
    qty: Any

    def _count(self) -> None:
        f, app = self.count_tab, self.app
        self.counts: dict[str, dict] = {}
        self.count_names: dict[str, str] = {}
        self.categories: list[str] = []
        top = ttk.Frame(f)
        top.pack(fill="x")
        ttk.Label(top, text=T("Count")).pack(side=app.side("left"), padx=(0, 4))
        self.count_box = ttk.Combobox(top, state="readonly", width=16, font=app.mid_font)
        self.count_box.pack(side=app.side("left"), padx=4, ipady=4)
        self.count_box.bind("<<ComboboxSelected>>", lambda _e: self.show_count())
        ttk.Label(top, text=T("What")).pack(side=app.side("left"), padx=(12, 4))
        self.scope_box = ttk.Combobox(top, state="readonly", width=16, font=app.mid_font)
        self.scope_box.pack(side=app.side("left"), padx=4, ipady=4)
        self.blind = tk.BooleanVar(value=True)
        ttk.Checkbutton(
            top, text=T("Blind"), variable=self.blind, bootstyle="round-toggle", takefocus=False
        ).pack(side=app.side("left"), padx=8)
        self.start_button = self.button(top, T("Start count"), "info", self.start_count)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.count_sku = self.entry(row, T("Product"), 14, expand=True)
        self.count_qty = self.entry(row, T("Found"), 6)
        self.count_sku.bind("<Return>", lambda _e: self.count_qty.focus_set())
        self.count_qty.bind("<Return>", lambda _e: self.add_counted())
        self.button(row, T("Add"), "success", self.add_counted)
        cols = {
            "sku": (T("SKU"), 120),
            "name": (T("Product name"), 250),
            "expected": (T("Expected"), 100),
            "counted": (T("Counted"), 100),
            "difference": (T("Difference"), 100),
            "value": (T("Value"), 130),
        }
        bottom = ttk.Frame(f)  # packed before the table: never squeezed off a small screen
        bottom.pack(side="bottom", fill="x")
        self.count_state = ttk.Label(bottom, text="")
        self.count_state.pack(side="bottom", anchor=app.text_anchor)
        row = ttk.Frame(bottom)
        row.pack(fill="x", pady=4)
        self.report_button = self.button(row, T("Variance report"), "secondary", self.report)
        self.approve_button = self.button(row, T("Approve count"), "warning", self.approve)
        self.approve_button.configure(state="disabled")
        self.count_total = FitLabel(row, font=("Noto Sans", 16, "bold"), anchor=app.text_anchor)
        self.count_total.pack(side=app.side("left"), padx=12, fill="x", expand=True)
        if not app.can("stock.approve"):
            for b in (self.report_button, self.approve_button):
                b.configure(state="disabled")
        self.count_tree = self.table(f, cols, 6)
        self.count_widths = {c: self.count_tree.column(c, "width") for c in cols}
        self.count_tree.tag_configure("short", foreground="#c0392b")
        self.count_tree.tag_configure("more", foreground="#2e7d32")
        self.count_columns(COUNTED)

    def count_columns(self, cols: tuple[str, ...]) -> None:
        """Show ``cols`` at their first widths (the name stretched to the rest): a column shown
        again never finds its room taken by the name."""
        tree = self.count_tree
        for c, width in self.count_widths.items():
            tree.column(c, width=width)
        tree.configure(displaycolumns=tuple(reversed(cols)) if self.app.rtl else cols)

    def current_count(self) -> str:
        return str(self.count_box.get())

    def load_counts(self, select: str = "") -> None:
        api = self.app.api

        def fetch() -> tuple[dict, list]:
            grid = api.get("/v1/product-grid")
            return api.get("/v1/stock/counts", state="open"), grid.get("categories") or []

        def ok(res: tuple[dict, list]) -> None:
            counts, cats = res
            self.counts = {c["count"]: c for c in counts.get("counts") or []}
            self.categories = [c["name"] if isinstance(c, dict) else str(c) for c in cats]
            self.scope_box.configure(values=[T("All products"), *map(shown, self.categories)])
            if not self.scope_box.get():
                self.scope_box.set(T("All products"))
            self.count_box.configure(values=list(self.counts))
            want = select or self.current_count()
            self.count_box.set(want if want in self.counts else next(iter(self.counts), ""))
            self.show_count()

        self.app.worker.read(fetch, ok, self.app.fail, "count")

    def show_count(self) -> None:
        c = self.counts.get(self.current_count())
        tree = self.count_tree
        tree.delete(*tree.get_children())
        self.count_columns(COUNTED)
        self.count_total.configure(text="")
        self.approve_button.configure(state="disabled")
        if c is None:
            self.count_state.configure(text=T("No open count. Start one."))
            return
        for ln in c["lines"]:
            name = self.count_names.get(ln["sku"], ln["sku"])
            tree.insert("", "end", iid=ln["sku"], values=(ln["sku"], shown(name), "",
                        shown(i18n.number(ln["counted"])), "", ""))  # fmt: skip
        what = T("All products") if c["scope"] == "all" else shown(c["category"])
        blind = _("blind") if c["blind"] else _("not blind")
        text = _("{what}, {blind}. Products counted: {n}.").format(
            what=what, blind=blind, n=i18n.number(len(c["lines"]))
        )
        self.count_state.configure(text=shown(text))

    def start_count(self) -> None:
        picked = self.scope_box.get()
        cat = next((c for c in self.categories if shown(c) == picked), "")
        body = {"id": new_id(), "scope": "category" if cat else "all", "blind": self.blind.get()}
        if cat:
            body["category"] = cat

        def ok(res: dict) -> None:
            self.app.notify(_("Count {count} started.").format(count=res["count"]), error=False)
            self.load_counts(select=res["count"])

        self.app.worker.change(
            lambda: self.app.api.post("/v1/stock/counts", body), ok, self.app.fail, "count"
        )

    def add_counted(self) -> None:
        count, code = self.current_count(), self.count_sku.get().strip()
        n = self.qty(self.count_qty.get(), lo=0)
        if not count or not code or n is None:
            if not count:
                self.app.notify(_("Start a count first."))
            return
        cid, api = new_id(), self.app.api

        def send() -> dict:
            p = api.get(f"/v1/products/{code}")
            api.post(f"/v1/stock/counts/{count}/lines", {"id": cid, "lines": [
                {"sku": p["sku"], "counted": n}]})  # fmt: skip
            return p

        def ok(p: dict) -> None:
            self.count_names[p["sku"]] = self.name_for(p)
            for e in (self.count_sku, self.count_qty):
                e.delete(0, "end")
            self.count_sku.focus_set()
            self.load_counts(select=count)

        self.app.worker.change(send, ok, self.app.fail, "count")

    def report(self) -> None:
        count = self.current_count()
        if not count:
            return

        def ok(res: dict) -> None:
            tree = self.count_tree
            tree.delete(*tree.get_children())
            for r in res.get("variances") or []:
                d = int(r["difference"])
                tree.insert("", "end", iid=r["sku"], values=(
                    r["sku"], shown(self.count_names.get(r["sku"]) or r.get("name", "")),
                    shown(i18n.number(r["expected"])), shown(i18n.number(r["counted"])),
                    shown(("+" if d > 0 else "") + i18n.number(d)), self.app.money(r["value"]),
                ), tags=("short",) if d < 0 else (("more",) if d > 0 else ()))  # fmt: skip
            self.count_columns(REPORT)
            total = _("Variance value: {value}").format(value=self.app.money(int(res["value"])))
            self.count_total.configure(text=shown(total))
            self.approve_button.configure(state="normal" if res.get("variances") else "disabled")

        self.app.worker.read(
            lambda: self.app.api.get(f"/v1/stock/counts/{count}", variances="1"),
            ok,
            self.app.fail,
            "count",
        )

    def approve(self) -> None:
        count = self.current_count()
        if not count:
            return
        body = {"id": new_id()}
        self.approve_button.configure(state="disabled")

        def ok(_res: dict) -> None:
            self.app.notify(_("Count approved: the levels are the counted ones."), error=False)
            self.load_counts()

        self.app.worker.change(
            lambda: self.app.api.post(f"/v1/stock/counts/{count}/approve", body),
            ok,
            self.app.fail,
            "count",
        )
