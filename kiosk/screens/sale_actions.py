"""The sale counter's buttons on the basket: quantity or weight, remove, discounts, park and
resume, void, pay, reprint; and the parsing of what the cashier types for a weight or a
percentage. Part of ``SaleScreen``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.i18n import N_, _, shown
from kiosk.screens.dialogs import ChoiceDialog, FormDialog
from kiosk.screens.sale_basket import BasketView

__all__ = ["BasketActions", "parse_weight_g", "parse_percent_bp"]


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


class BasketActions(BasketView):
    """What the basket's buttons do (a part of ``SaleScreen``)."""

    info_label: ttk.Label
    entry: ttk.Entry
    last_order: dict | None

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
                subject=self._line_subject(ln),
            )
        )

    def _line_subject(self, ln: dict) -> str:
        """What a dialog on this line acts on: its product, quantity and amount."""
        return _("{name} × {qty}: {amount}").format(
            name=self.app.name_of(ln.get("names")),
            qty=i18n.number(int(ln["qty"]))
            if ln.get("unit") != "kg"
            else i18n.weight(int(ln["qty"])),
            amount=i18n.money(int(ln.get("total", 0)), self.app.currency),
        )

    def _basket_subject(self) -> str:
        """What a dialog on the whole basket acts on: its lines and total."""
        return i18n.counted(
            N_("The basket: 1 line, {amount}"),
            N_("The basket: {n} lines, {amount}"),
            len(self.view.get("lines") or []),
            amount=i18n.money(int(self.view.get("total", 0)), self.app.currency),
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
                self.app,
                title,
                [("pct", _("Percent (%)"), ""), ("amount", _("Amount"), "")],
                ok,
                subject=self._line_subject(ln) if ln is not None else self._basket_subject(),
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
                    i18n.counted(
                        N_("#{i}: 1 line, {amount}"),
                        N_("#{i}: {n} lines, {amount}"),
                        int(p["lines"]),
                        i=i,
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
                self.app,
                _("Void basket"),
                [("reason", _("Reason"), "")],
                ok,
                _("Void basket"),
                subject=self._basket_subject(),
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
        from kiosk.screens.pay import PayScreen

        dlg: PayScreen | None = None

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

            named = {"member": member["member"]} if member else {}  # it earns the points
            self.command("pay", {"tenders": tenders, **named}, on_ok=ok, on_error=err)

        dlg = PayScreen(self.app, total, on_pay, subject=self.pay_subject(self.view))
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
        self.app.customer.paid_order(order)  # total, paid, change for the customer (display part)
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
