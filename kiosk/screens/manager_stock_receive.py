"""The Stock tab's Receive section: open purchase orders and their lines (ordered, received, still
to come), receiving a line in part or everything still to come, a new purchase order (supplier,
products scanned or typed, quantity, unit cost) and saving an order as PDF and CSV. A part of
``StockTab``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from domain.stock_export import po_csv, po_pdf
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import T, _, shown

__all__ = ["ReceivePart"]


class ReceivePart(ttk.Frame):
    app: Any
    receive_tab: ttk.Frame
    button: Any
    entry: Any
    table: Any
    name_for: Any
    qty: Any

    def _receive(self) -> None:
        f = self.receive_tab
        self.pos: dict[str, dict] = {}
        self.po_choices: dict[str, str] = {}
        self.draft: list[dict] = []
        self.receive_view = ttk.Frame(f)
        self.po_form = ttk.Frame(f)
        self.receive_view.pack(fill="both", expand=True)
        v = self.receive_view
        top = ttk.Frame(v)
        top.pack(fill="x")
        ttk.Label(top, text=T("Purchase order")).pack(side=self.app.side("left"), padx=(0, 4))
        self.po_box = ttk.Combobox(top, state="readonly", width=26, font=self.app.mid_font)
        self.po_box.pack(side=self.app.side("left"), padx=4, ipady=4)
        self.po_box.bind("<<ComboboxSelected>>", lambda _e: self.show_po())
        self.button(top, T("New order"), "info", self.new_po)
        self.button(top, T("Save as PDF"), "secondary", self.export_po)
        self.button(top, T("Cancel order"), "danger-outline", self.cancel_po)
        cols = {
            "sku": (T("SKU"), 120),
            "name": (T("Product name"), 250),
            "qty": (T("Ordered"), 90),
            "received": (T("Received so far"), 90),
            "outstanding": (T("Still to come"), 110),
            "cost": (T("Unit cost"), 110),
        }
        bottom = ttk.Frame(v)  # packed before the table: never squeezed off a small screen
        bottom.pack(side="bottom", fill="x")
        row = ttk.Frame(bottom)
        row.pack(fill="x", pady=4)
        self.receive_qty = self.entry(row, T("Quantity"), 6)
        self.button(row, T("Receive selected line"), "success", self.receive_line)
        self.button(row, T("Receive all still to come"), "success-outline", self.receive_rest)
        self.po_state = ttk.Label(bottom, text="", font=self.app.mid_font)
        self.po_state.pack(anchor=self.app.text_anchor, pady=4)
        self.po_tree = self.table(v, cols, 6)
        self.po_tree.tag_configure("over", foreground="#c0392b")
        self.po_tree.tag_configure("done", foreground="#2e7d32")
        self._po_form()
        self.names: dict[str, str] = {}

    # ---------------------------------------------------------------- open orders
    def load_pos(self, select: str = "") -> None:
        def ok(res: dict) -> None:
            rows = res.get("purchase_orders") or []
            self.pos = {p["po"]: p for p in rows}
            self.po_choices = {f"{p['po']} · {p['supplier']}": p["po"] for p in rows}
            self.po_box.configure(values=[shown(k) for k in self.po_choices])
            want = select or self.current_po()
            label = next((k for k, v in self.po_choices.items() if v == want), "")
            label = label or next(iter(self.po_choices), "")
            self.po_box.set(shown(label))
            self.show_po()

        self.app.worker.read(
            lambda: self.app.api.get("/v1/purchase-orders", state="open"), ok, self.app.fail, "po"
        )

    def current_po(self) -> str:
        shown_label = self.po_box.get()
        return next((v for k, v in self.po_choices.items() if shown(k) == shown_label), "")

    def show_po(self, po: dict | None = None) -> None:
        po = po or self.pos.get(self.current_po())
        tree = self.po_tree
        tree.delete(*tree.get_children())
        if not po:
            self.po_state.configure(text=T("No open purchase orders."))
            return
        self.pos[po["po"]] = po
        for ln in po["lines"]:
            tag = "over" if ln["over"] else ("done" if not ln["outstanding"] else "")
            tree.insert(
                "",
                "end",
                iid=ln["sku"],
                values=(
                    ln["sku"],
                    shown(self.names.get(ln["sku"], "")),
                    shown(i18n.number(ln["qty"])),
                    shown(i18n.number(ln["received"])),
                    shown(i18n.number(ln["outstanding"])),
                    self.app.money(ln["unit_cost"]),
                ),
                tags=(tag,) if tag else (),
            )
        left = sum(ln["outstanding"] for ln in po["lines"])
        over = sum(ln["over"] for ln in po["lines"])
        text = (
            _("Received in full.")
            if po["state"] == "received"
            else _("{n} items still to come.").format(n=i18n.number(left))
        )
        if over:
            text += " " + _("{n} more received than ordered.").format(n=i18n.number(over))
        self.po_state.configure(text=shown(text))
        self._names_of([ln["sku"] for ln in po["lines"] if ln["sku"] not in self.names])

    def _names_of(self, skus: list[str]) -> None:
        if not skus:
            return

        def fetch() -> dict[str, str]:
            out = {}
            for s in skus:
                try:
                    out[s] = self.name_for(self.app.api.get(f"/v1/products/{s}"))
                except Exception:
                    out[s] = s
            return out

        def ok(names: dict[str, str]) -> None:
            self.names.update(names)
            for s, n in names.items():
                if self.po_tree.exists(s):
                    self.po_tree.set(s, "name", shown(n))

        self.app.worker.read(fetch, ok, lambda _e: None, "po")

    def _send_receipt(self, lines: list[dict]) -> None:
        po, cid = self.current_po(), new_id()
        if not po or not lines:
            return

        def ok(res: dict) -> None:
            self.app.notify(_("Goods received."), error=False)
            if res.get("po"):
                self.show_po(res["po"])
            self.load_pos(select=po)

        body = {"id": cid, "po": po, "lines": lines}
        self.app.worker.change(
            lambda: self.app.api.post("/v1/stock/receipts", body), ok, self.app.fail, "receive"
        )

    def receive_line(self) -> None:
        sel = self.po_tree.selection()
        if not sel:
            self.app.notify(_("Choose a line first."))
            return
        n = self.qty(self.receive_qty.get())
        if n is not None:
            self._send_receipt([{"sku": sel[0], "qty": n}])
            self.receive_qty.delete(0, "end")

    def receive_rest(self) -> None:
        po = self.pos.get(self.current_po()) or {"lines": []}
        lines = [{"sku": ln["sku"], "qty": ln["outstanding"]} for ln in po["lines"]]
        self._send_receipt([ln for ln in lines if ln["qty"] > 0])

    def export_po(self) -> None:
        po = self.current_po()
        if not po:
            return
        folder = Path(self.app.data_dir) / "exports"

        def fetch() -> Path:
            data = self.app.api.get(f"/v1/purchase-orders/{po}")
            folder.mkdir(parents=True, exist_ok=True)
            store = str(self.app.store.get("store_id") or "")
            (folder / f"{po}.pdf").write_bytes(po_pdf(data, store, self.app.currency))
            (folder / f"{po}.csv").write_bytes(po_csv(data))
            return folder / f"{po}.pdf"

        def ok(path: Path) -> None:
            self.app.notify(_("Saved: {path}").format(path=str(path)), error=False)

        self.app.worker.read(fetch, ok, self.app.fail, "po")

    # ---------------------------------------------------------------- a new order
    def _po_form(self) -> None:
        f = self.po_form
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.po_supplier = self.entry(row, T("Supplier"), 18, expand=True)
        self.po_expected = self.entry(row, T("Expected (YYYY-MM-DD)"), 11)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.po_sku = self.entry(row, T("Product"), 14, expand=True)
        self.po_qty = self.entry(row, T("Quantity"), 5)
        self.po_cost = self.entry(row, T("Unit cost"), 8)
        self.po_sku.bind("<Return>", lambda _e: self.po_qty.focus_set())
        self.po_cost.bind("<Return>", lambda _e: self.add_po_line())
        self.button(row, T("Add line"), "info", self.add_po_line)
        cols = {
            "sku": (T("SKU"), 130),
            "name": (T("Product name"), 300),
            "qty": (T("Quantity"), 100),
            "cost": (T("Unit cost"), 120),
        }
        row = ttk.Frame(f)
        row.pack(side="bottom", fill="x", pady=4)
        self.button(row, T("Create order"), "success", self.create_po)
        self.button(row, T("Receive without an order"), "success-outline", self.receive_free)
        self.button(row, T("Back"), "secondary", self.close_po_form)
        self.draft_tree = self.table(f, cols, 6)

    def new_po(self) -> None:
        self.receive_view.pack_forget()
        self.po_form.pack(fill="both", expand=True)
        self.draft = []
        self.draft_tree.delete(*self.draft_tree.get_children())
        self.po_supplier.focus_set()

    def close_po_form(self, select: str = "") -> None:
        self.po_form.pack_forget()
        self.receive_view.pack(fill="both", expand=True)
        self.load_pos(select=select)

    def add_po_line(self) -> None:
        code = self.po_sku.get().strip()
        n = self.qty(self.po_qty.get())
        if not code or n is None:
            return
        try:
            cost = to_minor(self.po_cost.get().strip() or "0", self.app.currency)
        except KassaError as exc:
            self.app.fail(exc)
            return

        def ok(p: dict) -> None:
            self.draft = [d for d in self.draft if d["sku"] != p["sku"]]
            self.draft.append({"sku": p["sku"], "qty": n, "unit_cost": cost})
            if self.draft_tree.exists(p["sku"]):
                self.draft_tree.delete(p["sku"])
            values = (p["sku"], self.name_for(p), shown(i18n.number(n)), self.app.money(cost))
            self.draft_tree.insert("", "end", iid=p["sku"], values=values)
            self.names[p["sku"]] = self.name_for(p)
            for e in (self.po_sku, self.po_qty, self.po_cost):
                e.delete(0, "end")
            self.po_sku.focus_set()

        self.app.worker.read(
            lambda: self.app.api.get(f"/v1/products/{code}"), ok, self.app.fail, "po"
        )

    def create_po(self) -> None:
        supplier = self.po_supplier.get().strip()
        if not supplier or not self.draft:
            self.app.notify(_("Name the supplier and add at least one line."))
            return
        body: dict[str, Any] = {"id": new_id(), "supplier": supplier, "lines": list(self.draft)}
        if self.po_expected.get().strip():
            body["expected"] = self.po_expected.get().strip()

        def ok(res: dict) -> None:
            self.app.notify(_("Purchase order {po} created.").format(po=res["po"]), error=False)
            self.close_po_form(select=res["po"])

        self.app.worker.change(
            lambda: self.app.api.post("/v1/purchase-orders", body), ok, self.app.fail, "po"
        )

    def receive_free(self) -> None:
        """The lines written in the form received now, from the supplier named, without an order."""
        supplier = self.po_supplier.get().strip()
        if not supplier or not self.draft:
            self.app.notify(_("Name the supplier and add at least one line."))
            return
        body = {"id": new_id(), "supplier": supplier, "lines": list(self.draft)}

        def ok(_res: dict) -> None:
            self.app.notify(_("Goods received."), error=False)
            self.close_po_form()

        self.app.worker.change(
            lambda: self.app.api.post("/v1/stock/receipts", body), ok, self.app.fail, "receive"
        )

    def cancel_po(self) -> None:
        """Asks first (a choice dialog: cancel the order, or keep it)."""
        po = self.current_po()
        if not po:
            return
        from kiosk.screens.dialogs import ChoiceDialog

        items = [("cancel", _("Cancel purchase order {po}").format(po=po))]
        title = _("Cancel order")
        dlg = ChoiceDialog(self.app, title, items, lambda _k: self._cancel_po(po))
        self.app.open_dialog(dlg)

    def _cancel_po(self, po: str) -> None:
        body = {"id": new_id()}

        def ok(_res: dict) -> None:
            self.app.notify(_("Purchase order {po} cancelled.").format(po=po), error=False)
            self.load_pos()

        self.app.worker.change(
            lambda: self.app.api.post(f"/v1/purchase-orders/{po}/cancel", body),
            ok,
            self.app.fail,
            "po",
        )
