"""The sale counter's basket as the store holds it: one till command at a time (its id chosen
before it is sent, reused on every retry; a refusal that needs a manager asks for one) and the
basket drawn from the store's answer. Part of ``SaleScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import _, shown

__all__ = ["BasketView"]


class BasketView(ttk.Frame):
    """Sends the till's commands and draws the basket (a part of ``SaleScreen``)."""

    app: Any
    view: dict[str, Any]
    tree: ttk.Treeview
    total_label: ttk.Label
    detail_label: ttk.Label
    change_label: ttk.Label
    buttons: dict[str, ttk.Button]

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
        self.app.customer.basket(view)  # the customer window and pole display (display part)

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
