"""The Stock tab's Adjust and transfer section: change a product's level with a reason from a
list (damaged, expired, …), send stock to another store, and enter a transfer that arrived by
the reference on its paper (this store never asks the sender). A part of ``StockTab``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.stock_docs import ADJUST_REASONS
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown

__all__ = ["AdjustPart", "REASON_WORDS"]

REASON_WORDS = {
    "damaged": N_("Damaged"),
    "expired": N_("Expired"),
    "theft": N_("Theft"),
    "found": N_("Found"),
    "own use": N_("Own use"),
    "correction": N_("Correction"),
}
assert set(REASON_WORDS) == set(ADJUST_REASONS)


class AdjustPart(ttk.Frame):
    app: Any
    adjust_tab: ttk.Frame
    button: Any
    entry: Any
    qty: Any

    def _adjust(self) -> None:
        f, app = self.adjust_tab, self.app
        ttk.Label(f, text=T("Adjust a level"), font=app.mid_font).pack(anchor=app.text_anchor)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.adj_sku = self.entry(row, T("Product"), 14, expand=True)
        self.adj_delta = self.entry(row, T("Change (+/−)"), 6)
        ttk.Label(row, text=T("Reason")).pack(side=app.side("left"), padx=(8, 2))
        self.adj_reason = ttk.Combobox(
            row, state="readonly", width=12, font=app.mid_font,
            values=[T(REASON_WORDS[r]) for r in ADJUST_REASONS],
        )  # fmt: skip
        self.adj_reason.pack(side=app.side("left"), padx=4, ipady=4)
        self.button(row, T("Adjust"), "warning", self.adjust)
        ttk.Separator(f).pack(fill="x", pady=10)
        ttk.Label(f, text=T("Send to another store"), font=app.mid_font).pack(
            anchor=app.text_anchor
        )
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.out_store = self.entry(row, T("Store"), 8)
        self.out_sku = self.entry(row, T("Product"), 14, expand=True)
        self.out_qty = self.entry(row, T("Quantity"), 5)
        self.button(row, T("Send"), "info", self.send_transfer)
        ttk.Separator(f).pack(fill="x", pady=10)
        ttk.Label(f, text=T("A transfer arrived"), font=app.mid_font).pack(anchor=app.text_anchor)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.in_ref = self.entry(row, T("Reference"), 14)
        self.in_store = self.entry(row, T("From store"), 8)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=4)
        self.in_sku = self.entry(row, T("Product"), 14, expand=True)
        self.in_qty = self.entry(row, T("Quantity"), 5)
        self.button(row, T("Receive"), "success", self.receive_transfer)
        self.adjust_state = ttk.Label(f, text="", font=app.mid_font)
        self.adjust_state.pack(anchor=app.text_anchor, pady=8)

    def _with_sku(self, code: str, then: Any, what: str) -> None:
        """Look ``code`` (a SKU or barcode) up, then ``then(sku)`` → a change to send."""
        api = self.app.api

        def send() -> dict:
            return then(api.get(f"/v1/products/{code}")["sku"])

        def ok(_res: dict) -> None:
            self.adjust_state.configure(text=shown(what))
            self.app.notify(what, error=False)

        self.app.worker.change(send, ok, self.app.fail, "stock")

    def adjust(self) -> None:
        code, text = self.adj_sku.get().strip(), self.adj_delta.get().strip()
        picked = self.adj_reason.get()
        reason = next((r for r in ADJUST_REASONS if T(REASON_WORDS[r]) == picked), "")
        try:
            delta = int(text.replace("−", "-").replace("+", ""))
        except ValueError:
            delta = 0
        if not code or not delta or not reason:
            self.app.notify(_("Enter the product, the change and the reason."))
            return
        cid = new_id()
        what = _("Level changed by {n}.").format(n=i18n.number(delta))
        self._with_sku(code, lambda sku: self.app.api.post("/v1/stock/adjust", {
            "id": cid, "sku": sku, "delta": delta, "reason": reason}), what)  # fmt: skip

    def send_transfer(self) -> None:
        store, code = self.out_store.get().strip(), self.out_sku.get().strip()
        n = self.qty(self.out_qty.get())
        if not store or not code or n is None:
            return
        cid = new_id()
        what = _("Sent to store {store}.").format(store=store)
        self._with_sku(code, lambda sku: self.app.api.post("/v1/transfers", {
            "id": cid, "to_store": store, "lines": [{"sku": sku, "qty": n}]}), what)  # fmt: skip

    def receive_transfer(self) -> None:
        ref, store = self.in_ref.get().strip(), self.in_store.get().strip()
        code = self.in_sku.get().strip()
        n = self.qty(self.in_qty.get())
        if not ref or not store or not code or n is None:
            return
        cid = new_id()
        what = _("Transfer {ref} received.").format(ref=ref)
        self._with_sku(code, lambda sku: self.app.api.post("/v1/transfers/received", {
            "id": cid, "transfer": ref, "from_store": store,
            "lines": [{"sku": sku, "qty": n}]}), what)  # fmt: skip
