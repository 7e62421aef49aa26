"""Sale counter: scan or search, quantities and weights, discounts, park/resume, pay, receipt.

Every change is a till command with an id chosen here before it is sent; the worker retries it
with the same id while the store is unreachable, and the basket on screen stays as it was.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.client import ApiError, new_id
from kiosk.i18n import T, _, shown
from kiosk.scanner import ScanDetector
from kiosk.screens.dialogs import ChoiceDialog, FormDialog, PayDialog
from kiosk.staff import counter_title

__all__ = ["SaleScreen", "parse_weight_g", "parse_percent_bp"]


def parse_weight_g(text: str) -> int:
    """ "0.512" (kg) → 512 grams, exactly."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise KassaError("basket.bad_quantity", "not a weight") from None
    grams = value * 1000
    if not value.is_finite() or grams != grams.to_integral_value() or grams <= 0:
        raise KassaError("basket.bad_quantity", "not a weight")
    return int(grams)


def parse_percent_bp(text: str) -> int:
    """ "12.5" (%) → 1250 basis points."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise KassaError("discount.bad_value", "not a percentage") from None
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10000:
        raise KassaError("discount.bad_value", "not a percentage")
    return int(bp)


class SaleScreen(ttk.Frame):
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
        self.entry = ttk.Entry(left, font=app.mid_font)
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

    # ---------------------------------------------------------------- commands
    def command(
        self, op: str, args: dict, approval: dict | None = None, on_ok=None, on_error=None
    ) -> str:
        """Send one till command (id chosen now, reused on every retry)."""
        cid = new_id()
        client = self.app.api
        self.app.notify("", error=False)

        def ok(res: dict) -> None:
            self.apply(res.get("view") or self.view)
            if on_ok:
                on_ok(res)

        def err(exc: BaseException) -> None:
            if on_error and on_error(exc):
                return
            code = getattr(exc, "code", "")
            if code in ("discount.over_limit", "auth.forbidden") and approval is None:
                action = (
                    "sale.discount_over_limit"
                    if code == "discount.over_limit"
                    else str(getattr(exc, "details", {}).get("action") or "sale.sell")
                )
                self.app.approve(
                    action,
                    lambda ap: self.command(op, args, ap, on_ok, on_error),
                    lambda: self.app.notify(_("Refused: a manager did not approve this.")),
                )
                return
            self.app.fail(exc)

        self.app.worker.change(lambda: client.command(cid, op, args, approval), ok, err, op)
        return cid

    def refresh(self) -> None:
        def ok(view: dict) -> None:
            if self.winfo_exists():
                self.apply(view)

        self.app.worker.read(self.app.api.basket, ok, lambda exc: None, "basket")

    def apply(self, view: dict) -> None:
        if not self.winfo_exists():
            return
        self.view = view
        if view.get("lines"):
            self.change_label.configure(text="")
        self.render()

    def render(self) -> None:
        app = self.app
        v = self.view
        sel = self.tree.selection()
        self.tree.delete(*self.tree.get_children())
        for ln in v.get("lines") or []:
            if ln.get("unit") == "kg":
                qty = shown(i18n.weight(int(ln["qty"])))
                price = app.money(int(ln["unit_price"])) + " /kg"
            else:
                qty = i18n.number(int(ln["qty"]))
                price = app.money(int(ln["unit_price"]))
            disc = app.money(int(ln.get("discount", 0))) if ln.get("discount") else ""
            self.tree.insert(
                "",
                "end",
                iid=ln["line_id"],
                values=(
                    app.name_of(ln.get("names")),
                    qty,
                    price,
                    disc,
                    app.money(int(ln["total"])),
                ),
            )
        if sel and self.tree.exists(sel[0]):
            self.tree.selection_set(sel[0])
        elif v.get("lines"):
            last = v["lines"][-1]["line_id"]
            self.tree.selection_set(last)
            self.tree.see(last)
        self.total_label.configure(
            text=shown(
                _("Total: {amount}").format(amount=i18n.money(int(v.get("total", 0)), app.currency))
            )
        )
        detail = _("{n} lines · discount {discount} · tax {tax}").format(
            n=i18n.number(len(v.get("lines") or [])),
            discount=i18n.money(int(v.get("discount", 0)), app.currency),
            tax=i18n.money(int(v.get("tax", 0)), app.currency),
        )
        self.detail_label.configure(text=shown(detail))
        parked = len(v.get("parked") or [])
        self.buttons["resume"].configure(
            text=shown(_("Resume ({n} parked)").format(n=i18n.number(parked)))
        )

    def selected_line(self) -> dict | None:
        sel = self.tree.selection()
        for ln in self.view.get("lines") or []:
            if sel and ln["line_id"] == sel[0]:
                return ln
        return None

    def ask_quantity(self) -> None:
        ln = self.selected_line()
        if ln is None:
            self.app.notify(_("Select a line first."))
            return
        kg = ln.get("unit") == "kg"

        def ok(values: dict[str, str]) -> str | None:
            from kiosk.errors import error_text

            try:
                qty = parse_weight_g(values["qty"]) if kg else int(values["qty"])
            except (KassaError, ValueError):
                return error_text(KassaError("basket.bad_quantity"))
            self.command("quantity", {"line_id": ln["line_id"], "qty": qty})
            return None

        default = str(Decimal(int(ln["qty"])).scaleb(-3)) if kg else str(ln["qty"])
        self.app.open_dialog(
            FormDialog(
                self.app,
                _("Quantity / weight"),
                [("qty", _("Weight (kg)") if kg else _("Quantity"), default)],
                ok,
            )
        )

    def remove_line(self) -> None:
        ln = self.selected_line()
        if ln is None:
            self.app.notify(_("Select a line first."))
            return
        self.command("remove", {"line_id": ln["line_id"]})

    def ask_discount(self, line: bool) -> None:
        ln = self.selected_line() if line else None
        if line and ln is None:
            self.app.notify(_("Select a line first."))
            return

        def ok(values: dict[str, str]) -> str | None:
            from kiosk.errors import error_text

            try:
                if values.get("pct"):
                    kind, value = "pct", parse_percent_bp(values["pct"])
                elif values.get("amount"):
                    kind, value = "amount", to_minor(values["amount"], self.app.currency)
                else:
                    return _("Enter a percentage or an amount.")
            except KassaError as exc:
                return error_text(exc)
            if ln is not None:
                self.command(
                    "discount_line", {"line_id": ln["line_id"], "kind": kind, "value": value}
                )
            else:
                self.command("discount_order", {"kind": kind, "value": value})
            return None

        title = _("Line discount") if line else _("Order discount")
        self.app.open_dialog(
            FormDialog(
                self.app, title, [("pct", _("Percent (%)"), ""), ("amount", _("Amount"), "")], ok
            )
        )

    def park(self) -> None:
        if not self.view.get("lines"):
            self.app.notify(_("The basket is empty."))
            return
        self.command(
            "park",
            {"note": ""},
            on_ok=lambda res: self.app.notify(_("Basket parked."), error=False),
        )

    def ask_resume(self) -> None:
        parked = self.view.get("parked") or []
        items = []
        for i, p in enumerate(parked, 1):
            items.append(
                (
                    p["basket"],
                    _("#{i}: {n} lines, {amount}").format(
                        i=i,
                        n=i18n.number(p["lines"]),
                        amount=i18n.money(int(p["total"]), self.app.currency),
                    ),
                )
            )
        self.app.open_dialog(ChoiceDialog(self.app, _("Parked baskets"), items, self.resume))

    def resume(self, basket: str) -> None:
        self.command("resume", {"basket": basket})

    def void(self) -> None:
        if not self.view.get("lines"):
            return

        def ok(values: dict[str, str]) -> str | None:
            self.command("void", {"reason": values.get("reason", "")[:200]})
            return None

        self.app.open_dialog(
            FormDialog(
                self.app, _("Void basket"), [("reason", _("Reason"), "")], ok, _("Void basket")
            )
        )

    # ---------------------------------------------------------------- payment
    def pay(self) -> None:
        total = int(self.view.get("total", 0))
        if not self.view.get("lines"):
            self.app.notify(_("The basket is empty."))
            return
        if total == 0:  # fully discounted: nothing to tender, the order completes as it is
            self.command(
                "pay", {"tenders": []}, on_ok=lambda res: self.paid(res.get("order") or {}, None)
            )
            return
        dlg: PayDialog | None = None

        def on_pay(tenders: list[dict], member: dict | None) -> None:
            def ok(res: dict) -> None:
                order = res.get("order") or {}
                if dlg is not None and dlg.winfo_exists():
                    self.app.close_dialog()
                self.paid(order, member)

            def err(exc: BaseException) -> bool:
                if dlg is not None and dlg.winfo_exists():
                    dlg.failed(exc)
                    return True
                return False

            self.command("pay", {"tenders": tenders}, on_ok=ok, on_error=err)

        dlg = PayDialog(self.app, total, on_pay)
        self.app.open_dialog(dlg)

    def paid(self, order: dict, member: dict | None) -> None:
        self.last_order = order
        balance = None
        if member:
            spent = sum(
                int(p["amount"]) for p in order.get("payments", ()) if p.get("kind") == "wallet"
            )
            balance = int(member.get("balance", 0)) - spent
        change = int(order.get("change", 0))
        self.change_label.configure(
            text=shown(_("Change: {amount}").format(amount=i18n.money(change, self.app.currency)))
        )
        self.info_label.configure(
            text=shown(_("Order {number} paid.").format(number=order.get("number", "")))
        )
        self.app.print_order(order, balance)
        self.entry.focus_set()

    def reprint_last(self) -> None:
        q = self.app.print_queue
        if q is None or not self.last_order:
            self.app.notify(_("Nothing to reprint."))
            return
        try:
            q.reprint(self.last_order.get("number", ""), i18n.current())
        except KeyError:
            q.reprint_order(self.last_order, i18n.current())
        self.app.notify(_("Receipt sent to the printer."), error=False)
