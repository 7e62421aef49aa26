"""The after-sales counter's order view: find orders (number, receipt barcode, member card or
phone, date), pick one, and show its lines, tenders, refunds, freeze and anomaly flags. Part of
``AfterSalesScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import ApiError
from kiosk.i18n import _, shown

__all__ = ["OrderView"]


class OrderView(ttk.Frame):
    """Finds orders and draws the one picked (a part of ``AfterSalesScreen``)."""

    app: Any
    found: list[dict]
    record: dict[str, Any] | None
    refund_qty: dict[str, int]
    entry: ttk.Entry
    orders: ttk.Treeview
    lines: ttk.Treeview
    summary: ttk.Label
    flag_label: ttk.Label

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
        labels = {"cash": _("Cash"), "card": _("Card"), "wallet": _("Member wallet"), "qr": _("QR")}
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
        from kiosk.screens.manager_flags import describe  # the flags inbox's own sentences

        words = "; ".join(describe(f, self.app.currency) for f in r["flags"])
        old = self.flag_label.cget("text")
        self.flag_label.configure(
            text=(old + "\n" if old else "") + shown(_("Flagged: {why}").format(why=words))
        )
