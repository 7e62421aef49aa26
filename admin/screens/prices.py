"""Scheduled price changes: a product's price for a store group from a date and time on
(``GET/POST /v1/hq/prices``, ``DELETE /v1/hq/prices/{id}``); the form checks the price and the
time before sending."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.hqclient import path_of
from admin.screens.base import Screen, Table, money_text, parse_when, rows_of, when_text
from admin.screens.product_edit import parse_price
from kiosk.i18n import N_, _, shown

__all__ = ["PricesScreen"]


class PricesScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Scheduled prices"))
        form = ttk.Frame(self)
        form.pack(fill="x", pady=4)
        self.sku = self.field(form, N_("SKU"), 0, 16)
        self.group = self.field(form, N_("Store group"), 1, 16)
        self.group.insert(0, "default")
        self.price = self.field(form, N_("New price"), 2, 12)
        self.start = self.field(form, N_("From (YYYY-MM-DD HH:MM, UTC)"), 3, 18)
        self.error = ttk.Label(form, text="", bootstyle="danger", justify=self.form_justify)
        self.error.grid(row=4, column=0, columnspan=2, sticky=self.form_side, padx=8)
        bar = self.toolbar()
        self.action(bar, N_("Schedule"), "prices.edit", self.add, "success")
        self.action(bar, N_("Delete the chosen change"), "prices.edit", self.remove, "danger")
        self.table = Table(
            self,
            [
                ("id", N_("Number"), 6),
                ("sku", N_("SKU"), 12),
                ("group", N_("Store group"), 12),
                ("price", N_("Price"), 12),
                ("from_us", N_("From"), 22),
            ],
            fmt={"price": lambda v: money_text(v, app.currency), "from_us": when_text},
            height=12,
            rtl=app.rtl,
        )
        self.table.pack(fill="both", expand=True, pady=4)
        self.load()

    def load(self) -> None:
        self.app.call(lambda: self.app.api.get("/v1/hq/prices"), self.show, label="prices")

    def show(self, res: Any) -> None:
        if self.winfo_exists():
            self.table.fill(rows_of(res, "prices"))

    def add(self) -> None:
        problems = []
        try:
            price = parse_price(self.price.get(), self.app.currency)
        except ValueError:
            problems.append(_("A price like 12.50, not negative."))
        try:
            start = parse_when(self.start.get())
        except ValueError:
            problems.append(_("A time like 2026-03-01 08:00."))
        if not self.sku.get().strip():
            problems.append(_("A product needs a SKU."))
        self.error.configure(text=shown("\n".join(problems)))
        if problems:
            return
        body = {
            "sku": self.sku.get().strip(),
            "group": self.group.get().strip() or "default",
            "price": price,
            "from_us": start,
        }
        self.app.call(
            lambda: self.app.api.post("/v1/hq/prices", body),
            self.done(_("Price change scheduled.")),
            label="add price",
        )

    def remove(self) -> None:
        row = self.table.selected()
        if row is None:
            self.say(_("Choose a row first."), error=True)
            return
        path = path_of("/v1/hq/prices/{id}", id=row.get("id", ""))
        self.app.call(
            lambda: self.app.api.delete(path), self.done(_("Price change deleted.")), label="del"
        )
