"""The manager counter's Prices tab: batch price edits. Find products (a search or a category),
tick rows (a tap ticks or unticks; *Tick all*), choose the change (a new price, a percentage or an
amount up or down) and a rounding, *Preview* shows each old → new price and how many change,
*Apply* changes them all at once (``POST /v1/prices/batch``, one catalogue change; the next scan
at any till sells at the new price). A product whose price HQ sets is shown as such and is not
changed here: the store says how to change it at HQ.

``PricesTab(notebook, app)`` adds itself to the manager counter's notebook (a one-line hook in
``manager.py``). Calls to the store run on the till's worker threads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.screens.manager_stock import labelled_entry, table, touch_button
from kiosk.widgets import FitLabel

__all__ = ["PricesTab", "KIND_WORDS", "ROUNDING_WORDS"]

TICK = "✓"
KIND_WORDS = {
    "set": N_("New price"),
    "percent": N_("Percent up or down"),
    "amount": N_("Amount up or down"),
}
ROUNDING_WORDS = {
    "none": N_("No rounding"),
    "unit": N_("Whole amount (.00)"),
    "half": N_("Halves (.00 or .50)"),
    "x9": N_("Ending in 9 (.x9)"),
    "99": N_("Ending in .99"),
}
PROBLEM_WORDS = {
    "hq_owned": N_("Set by HQ"),
    "below_zero": N_("Below zero"),
    "zero": N_("Would be free"),
    "too_large": N_("Above the maximum"),
}


class PricesTab(ttk.Frame):
    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=8)
        self.app = app
        self.rows: dict[str, dict] = {}  # the products listed, by SKU
        self.ticked: set[str] = set()
        self.buttons: dict[str, ttk.Button] = {}
        self.planned: tuple[tuple[str, ...], dict, dict[str, int], str] | None = None
        self.last: dict = {}  # the last preview's answer
        notebook.add(self, text=T("Prices"))
        self._build()

    def _button(self, parent: Any, text: str, style: str, cmd: Any) -> ttk.Button:
        b = self.buttons[cmd.__name__] = touch_button(self.app, parent, text, style, cmd)
        return b

    def _build(self) -> None:
        app = self.app
        top = ttk.Frame(self)
        top.pack(fill="x")
        self.search_entry = labelled_entry(app, top, T("Product"), 16, expand=True)
        self.search_entry.bind("<Return>", lambda _e: self.search())
        ttk.Label(top, text=T("Category")).pack(side=app.side("left"), padx=(8, 2))
        self.category_box = ttk.Combobox(top, state="readonly", width=14, font=app.mid_font)
        self.category_box.pack(side=app.side("left"), padx=4, ipady=4)
        self._button(top, T("Search"), "primary", self.search)
        self._button(top, T("Tick all"), "secondary", self.tick_all)
        # the change and its buttons first, at the bottom: the table takes the room left
        bottom = ttk.Frame(self)
        bottom.pack(side="bottom", fill="x")
        row = ttk.Frame(bottom)
        row.pack(fill="x", pady=4)
        self.kind_box = self._choice(row, T("Price change"), KIND_WORDS, 26)
        self.value_entry = labelled_entry(app, row, T("Value"), 8)
        row = ttk.Frame(bottom)
        row.pack(fill="x", pady=4)
        self.rounding_box = self._choice(row, T("Rounding"), ROUNDING_WORDS, 18)
        for w, ev in ((self.kind_box, "<<ComboboxSelected>>"), (self.rounding_box,
                      "<<ComboboxSelected>>"), (self.value_entry, "<KeyRelease>")):  # fmt: skip
            w.bind(ev, lambda _e: self._forget_preview(), add="+")  # Apply is what was previewed
        self._button(row, T("Preview"), "info", self.preview)
        self._button(row, T("Apply"), "success", self.apply)
        self.buttons["apply"].configure(state="disabled")
        self.summary = FitLabel(row, text="", font=app.mid_font, anchor=app.text_anchor)
        self.summary.pack(side=app.side("left"), fill="x", expand=True, padx=8)
        cols = {
            "tick": ("", 40),
            "sku": (T("SKU"), 120),
            "name": (T("Product name"), 240),
            "old": (T("Price now"), 120),
            "new": (T("New price"), 120),
            "note": (T("Note"), 250),
        }
        self.tree = table(app, self, cols, 6)
        self.tree.tag_configure("ticked", background="#dbeafe")
        self.tree.tag_configure("hq", foreground="#7f8c8d")
        self.tree.tag_configure("bad", foreground="#c0392b")
        self.tree.bind("<ButtonRelease-1>", self._tapped, add="+")
        self.after_idle(self.load_categories)

    def _choice(self, parent: Any, label: str, words: dict[str, str], width: int) -> Any:
        app = self.app
        ttk.Label(parent, text=label).pack(side=app.side("left"), padx=(8, 2))
        box = ttk.Combobox(parent, state="readonly", width=width, font=app.mid_font,
                           justify="right" if app.rtl else "left",
                           values=[T(w) for w in words.values()])  # fmt: skip
        box.current(0)
        box.pack(side=app.side("left"), padx=4, ipady=4)
        return box

    @staticmethod
    def _picked(box: Any, words: dict[str, str]) -> str:
        return next((k for k, w in words.items() if T(w) == box.get()), next(iter(words)))

    # ---------------------------------------------------------------- finding and ticking
    def load_categories(self) -> None:
        def ok(res: dict) -> None:
            names = [c["name"] if isinstance(c, dict) else str(c) for c in res["categories"]]
            self.category_box.configure(values=["", *names])

        self.app.worker.read(lambda: self.app.api.get("/v1/product-grid"), ok, self.app.fail)

    def search(self) -> None:
        q, cat = self.search_entry.get().strip(), self.category_box.get()
        api = self.app.api

        def fetch() -> list[dict]:
            if q:
                rows = api.get("/v1/products", q=q, limit=200)
                return [p for p in rows if not cat or p.get("category") == cat]
            return api.get("/v1/product-grid", category=cat)["products"] if cat else []

        self.app.worker.read(fetch, self.show, self.app.fail, "prices")

    def show(self, products: list[dict]) -> None:
        tree = self.tree
        tree.delete(*tree.get_children())
        self.rows = {str(p["sku"]): p for p in products}
        self.ticked &= set(self.rows)
        for sku, p in self.rows.items():
            tree.insert("", "end", iid=sku, values=self._values(p))
        self._forget_preview()
        self._mark()

    def _values(self, p: dict, new: str = "", note: str = "") -> tuple:
        sku = str(p["sku"])
        tick = TICK if sku in self.ticked else ""
        name = self.app.name_of(p.get("names")) or sku
        return (tick, shown(sku), name, self.app.money(int(p["price"])), new, note)

    def _tapped(self, event: Any) -> None:
        sku = self.tree.identify_row(event.y)
        if sku:
            self.toggle(sku)

    def toggle(self, sku: str) -> None:
        self.ticked ^= {sku}
        self._forget_preview()
        self._mark()

    def tick_all(self) -> None:
        self.ticked = set() if self.ticked >= set(self.rows) else set(self.rows)
        self._forget_preview()
        self._mark()

    def _mark(self) -> None:
        for sku in self.rows:
            self.tree.set(sku, "tick", TICK if sku in self.ticked else "")
            self.tree.item(sku, tags=("ticked",) if sku in self.ticked else ())
        n = len(self.ticked)
        words = i18n.counted(N_("{n} product ticked"), N_("{n} products ticked"), n)
        self.summary.configure(text=shown(words))

    def _forget_preview(self) -> None:
        self.planned = None
        self.buttons["apply"].configure(state="disabled")
        for sku in self.rows:
            self.tree.set(sku, "new", "")
            self.tree.set(sku, "note", "")

    # ---------------------------------------------------------------- the change
    def change(self) -> dict | None:
        """The change chosen, as the store takes it, or None (with a message)."""
        kind = self._picked(self.kind_box, KIND_WORDS)
        rounding = self._picked(self.rounding_box, ROUNDING_WORDS)
        text = self.value_entry.get().strip().replace("−", "-").replace("+", "").replace("%", "")
        try:
            if kind == "percent":
                bp = Decimal(text) * 100
                if bp != bp.to_integral_value():
                    raise ValueError(text)
                value = int(bp)
            else:
                value = -to_minor(text[1:], self.app.currency) if text.startswith("-") else (
                    to_minor(text, self.app.currency))  # fmt: skip
        except (ValueError, InvalidOperation, ArithmeticError, KassaError):
            self.app.notify(_("Enter the new price, the percentage or the amount."))
            return None
        return {"kind": kind, "value": value, "rounding": rounding}

    def preview(self) -> None:
        skus = tuple(s for s in self.rows if s in self.ticked)
        if not skus:
            self.app.notify(_("Tick the products whose price changes."))
            return
        change = self.change()
        if change is None:
            return
        api, lang = self.app.api, i18n.current()

        def ok(res: dict) -> None:
            self.last = res
            expect = {r["sku"]: int(r["old"]) for r in res["rows"]}
            self.planned = (skus, change, expect, new_id())  # one id: a second tap is a retry
            for r in res["rows"]:
                p = self.rows.get(r["sku"])
                if p is None:
                    continue
                bad = r["problem"]
                note = T(PROBLEM_WORDS[bad]) if bad in PROBLEM_WORDS else ""
                new = "" if bad else self.app.money(int(r["new"]))
                old = self.app.money(int(r["old"]))
                self.tree.item(r["sku"], values=(TICK, shown(r["sku"]), self.app.name_of(
                    p.get("names")), old, new, note))  # fmt: skip
                tags = ("ticked", "hq" if bad == "hq_owned" else "bad") if bad else ("ticked",)
                self.tree.item(r["sku"], tags=tags)
            self.summary.configure(text=shown(self.preview_words(res)))
            can = res["changed"] > 0 and not res["hq_owned"] and not res["refused"]
            self.buttons["apply"].configure(state="normal" if can else "disabled")
            if res["hq_owned"]:
                msg = _("HQ sets {n} of these prices: change them at HQ, or untick them.")
                self.app.notify(msg.format(n=i18n.number(res["hq_owned"])))

        body = {"skus": list(skus), "change": change, "lang": lang}
        self.app.worker.read(
            lambda: api.post("/v1/prices/batch/preview", body), ok, self.app.fail, "prices"
        )

    @staticmethod
    def preview_words(res: dict) -> str:
        words = [i18n.counted(N_("{n} price changes"), N_("{n} prices change"), res["changed"])]
        if res["unchanged"]:
            words.append(_("{n} stay the same").format(n=i18n.number(res["unchanged"])))
        if res["hq_owned"]:
            words.append(_("{n} set by HQ").format(n=i18n.number(res["hq_owned"])))
        if res["refused"] - res["hq_owned"] > 0:
            n = i18n.number(res["refused"] - res["hq_owned"])
            words.append(_("{n} out of bounds").format(n=n))
        return " · ".join(words)

    def apply(self) -> None:
        if self.planned is None:
            self.app.notify(_("Preview the change first."))
            return
        skus, change, expect, cid = self.planned
        api = self.app.api
        body = {"id": cid, "skus": list(skus), "change": change, "expect": expect}

        def ok(res: dict) -> None:
            n = int(res.get("changed") or 0)
            one, many = N_("Price changed: {n} product."), N_("Prices changed: {n} products.")
            self.app.notify(i18n.counted(one, many, n), error=False)
            self.search()  # the list shows the prices now in force

        self.buttons["apply"].configure(state="disabled")
        self.app.worker.change(
            lambda: api.post("/v1/prices/batch", body), ok, self.app.fail, "prices"
        )
