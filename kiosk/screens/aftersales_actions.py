"""The after-sales counter's actions on the order picked: refund it whole or by line (a
manager approves when the role may not), reprint its receipt, freeze or unfreeze it. Part of
``AfterSalesScreen``."""

from __future__ import annotations

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import _
from kiosk.screens.aftersales_orders import OrderView
from kiosk.screens.dialogs import FormDialog, quantity_up_to

__all__ = ["OrderActions"]


class OrderActions(OrderView):
    """Refund, reprint, freeze and unfreeze (a part of ``AfterSalesScreen``)."""

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
            q = quantity_up_to(values["qty"], left)
            if q is None:
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
            number = str(refund.get("number") or "")
            done = _("Refunded {amount}.").format(amount=i18n.money(total, order["currency"]))
            if number:
                done += " " + _("Refund number: {number}").format(number=number)
            self.app.notify(done, error=False)
            if self.app.print_queue is not None and refund:
                s = self.app.session
                self.app.print_queue.submit_refund(
                    refund,
                    i18n.current(),
                    original=order,
                    till=self.app.till,
                    staff=s.name if s else "",
                    when_us=res.get("ts"),  # the store's commit time, not this till's clock
                )
            self.refund_qty = {}
            self.reload()

        def err(exc: BaseException) -> None:
            code = getattr(exc, "code", "")
            if code in ("auth.forbidden", "refund.needs_manager") and approval is None:
                self.app.approve(
                    str(getattr(exc, "details", {}).get("action") or "orders.refund"),
                    lambda ap: self.send_refund(lines, reason, ap),
                    subject=_("Refund of order {number}").format(
                        number=order.get("number") or str(order.get("order_id", ""))[:8]
                    ),
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
