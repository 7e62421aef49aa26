"""After-sales counter: find an order (number, receipt barcode, member card/phone, order id), refund
it whole or by line to its original tenders, reprint, freeze/unfreeze, and see why it was
flagged."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import ApiError, new_id
from kiosk.i18n import T, _, shown
from kiosk.screens.dialogs import FormDialog
from kiosk.staff import counter_title

__all__ = ["AfterSalesScreen"]


class AfterSalesScreen(ttk.Frame):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        self.found: list[dict] = []
        self.record: dict[str, Any] | None = None
        self.refund_qty: dict[str, int] = {}
        app.header(self, counter_title("aftersales"))
        main = ttk.Frame(self, padding=8)
        main.pack(fill="both", expand=True)
        hint = T("Order number, receipt barcode, member card or phone, or a date (YYYY-MM-DD)")
        ttk.Label(main, text=hint).pack(anchor=app.text_anchor)
        row = ttk.Frame(main)
        row.pack(fill="x", pady=4)
        self.entry = ttk.Entry(row, font=app.mid_font)
        self.entry.pack(side=app.side("left"), fill="x", expand=True)
        self.entry.bind("<Return>", lambda e: self.find())
        self.find_button = ttk.Button(row, text=T("Find"), bootstyle="primary", command=self.find)
        self.find_button.pack(side=app.side("left"), padx=6)
        cols: tuple[str, ...] = ("number", "date", "total", "state")
        self.orders = ttk.Treeview(main, columns=cols, show="headings", height=5)
        self._columns(
            self.orders,
            cols,
            {"number": T("Order"), "date": T("Date"), "total": T("Total"), "state": T("State")},
        )
        self.orders.pack(fill="x")
        self.orders.bind("<<TreeviewSelect>>", lambda e: self._pick())
        body = ttk.Frame(main)
        body.pack(fill="both", expand=True, pady=(8, 0))
        left = ttk.Frame(body)
        left.pack(side=app.side("left"), fill="both", expand=True)
        cols = ("name", "qty", "total", "refunded", "refund")
        self.lines = ttk.Treeview(left, columns=cols, show="headings", height=9)
        self._columns(
            self.lines,
            cols,
            {
                "name": T("Item"),
                "qty": T("Qty"),
                "total": T("Total"),
                "refunded": T("Refunded"),
                "refund": T("To refund"),
            },
        )
        self.lines.pack(fill="both", expand=True)
        self.summary = ttk.Label(left, text="", wraplength=640, justify="left")
        self.summary.pack(anchor=app.text_anchor, pady=4)
        self.flag_label = ttk.Label(left, text="", bootstyle="danger", wraplength=640)
        self.flag_label.pack(anchor=app.text_anchor)
        right = ttk.Frame(body, padding=(12, 0))
        right.pack(side=app.side("right"), fill="y")
        self.buttons: dict[str, ttk.Button] = {}
        for key, label, style, cmd in (
            ("line_qty", T("Refund quantity of line"), "secondary", self.ask_line_qty),
            ("refund_lines", T("Refund selected lines"), "warning", lambda: self.refund(False)),
            ("refund_all", T("Refund whole order"), "danger", lambda: self.refund(True)),
            ("reprint", T("Reprint receipt"), "secondary", self.reprint),
            ("freeze", T("Freeze"), "info", self.freeze),
            ("unfreeze", T("Unfreeze"), "info", self.unfreeze),
        ):
            b = ttk.Button(right, text=label, bootstyle=style, command=cmd, width=24)
            b.pack(fill="x", pady=3)
            self.buttons[key] = b
        self.entry.focus_set()

    def _columns(self, tree, cols, heads) -> None:
        tree.configure(displaycolumns=tuple(reversed(cols)) if self.app.rtl else cols)
        for c in cols:
            tree.heading(c, text=heads[c], anchor=self.app.text_anchor)
            tree.column(
                c,
                width=320 if c == "name" else 130,
                stretch=c == "name",
                anchor=self.app.text_anchor if c in ("name", "number") else "e",
            )

    # ---------------------------------------------------------------- find
    def find(self, key: str | None = None) -> None:
        key = (key if key is not None else self.entry.get()).strip()
        if not key:
            return
        client = self.app.api

        def call() -> list[dict]:
            out = client.orders(key)
            if out:
                return out
            try:  # a member card or phone: that member's orders
                m = client.member(key)
            except ApiError as exc:
                if exc.code == "member.not_found":
                    return []
                raise
            return client.orders(m["member"])

        self.app.worker.read(call, self.show_found, self.app.fail, "orders")

    def show_found(self, rows: list[dict]) -> None:
        if not self.winfo_exists():
            return
        self.found = rows
        self.orders.delete(*self.orders.get_children())
        for i, r in enumerate(rows):
            o = r["order"]
            self.orders.insert(
                "",
                "end",
                iid=str(i),
                values=(
                    o.get("number", ""),
                    shown(i18n.when(r.get("ts"), self.app.zone)),
                    self.app.money(int(o["total"])),
                    shown(self.state_of(r)),
                ),
            )
        if not rows:
            self.app.notify(_("No order found."))
            self.record = None
            self.render()
        else:
            self.orders.selection_set("0")
            self._pick()

    def state_of(self, r: dict) -> str:
        if r.get("frozen"):
            return _("Frozen")
        if r.get("refunded_total"):
            if r["refunded_total"] >= int(r["order"]["total"]):
                return _("Refunded")
            return _("Partly refunded")
        return _("Paid")

    def _pick(self) -> None:
        sel = self.orders.selection()
        if sel and int(sel[0]) < len(self.found):
            self.record = self.found[int(sel[0])]
            self.refund_qty = {}
            self.render()

    def reload(self) -> None:
        if self.record is None:
            return
        oid = self.record["order"]["order_id"]

        def ok(rec: dict) -> None:
            if not self.winfo_exists():
                return
            self.record = rec
            for i, r in enumerate(self.found):
                if r["order"]["order_id"] == oid:
                    self.found[i] = rec
                    self.orders.item(
                        str(i),
                        values=(
                            rec["order"].get("number", ""),
                            shown(i18n.when(rec.get("ts"), self.app.zone)),
                            self.app.money(int(rec["order"]["total"])),
                            shown(self.state_of(rec)),
                        ),
                    )
            self.render()

        self.app.worker.read(lambda: self.app.api.order(oid), ok, self.app.fail, "order")

    def render(self) -> None:
        self.lines.delete(*self.lines.get_children())
        r = self.record
        if r is None:
            self.summary.configure(text="")
            self.flag_label.configure(text="")
            return
        o = r["order"]
        done = r.get("refunded_qty") or {}
        for ln in o["lines"]:
            kg = ln.get("unit") == "kg"
            fmt = (lambda q: shown(i18n.weight(q))) if kg else i18n.number
            todo = self.refund_qty.get(ln["line_id"], 0)
            self.lines.insert(
                "",
                "end",
                iid=ln["line_id"],
                values=(
                    self.app.name_of(ln.get("names")),
                    fmt(int(ln["qty"])),
                    self.app.money(int(ln["total"])),
                    fmt(int(done.get(ln["line_id"], 0))),
                    fmt(todo) if todo else "",
                ),
            )
        pays = []
        labels = {"cash": _("Cash"), "card": _("Card"), "wallet": _("Member wallet")}
        for p in o.get("payments") or []:
            amount = i18n.money(int(p["amount"]), o["currency"])
            pays.append(f"{labels.get(p['kind'], p['kind'])} {amount}")
        text = _("Order {number} · {when} · till {till} · staff {staff}").format(
            number=o.get("number", ""),
            when=i18n.when(r.get("ts"), self.app.zone),
            till=r.get("till", ""),
            staff=r.get("staff", ""),
        )
        text += "\n" + _("Total {total} · paid by {tenders} · refunded {refunded}").format(
            total=i18n.money(int(o["total"]), o["currency"]),
            tenders=", ".join(pays),
            refunded=i18n.money(int(r.get("refunded_total", 0)), o["currency"]),
        )
        self.summary.configure(text=shown(text))
        if r.get("frozen"):
            self.flag_label.configure(
                text=shown(
                    _("Frozen: {reason}").format(
                        reason=r.get("frozen_reason") or _("no reason given")
                    )
                )
            )
        else:
            self.flag_label.configure(text="")
        self.load_flags()

    def load_flags(self) -> None:
        """Why was this order flagged: the anomaly flags the store keeps on the order."""
        r = self.record
        if r is None or not r.get("flags"):
            return
        words = "; ".join(
            f"{f.get('rule', '')} ({f.get('severity', '')}): "
            + ", ".join(f"{k}={v}" for k, v in (f.get("evidence") or {}).items())
            for f in r["flags"]
        )
        old = self.flag_label.cget("text")
        self.flag_label.configure(
            text=(old + "\n" if old else "") + shown(_("Flagged: {why}").format(why=words))
        )

    # ---------------------------------------------------------------- refund
    def ask_line_qty(self) -> None:
        r = self.record
        sel = self.lines.selection()
        if r is None or not sel:
            self.app.notify(_("Select a line first."))
            return
        ln = next(x for x in r["order"]["lines"] if x["line_id"] == sel[0])
        left = int(ln["qty"]) - int((r.get("refunded_qty") or {}).get(ln["line_id"], 0))

        def ok(values: dict[str, str]) -> str | None:
            try:
                q = int(values["qty"])
            except ValueError:
                return _("That quantity is not valid.")
            if not 0 <= q <= left:
                return _("That quantity is not valid.")
            self.set_refund_qty(ln["line_id"], q)
            return None

        self.app.open_dialog(
            FormDialog(
                self.app, _("Refund quantity of line"), [("qty", _("Quantity"), str(left))], ok
            )
        )

    def set_refund_qty(self, line_id: str, qty: int) -> None:
        if qty:
            self.refund_qty[line_id] = qty
        else:
            self.refund_qty.pop(line_id, None)
        self.render()

    def refund(self, whole: bool) -> None:
        r = self.record
        if r is None:
            self.app.notify(_("Find an order first."))
            return
        if not whole and not self.refund_qty:
            for line_id in self.lines.selection():  # selected lines, all of what is left
                ln = next(x for x in r["order"]["lines"] if x["line_id"] == line_id)
                left = int(ln["qty"]) - int((r.get("refunded_qty") or {}).get(line_id, 0))
                if left > 0:
                    self.refund_qty[line_id] = left
            if not self.refund_qty:
                self.app.notify(_("Select a line first."))
                return
        lines = None if whole else dict(self.refund_qty)

        def ok(values: dict[str, str]) -> str | None:
            self.send_refund(lines, values.get("reason", ""))
            return None

        self.app.open_dialog(
            FormDialog(
                self.app,
                _("Refund whole order") if whole else _("Refund selected lines"),
                [("reason", _("Reason"), "")],
                ok,
                _("Refund"),
            )
        )

    def send_refund(
        self, lines: dict[str, int] | None, reason: str, approval: dict | None = None
    ) -> None:
        r = self.record
        assert r is not None
        order = r["order"]
        cid = new_id()
        client = self.app.api

        def ok(res: dict) -> None:
            refund = res.get("result") or {}
            total = int(refund.get("amount", 0)) + int(refund.get("rounding", 0))
            self.app.notify(
                _("Refunded {amount}.").format(amount=i18n.money(total, order["currency"])),
                error=False,
            )
            if self.app.print_queue is not None and refund:
                s = self.app.session
                self.app.print_queue.submit_refund(
                    refund,
                    i18n.current(),
                    original=order,
                    till=self.app.till,
                    staff=s.name if s else "",
                )
            self.refund_qty = {}
            self.reload()

        def err(exc: BaseException) -> None:
            code = getattr(exc, "code", "")
            if code == "auth.forbidden" and approval is None:
                self.app.approve(
                    str(getattr(exc, "details", {}).get("action") or "orders.refund"),
                    lambda ap: self.send_refund(lines, reason, ap),
                )
                return
            self.app.fail(exc)

        self.app.worker.change(
            lambda: client.refund(cid, order["order_id"], lines, reason, approval),
            ok,
            err,
            "refund",
        )

    # ---------------------------------------------------------------- reprint, freeze
    def reprint(self) -> None:
        r = self.record
        q = self.app.print_queue
        if r is None or q is None:
            self.app.notify(_("Nothing to reprint."))
            return
        try:
            q.reprint(r["order"].get("number", ""), i18n.current())
        except KeyError:
            q.reprint_order(
                r["order"],
                i18n.current(),
                till=r.get("till", ""),
                staff=r.get("staff", ""),
                when_us=r.get("ts"),
            )
        self.app.notify(_("Receipt sent to the printer."), error=False)

    def freeze(self) -> None:
        r = self.record
        if r is None:
            return

        def ok(values: dict[str, str]) -> str | None:
            reason = values.get("reason", "")
            if not reason:
                return _("Give a reason.")
            cid = new_id()
            oid = r["order"]["order_id"]
            self.app.worker.change(
                lambda: self.app.api.freeze(cid, oid, reason),
                lambda res: self.reload(),
                self.app.fail,
                "freeze",
            )
            return None

        self.app.open_dialog(
            FormDialog(self.app, _("Freeze"), [("reason", _("Reason"), "")], ok, _("Freeze"))
        )

    def unfreeze(self) -> None:
        r = self.record
        if r is None:
            return
        cid = new_id()
        oid = r["order"]["order_id"]
        self.app.worker.change(
            lambda: self.app.api.unfreeze(cid, oid, ""),
            lambda res: self.reload(),
            self.app.fail,
            "unfreeze",
        )
