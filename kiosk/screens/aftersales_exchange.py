"""The after-sales counter's exchange: return lines of the order picked and sell other items in one
transaction (``POST /v1/orders/{id}/exchange``), the difference settled either way.

``ExchangeActions`` (a part of ``AfterSalesScreen``) opens ``ExchangePanel`` in place of the order
view. The panel lists the order's lines (tap a line, "Return line" / "Quantity…"), takes the new
items from its scan field — a scanner burst typed anywhere in the window lands there too
(``on_scan``, through ``kiosk.scanner.ScanRouter``) — and shows what is returned, what the new
items cost and the difference in big figures (``FitLabel``), as the store quotes them. "Customer
pays" settles in cash or by card; "Give back" returns the rest by the refund's tender rules. A
refund above the store's limit asks for a manager's PIN and is sent again with the approval."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import T, _, shown
from kiosk.scanner import ScanRouter
from kiosk.screens.aftersales_actions import OrderActions
from kiosk.screens.aftersales_settle import ExchangeSettle
from kiosk.screens.dialogs import FormDialog, quantity_up_to
from kiosk.widgets import FitLabel

__all__ = ["ExchangeActions", "ExchangePanel"]

PAD = (12, 12)  # touch-sized ttk buttons (≥ 48 px tall)


class ExchangeActions(OrderActions):
    """Opens the exchange for the order picked, and routes scans to it (or to the order search)."""

    main: ttk.Frame
    exchange_panel: ExchangePanel | None = None

    def install_scans(self) -> None:
        ScanRouter.install(self.app, lambda: getattr(self.app.screen, "on_scan", None))

    def on_scan(self, code: str) -> None:
        """A scanner burst typed anywhere: a new item of the exchange, else a receipt to find."""
        if self.app.dialog is not None:
            return
        panel = self.exchange_panel
        if panel is not None and panel.winfo_exists():
            panel.add_code(code)
            return
        self.entry.delete(0, "end")
        self.find(code)

    def open_exchange(self) -> None:
        if self.record is None:
            self.app.notify(_("Find an order first."))
            return
        if self.record.get("frozen"):
            self.app.notify(_("This order is frozen; a manager must unfreeze it first."))
            return
        self.main.pack_forget()
        self.exchange_panel = ExchangePanel(self, self.app, self.record, self.close_exchange)
        self.exchange_panel.pack(fill="both", expand=True)
        self.exchange_panel.scan.focus_set()

    def close_exchange(self, done: bool = False) -> None:
        panel, self.exchange_panel = self.exchange_panel, None
        if panel is not None:
            panel.destroy()
        self.main.pack(fill="both", expand=True)
        self.entry.focus_set()
        if done:
            self.reload()


class ExchangePanel(ExchangeSettle):
    def __init__(self, parent: Any, app: Any, record: dict, close: Any) -> None:
        super().__init__(parent, padding=8)
        self.app, self.record, self.close = app, record, close
        self.order = record["order"]
        self.returned: dict[str, int] = {}
        self.items: list[dict[str, Any]] = []  # {code, sku, names, qty, price}
        self.quoted: dict[str, Any] = {}
        self.asked = 0  # quotes asked; an answer to an older one is dropped
        side, anchor = app.side("left"), app.text_anchor
        top = ttk.Frame(self)
        top.pack(fill="x")
        title = _("Exchange · order {number}").format(number=self.order.get("number", ""))
        ttk.Label(top, text=shown(title), font=app.mid_font).pack(side=side)
        self.cancel_button = self._button(top, T("Cancel"), "secondary", lambda: close(False))
        self.cancel_button.pack(side=app.side("right"))
        body = ttk.Frame(self)  # packed last: the figures and buttons below always show
        for c in range(2):
            body.columnconfigure(c, weight=1, uniform="ex")
        body.rowconfigure(1, weight=1)
        left, right = (1, 0) if app.rtl else (0, 1)
        ttk.Label(body, text=T("Returned"), font=app.mid_font).grid(
            row=0, column=left, sticky=anchor
        )
        ttk.Label(body, text=T("New items"), font=app.mid_font).grid(
            row=0, column=right, sticky=anchor
        )
        self.old_lines = self._tree(body, ("name", "qty", "back"), (T("Item"), T("Qty"), T("Back")))
        self.old_lines.grid(row=1, column=left, sticky="nsew", padx=4)
        rbox = ttk.Frame(body)
        rbox.grid(row=1, column=right, sticky="nsew", padx=4)
        hint = ttk.Label(rbox, text=T("Scan the new items (or type a code and press Enter)"))
        hint.pack(anchor=anchor)
        self.scan = ttk.Entry(rbox, font=app.mid_font)
        self.scan.pack(fill="x", ipady=4)
        self.scan.bind("<Return>", lambda e: self._typed())
        self.scan.bind("<KP_Enter>", lambda e: self._typed())
        self.new_lines = self._tree(
            rbox, ("name", "qty", "total"), (T("Item"), T("Qty"), T("Total"))
        )
        self.new_lines.pack(fill="both", expand=True, pady=(4, 0))
        lbtn, rbtn = ttk.Frame(body), ttk.Frame(body)
        lbtn.grid(row=2, column=left, sticky="ew", pady=4)
        rbtn.grid(row=2, column=right, sticky="ew", pady=4)
        self._button(lbtn, T("Return line"), "warning", self.return_line).pack(side=side, padx=3)
        self._button(lbtn, T("Quantity…"), "secondary", self.ask_qty).pack(side=side, padx=3)
        self._button(rbtn, T("Remove item"), "secondary", self.remove_item).pack(side=side, padx=3)
        bottom = ttk.Frame(self)
        bottom.pack(side="bottom", fill="x", pady=(8, 0))
        figs = ttk.Frame(self)
        figs.pack(side="bottom", fill="x", pady=(4, 0))
        self.figures: dict[str, FitLabel] = {}
        self.captions: dict[str, ttk.Label] = {}
        keys = ("returned", "sold", "difference")
        for i, key in enumerate(reversed(keys) if app.rtl else keys):
            figs.columnconfigure(i, weight=1, uniform="fig")
            cap = ttk.Label(figs, text="")
            cap.grid(row=0, column=i, sticky=anchor, padx=6)
            size = 34 if key == "difference" else 24
            fig = FitLabel(
                figs, font=("Noto Sans", round(size * app.ui_scale), "bold"), anchor=anchor
            )
            fig.grid(row=1, column=i, sticky="ew", padx=6)
            self.figures[key], self.captions[key] = fig, cap
        self.captions["returned"].configure(text=T("Returned"))
        self.captions["sold"].configure(text=T("New items"))
        body.pack(fill="both", expand=True, pady=6)
        self.cash_button = self._button(bottom, T("Pay cash"), "success", self.pay_cash)
        self.card_button = self._button(bottom, T("Pay card"), "info", self.pay_card)
        self.back_button = self._button(bottom, T("Give back"), "danger", self.give_back)
        for b in (self.cash_button, self.card_button, self.back_button):
            b.pack(side=side, padx=4, fill="x", expand=True)
        self.render()

    # ---------------------------------------------------------------- building
    def _button(self, parent: Any, text: str, style: str, cmd: Any) -> ttk.Button:
        return ttk.Button(
            parent, text=text, bootstyle=style, command=cmd, takefocus=False, padding=PAD
        )

    def _tree(self, parent: Any, cols: tuple[str, ...], heads: tuple[str, ...]) -> ttk.Treeview:
        tree = ttk.Treeview(parent, columns=cols, show="headings", height=4)
        tree.configure(displaycolumns=tuple(reversed(cols)) if self.app.rtl else cols)
        for c, h in zip(cols, heads, strict=True):
            tree.heading(c, text=h, anchor=self.app.text_anchor)
            tree.column(
                c,
                width=200 if c == "name" else 130 if c == "total" else 80,
                minwidth=60,
                stretch=c == "name",
                anchor=self.app.text_anchor if c == "name" else "e",
            )
        return tree

    # ---------------------------------------------------------------- returned lines
    def _left(self, line_id: str) -> int:
        ln = next(x for x in self.order["lines"] if x["line_id"] == line_id)
        return int(ln["qty"]) - int((self.record.get("refunded_qty") or {}).get(line_id, 0))

    def return_line(self) -> None:
        sel = self.old_lines.selection()
        if not sel:
            self.app.notify(_("Select a line first."))
            return
        for line_id in sel:
            left = self._left(line_id)
            if self.returned.get(line_id):
                self.returned.pop(line_id)
            elif left > 0:
                self.returned[line_id] = left
        self.changed()

    def ask_qty(self) -> None:
        sel = self.old_lines.selection()
        if not sel:
            self.app.notify(_("Select a line first."))
            return
        line_id, left = sel[0], self._left(sel[0])

        def ok(values: dict[str, str]) -> str | None:
            q = quantity_up_to(values["qty"], left)
            if q is None:
                return _("That quantity is not valid.")
            if q:
                self.returned[line_id] = q
            else:
                self.returned.pop(line_id, None)
            self.changed()
            return None

        self.app.open_dialog(
            FormDialog(self.app, _("Quantity…"), [("qty", _("Quantity"), str(left))], ok)
        )

    # ---------------------------------------------------------------- new items
    def _typed(self) -> str:
        code = self.scan.get().strip()
        self.scan.delete(0, "end")
        if code:
            self.add_code(code)
        return "break"

    def add_code(self, code: str) -> None:
        """A scanned or typed code: one more of that product in the new items."""
        client = self.app.api

        def ok(p: dict) -> None:
            if not self.winfo_exists():
                return
            for it in self.items:
                if it["sku"] == p["sku"]:
                    it["qty"] += 1
                    break
            else:
                self.items.append(
                    {"code": p["sku"], "sku": p["sku"], "names": p.get("names"), "qty": 1}
                )
            self.changed()

        self.app.worker.read(lambda: client.product(code), ok, self.app.fail, "product")

    def remove_item(self) -> None:
        sel = self.new_lines.selection()
        if not sel:
            self.app.notify(_("Select a line first."))
            return
        self.items = [it for i, it in enumerate(self.items) if str(i) not in sel]
        self.changed()

    # ---------------------------------------------------------------- the store's quote
    def _args(self) -> dict[str, Any]:
        return {
            "returned": dict(self.returned),
            "items": [{"code": it["code"], "qty": it["qty"]} for it in self.items],
        }

    def changed(self) -> None:
        self.render()
        self.asked += 1
        n, args, client = self.asked, self._args(), self.app.api
        oid = quote(str(self.order["order_id"]), safe="")

        def ok(res: dict) -> None:
            if n == self.asked and self.winfo_exists():
                self.quoted = res
                self.render()

        self.app.worker.read(
            lambda: client.post(f"/v1/orders/{oid}/exchange/quote", args),
            ok,
            self.app.fail,
            "quote",
        )

    def render(self) -> None:
        app, q = self.app, self.quoted
        self.old_lines.delete(*self.old_lines.get_children())
        for ln in self.order["lines"]:
            back = self.returned.get(ln["line_id"], 0)
            self.old_lines.insert(
                "",
                "end",
                iid=ln["line_id"],
                values=(
                    app.name_of(ln.get("names")),
                    i18n.number(int(ln["qty"])),
                    i18n.number(back) if back else "",
                ),
            )
        self.new_lines.delete(*self.new_lines.get_children())
        priced = {ln["sku"]: ln for ln in q.get("sold_lines") or []}
        for i, it in enumerate(self.items):
            ln = priced.get(it["sku"])
            total = app.money(int(ln["total"])) if ln else ""
            self.new_lines.insert(
                "",
                "end",
                iid=str(i),
                values=(app.name_of(it.get("names")), i18n.number(it["qty"]), total),
            )
        fresh = bool(q) and q.get("returned_lines") is not None
        value, cost = int(q.get("returned", 0)), int(q.get("sold", 0))
        diff = int(q.get("difference", 0))
        self.figures["returned"].configure(text=shown(app.money(value)) if fresh else "—")
        self.figures["sold"].configure(text=shown(app.money(cost)) if fresh else "—")
        word = (
            T("Customer pays") if diff > 0 else T("Give back") if diff < 0 else T("Even exchange")
        )
        self.captions["difference"].configure(text=word)
        style = "success" if diff > 0 else "danger" if diff < 0 else "secondary"
        self.figures["difference"].configure(text=shown(app.money(abs(diff))), bootstyle=style)
        ready = bool(self.returned) and bool(self.items) and fresh
        pays = ready and diff > 0
        for b, on in (
            (self.cash_button, pays),
            (self.card_button, pays),
            (self.back_button, ready and diff <= 0),
        ):
            b.configure(state="normal" if on else "disabled")
