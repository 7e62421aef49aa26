"""The manager counter's flags inbox: every anomaly flag with its rule, order, staff, till and time,
the evidence in words with money formatted in the reader's language, filters (state, rule), and the
actions — acknowledge, dismiss with a note, freeze and unfreeze the order (each journaled by the
store). Part of ``ManagerScreen``; ``describe`` is the evidence sentence (pure, tested alone)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import TOUCH_PX

__all__ = ["FlagsTab", "describe", "RULE_NAMES", "STATE_NAMES"]

RULE_NAMES = {
    "refund_soon_same_staff": N_("Refund by the seller soon after the sale"),
    "refund_other_cashier": N_("Refund of another cashier's sale"),
    "high_discount": N_("High discount"),
    "just_under_limit": N_("Discounts at or just under the limit"),
    "price_override": N_("Price below the catalogue price"),
    "removed_lines": N_("Lines removed before paying"),
    "void": N_("Voided basket"),
    "total_outlier": N_("Unusually large total"),
    "outside_hours": N_("Outside opening hours"),
    "unusual_till_ip": N_("Unusual till or address"),
    "topup_cash_refund": N_("Wallet money refunded as cash"),
    "refund_to_cash": N_("Cash refund of an order paid otherwise"),
    "wallet_velocity": N_("Many wallet orders within minutes"),
    "negative_stock_sale": N_("Sale below zero stock"),
}
STATE_NAMES = {
    "": N_("All"),
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "dismissed": N_("Dismissed"),
}
TENDERS = {"cash": N_("cash"), "card": N_("card"), "wallet": N_("wallet")}

# rule -> the sentence; {placeholders} are filled from the evidence (money formatted)
SENTENCES = {
    "refund_soon_same_staff": N_("The seller refunded {amount} {minutes} minutes after the sale."),
    "refund_other_cashier": N_("{refunded_by} refunded {amount} of a sale by {original_staff}."),
    "high_discount": N_("A discount of {discount} on {subtotal} ({percent} %)."),
    "just_under_limit": N_(
        "{count} discounts that day at or just under the {limit} % limit; this one {percent} %."
    ),
    "price_override": N_("Sold at {unit_price}; the price in force is {catalogue_price}."),
    "removed_lines": N_("{lines} lines worth {removed} were taken off; {paid} was paid."),
    "void": N_("A basket worth {amount} was voided; {count} voids by this cashier that day."),
    "total_outlier": N_(
        "A total of {total}; this cashier usually takes {staff_median}, this hour {hour_median}."
    ),
    "outside_hours": N_("A sale of {amount} at {time}, outside opening hours {hours}."),
    "unusual_till_ip": N_("Till {till} at {ip}: {on_till} of this cashier's {orders} orders."),
    "topup_cash_refund": N_(
        "{cash} refunded in cash from a wallet-paid order, {hours} hours after a top-up of "
        "{topup} by {tender}."
    ),
    "refund_to_cash": N_("{cash} refunded in cash; the order was paid {paid_cash} in cash."),
    "wallet_velocity": N_(
        "{count} wallet orders by member {member} within {minutes} minutes ({spent} in all)."
    ),
    "negative_stock_sale": N_("The sale took the stock of {sku} to {level}."),
}
OUTSIDE = {
    "refund": N_("A refund of {amount} at {time}, outside opening hours {hours}."),
    "topup": N_("A wallet top-up of {amount} at {time}, outside opening hours {hours}."),
}
REFUND_LIMIT = N_("{count} refunds that day just under the approval limit of {limit}.")


def _t(msg: str) -> str:
    """A message held in a table (marked with ``N_``), translated and prepared for display."""
    return shown(_(msg))


def _hundredths(v: int) -> Decimal:
    return Decimal(int(v)).scaleb(-2)


def _pct(bp: Any, lang: str | None) -> str:
    return i18n.number(_hundredths(int(bp or 0)), lang)


def describe(flag: dict[str, Any], currency: str, lang: str | None = None) -> str:
    """The evidence of ``flag`` as one sentence in the current language, money formatted."""
    ev: dict[str, Any] = flag.get("evidence") or {}
    rule = str(flag.get("rule") or "")

    def m(key: str) -> str:
        return i18n.money(int(ev.get(key) or 0), currency, lang)

    def n(key: str) -> str:
        return i18n.number(ev.get(key) or 0, lang)

    v: dict[str, str] = {}
    if rule == "refund_soon_same_staff":
        v = {"amount": m("amount"), "minutes": i18n.number(round(ev.get("minutes_after_sale", 0)))}
    elif rule == "refund_other_cashier":
        v = {"amount": m("amount"), "refunded_by": str(ev.get("refunded_by", ""))}
        v["original_staff"] = str(ev.get("original_staff", ""))
    elif rule == "high_discount":
        v = {"discount": m("discount"), "subtotal": m("subtotal")}
        v["percent"] = _pct(ev.get("discount_bp"), lang)
    elif rule == "just_under_limit" and ev.get("limit") == "refund":
        return _(REFUND_LIMIT).format(count=n("count_that_day"), limit=m("limit_amount"))
    elif rule == "just_under_limit":
        v = {"count": n("count_that_day"), "limit": _pct(ev.get("limit_bp"), lang)}
        v["percent"] = _pct(ev.get("discount_bp"), lang)
    elif rule == "price_override":
        v = {"unit_price": m("unit_price"), "catalogue_price": m("catalogue_price")}
        if ev.get("unit") == "kg":
            v = {k: f"{s}/kg" for k, s in v.items()}
    elif rule == "removed_lines":
        v = {"lines": n("lines_removed"), "removed": m("removed_amount"), "paid": m("paid_total")}
    elif rule == "void":
        v = {"amount": m("amount"), "count": n("voids_that_day")}
    elif rule == "total_outlier":
        v = {"total": m("total"), "staff_median": m("staff_median")}
        v["hour_median"] = m("hour_median")
    elif rule == "outside_hours":
        v = {"amount": m("amount"), "time": str(ev.get("local_time", ""))}
        v["hours"] = str(ev.get("opening_hours", ""))
        if ev.get("what") in OUTSIDE:
            return _(OUTSIDE[str(ev["what"])]).format(**v)
    elif rule == "unusual_till_ip":
        v = {"till": str(ev.get("till", "")), "ip": str(ev.get("ip", ""))}
        v |= {"on_till": n("orders_on_this_till"), "orders": n("orders_by_staff")}
    elif rule == "topup_cash_refund":
        v = {"cash": m("cash_refunded"), "topup": m("topped_up")}
        tenths = int(round(float(ev.get("hours_after_topup") or 0) * 10))
        v["hours"] = i18n.number(Decimal(tenths).scaleb(-1), lang)
        v["tender"] = _(TENDERS.get(str(ev.get("topup_tender")), TENDERS["cash"]))
    elif rule == "refund_to_cash":
        v = {"cash": m("cash_refunded"), "paid_cash": m("paid_in_cash")}
    elif rule == "wallet_velocity":
        v = {"count": n("wallet_orders_nearby"), "member": str(ev.get("member", ""))}
        v |= {"minutes": n("within_minutes"), "spent": m("wallet_spent_nearby")}
    elif rule == "negative_stock_sale":
        v = {"sku": str(ev.get("sku", "")), "level": n("level_after_sale")}
    else:
        return ", ".join(f"{k}: {val}" for k, val in ev.items())
    return _(SENTENCES[rule]).format(**v)


def _us(ts: Any) -> int | None:
    if isinstance(ts, int):
        return ts
    try:
        return int(_dt.datetime.fromisoformat(str(ts)).timestamp() * 1_000_000)
    except ValueError:
        return None


class FlagsTab(ttk.Frame):
    """The flags inbox tab's widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    flags_tab: ttk.Frame

    def _flags_inbox(self) -> None:
        app, f = self.app, self.flags_tab
        self.flag_rows: dict[str, dict[str, Any]] = {}
        bar = ttk.Frame(f)
        bar.pack(fill="x", pady=(0, 6))
        self.flag_state = ttk.StringVar(value=_t(STATE_NAMES[""]))  # all: acted-on flags stay
        self.flag_rule = ttk.StringVar(value=_t(STATE_NAMES[""]))
        states = [_t(s) for s in STATE_NAMES.values()]
        rules = [_t(STATE_NAMES[""]), *(_t(r) for r in RULE_NAMES.values())]
        for var, values, width in ((self.flag_state, states, 14), (self.flag_rule, rules, 36)):
            box = ttk.Combobox(bar, textvariable=var, values=values, width=width, state="readonly")
            box.pack(side=app.side("left"), padx=4, ipady=8)
            box.bind("<<ComboboxSelected>>", lambda _e: self.load_flags())
        self.flag_count = ttk.Label(bar, text="")
        self.flag_count.pack(side=app.side("left"), padx=12)
        cols = ("when", "rule", "order", "staff", "till", "state")
        heads = (T("Time"), T("Rule"), T("Order"), T("Staff"), T("Till"), T("State"))
        widths = (230, 230, 90, 70, 60, 110)
        self.flag_tree = ttk.Treeview(f, columns=cols, show="headings", height=8)
        for c, h, w in zip(cols, heads, widths, strict=True):
            self.flag_tree.heading(c, text=h, anchor=app.text_anchor)
            self.flag_tree.column(c, width=w, anchor=app.text_anchor, stretch=c == "rule")
        if app.rtl:
            self.flag_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.flag_tree.pack(fill="both", expand=True)
        self.flag_tree.bind("<<TreeviewSelect>>", lambda _e: self._show_flag())
        self.flag_text = ttk.Label(
            f, text="", wraplength=600, justify=app.side("left"), font=("TkDefaultFont", 13)
        )
        self.flag_text.pack(fill="x", pady=6)
        self.flag_text.bind(
            "<Configure>", lambda e: self.flag_text.configure(wraplength=e.width - 8)
        )
        row = ttk.Frame(f)
        row.pack(fill="x")
        ttk.Label(row, text=T("Note")).pack(side=app.side("left"), padx=(0, 4))
        self.flag_note = ttk.Entry(row, width=40, justify=app.side("left"))
        self.flag_note.pack(side=app.side("left"), fill="x", expand=True, ipady=10)
        acts = ttk.Frame(f)
        acts.pack(fill="x", pady=6)
        self.flag_buttons: dict[str, ttk.Button] = {}
        for key, label, style in (
            ("acknowledge", N_("Acknowledge"), "success"),
            ("dismiss", N_("Dismiss"), "secondary"),
            ("freeze", N_("Freeze order"), "danger"),
            ("unfreeze", N_("Unfreeze order"), "warning"),
            ("refresh", N_("Refresh"), "info-outline"),
        ):
            b = ttk.Button(
                acts,
                text=T(label),
                bootstyle=style,
                takefocus=False,
                command=lambda k=key: self.flag_action(k),
            )
            b.pack(side=app.side("left"), padx=4, ipady=max(0, (TOUCH_PX - 30) // 2), ipadx=8)
            self.flag_buttons[key] = b
        self.load_flags()

    def _filters(self) -> dict[str, str]:
        state = next((k for k, v in STATE_NAMES.items() if _t(v) == self.flag_state.get()), "")
        rule = next((k for k, v in RULE_NAMES.items() if _t(v) == self.flag_rule.get()), "")
        return {k: v for k, v in (("state", state), ("rule", rule)) if v}

    def load_flags(self) -> None:
        query = self._filters()

        def ok(data: Any) -> None:
            if not self.winfo_exists():
                return
            rows = (data or {}).get("flags") or []
            keep = self.flag_tree.selection()
            self.flag_tree.delete(*self.flag_tree.get_children())
            self.flag_rows = {}
            for r in rows:
                fid = str(r.get("flag_id") or "")
                self.flag_rows[fid] = r
                rule = str(r.get("rule") or "")
                self.flag_tree.insert(
                    "",
                    "end",
                    iid=fid,
                    values=(
                        shown(i18n.when(_us(r.get("ts")), self.app.zone)),
                        _t(RULE_NAMES.get(rule, rule)),
                        str(r.get("order_id") or "")[:8],
                        r.get("staff") or "",
                        r.get("till") or "",
                        _t(STATE_NAMES.get(str(r.get("state")), STATE_NAMES["open"])),
                    ),
                )
            self.flag_count.configure(text=shown(_("Flags: {n}").format(n=i18n.number(len(rows)))))
            sel = [k for k in keep if k in self.flag_rows]
            if sel:
                self.flag_tree.selection_set(sel)
            self._show_flag()

        self.app.worker.read(
            lambda: self.app.api.get("/v1/flags", **query), ok, self.app.fail, "flags"
        )

    def selected_flag(self) -> dict[str, Any] | None:
        sel = self.flag_tree.selection()
        return self.flag_rows.get(sel[0]) if sel else None

    def _show_flag(self) -> None:
        flag = self.selected_flag()
        if flag is None:
            self.flag_text.configure(text=T("Select a flag to read its evidence."))
            return
        text = describe(flag, self.app.currency)
        if flag.get("note"):
            text += "\n" + _("Note: {note}").format(note=flag["note"])
        self.flag_text.configure(text=shown(text))

    def flag_action(self, key: str) -> None:
        if key == "refresh":
            self.load_flags()
            return
        flag = self.selected_flag()
        if flag is None:
            self.app.notify(_("Select a flag first."))
            return
        note, cid, api = self.flag_note.get().strip(), new_id(), self.app.api
        fid, order = flag["flag_id"], flag["order_id"]
        if key == "dismiss" and not note:
            self.app.notify(_("Write a note saying why it is dismissed."))
            return
        calls = {
            "acknowledge": lambda: api.post(
                f"/v1/flags/{fid}/acknowledge", {"id": cid, "note": note}
            ),
            "dismiss": lambda: api.post(f"/v1/flags/{fid}/dismiss", {"id": cid, "note": note}),
            "freeze": lambda: api.freeze(
                cid, order, note or _(RULE_NAMES.get(flag["rule"], "flag"))
            ),
            "unfreeze": lambda: api.unfreeze(cid, order, note),
        }

        def done(_res: Any) -> None:
            self.app.notify(_("Saved."), error=False)
            self.flag_note.delete(0, "end")
            self.load_flags()

        self.app.worker.change(calls[key], done, self.app.fail, "flags")
