"""The sale counter's basket as the store holds it: one till command at a time (its id chosen
before it is sent, reused on every retry; a refusal that needs a manager asks for one) and the
basket drawn from the store's answer. Part of ``SaleScreen``."""

from __future__ import annotations

from decimal import Decimal
from tkinter import font as tkfont
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, _, shown

__all__ = ["BasketView", "fit_columns", "per_kg"]


def per_kg(price: str) -> str:
    """A weighed item's price per kilogram, e.g. "THB150.70/kg" (never cut: see fit_columns)."""
    return shown(_("{price}/kg").format(price=price))


def fit_columns(tree: ttk.Treeview, rows: list[tuple]) -> None:
    """Widen every column but the name to its widest cell and heading: money is never cut (the
    name column, which stretches, gives up the room)."""
    font = tkfont.nametofont("TkDefaultFont")  # one font for every cell: measuring is cheap
    for i, c in enumerate(tree["columns"]):
        if c == "name":
            continue
        texts = [str(tree.heading(c, "text"))] + [str(r[i]) for r in rows]
        need = max(font.measure(t) for t in texts) + 16
        if int(tree.column(c, "width")) < need:
            tree.column(c, width=need, minwidth=need)


class BasketView(ttk.Frame):
    """Sends the till's commands and draws the basket (a part of ``SaleScreen``)."""

    app: Any
    view: dict[str, Any]
    tree: ttk.Treeview
    scan_error: ttk.Label
    _focus_line: str | None
    _answered: str = ""  # the id of the last command the store answered
    total_label: ttk.Label
    detail_label: ttk.Label
    change_label: ttk.Label
    buttons: dict[str, ttk.Button]

    # ---------------------------------------------------------------- commands
    def command(
        self,
        op: str,
        args: dict,
        approval: dict | None = None,
        on_ok=None,
        on_error=None,
        focus: bool = False,
    ) -> str:
        """Send one till command (id chosen now, reused on every retry). ``focus``: select and
        show the line it added or changed (a scan, an item added)."""
        cid = new_id()
        client = self.app.api
        self.app.notify("", error=False)
        self.scan_error.configure(text="")

        def ok(res: dict) -> None:
            self._answered = cid
            view = res.get("view") or self.view
            if focus:
                before = {ln["line_id"]: ln.get("qty") for ln in self.view.get("lines") or []}
                changed = [
                    ln["line_id"]
                    for ln in view.get("lines") or []
                    if before.get(ln["line_id"]) != ln.get("qty")
                ]
                self._focus_line = changed[-1] if changed else None
            self.apply(view)
            if on_ok:
                on_ok(res)

        def err(exc: BaseException) -> None:
            self._answered = cid
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
                    lambda ap: self.command(op, args, ap, on_ok, on_error, focus),
                    lambda: self.app.notify(_("Refused: a manager did not approve this.")),
                    subject=self.approval_subject(op, args),
                )
                return
            self.app.fail(exc)

        self.app.worker.change(lambda: client.command(cid, op, args, approval), ok, err, op)
        if focus:
            self._watch(cid)
        return cid

    def approval_subject(self, op: str, args: dict) -> str:
        """What a manager is asked to approve, in words: the discount and what it is on."""
        if op not in ("discount_line", "discount_order"):
            return ""
        value = int(args.get("value", 0))
        if args.get("kind") == "pct":
            amount = i18n.number(Decimal(value).scaleb(-2)) + " %"
        else:
            amount = i18n.money(value, self.app.currency)
        if op == "discount_order":
            return _("Order discount {amount} on {total}").format(
                amount=amount, total=i18n.money(int(self.view.get("total", 0)), self.app.currency)
            )
        line: dict[str, Any] = next(
            (ln for ln in self.view.get("lines") or [] if ln.get("line_id") == args.get("line_id")),
            {},
        )
        return _("Line discount {amount} on {name}").format(
            amount=amount, name=self.app.name_of(line.get("names"))
        )

    def _watch(self, cid: str, left: int = 150) -> None:
        """While a scan is on its way, look for the store's answer every few ms (the window's own
        pump looks every 25 ms): the line is on screen as soon as the answer is in."""
        if left <= 0 or not self.winfo_exists() or self._answered == cid:
            return
        self.app.worker.pump()
        if self._answered != cid:
            self.after(3, self._watch, cid, left - 1)

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
        follow = getattr(self.app.dialog, "basket_changed", None)  # the pay screen, if open
        if follow is not None and view.get("lines"):
            follow(int(view.get("total", 0)), self.pay_subject(view))

    def pay_subject(self, view: dict) -> str:
        """What the pay screen is paying: the basket's lines and total."""
        return i18n.counted(
            N_("1 line, {amount}"),
            N_("{n} lines, {amount}"),
            len(view.get("lines") or []),
            amount=i18n.money(int(view.get("total", 0)), self.app.currency),
        )

    def render(self) -> None:
        app = self.app
        v = self.view
        sel = self.tree.selection()
        self.tree.delete(*self.tree.get_children())
        rows = []
        for ln in v.get("lines") or []:
            if ln.get("unit") == "kg":
                qty = shown(i18n.weight(int(ln["qty"])))
                price = per_kg(app.money(int(ln["unit_price"])))
            else:
                qty = i18n.number(int(ln["qty"]))
                price = app.money(int(ln["unit_price"]))
            disc = app.money(int(ln.get("discount", 0))) if ln.get("discount") else ""
            row = (app.name_of(ln.get("names")), qty, price, disc, app.money(int(ln["total"])))
            rows.append(row)
            self.tree.insert("", "end", iid=ln["line_id"], values=row)
        fit_columns(self.tree, rows)
        # the line just scanned or added is selected and on screen; else the cashier's own
        # choice stays, or the newest line
        focus, self._focus_line = self._focus_line, None
        pick = None
        if focus and self.tree.exists(focus):
            pick = focus
        elif sel and self.tree.exists(sel[0]):
            pick = sel[0]
        elif v.get("lines"):
            pick = v["lines"][-1]["line_id"]
        if pick is not None:
            self.tree.selection_set(pick)
            self.tree.focus(pick)
            self.tree.see(pick)
        self.total_label.configure(
            text=shown(
                _("Total: {amount}").format(amount=i18n.money(int(v.get("total", 0)), app.currency))
            )
        )
        detail = i18n.counted(
            N_("1 line · discount {discount} · tax {tax}"),
            N_("{n} lines · discount {discount} · tax {tax}"),
            len(v.get("lines") or []),
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
