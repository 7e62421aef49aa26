"""HQ's coupons for the chain (``cloud.coupons``): the list (``GET /v1/hq/coupons``: code, worth,
minimum spend, uses and what HQ's online pool has left, stores, member, validity, state), issue
one (``POST /v1/hq/coupons``: amount or percent, checked first by ``coupon_form``) and revoke one
after a confirmation (``POST /v1/hq/coupons/{code}/revoke``). The stores pull both on their next
coupon pull."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table, day_text, money_text, rows_of
from admin.screens.coupon_form import FIELDS, KIND_NAMES, check_coupon_form
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown

__all__ = ["CouponsScreen", "ConfirmDialog", "coupon_row"]

WIDTH = {"value": 9, "min_spend": 9, "uses": 7}


def coupon_row(c: dict[str, Any], currency: str, now_us: int) -> dict[str, Any]:
    """A coupon as the table shows it (texts in the reader's language)."""
    if c.get("kind") == "percent":
        worth = _("{percent} % off").format(percent=i18n.number(Decimal(c["value"]) / 100))
    else:
        worth = _("{amount} off").format(amount=i18n.money(int(c.get("value") or 0), currency))
    left = max(0, int(c.get("pool") or 0) - int(c.get("claimed") or 0))
    end = int(c.get("valid_to") or 0)
    if c.get("revoked"):
        state = _("Revoked")
    elif end and end < now_us:
        state = _("Expired")
    else:
        state = _("Active")
    stores = c.get("stores") or []
    return {
        **c,
        "worth": shown(worth),
        "min_spend": money_text(c.get("min_spend") or 0, currency) if c.get("min_spend") else "—",
        "uses": shown(i18n.number(int(c.get("uses") or 0))),
        "left": shown(i18n.number(left)),
        "quota": shown(i18n.number(int(c.get("quota") or 0))),
        "stores": shown(", ".join(stores)),
        "member": shown(str(c.get("member") or _("Anyone (bearer)"))),
        "valid_to": day_text(end) if end else shown(_("No end")),
        "state": shown(state),
    }


class ConfirmDialog(ttk.Toplevel):
    """Asks before something that cannot be undone; ``yes`` runs ``command``."""

    def __init__(self, app: Any, text: str, button: str, command: Any) -> None:
        super().__init__(title=T("Confirm"), transient=app)
        self.resizable(False, False)
        self.text = text
        ttk.Label(
            self, text=text, wraplength=round(420 * app.ui_scale), justify=app.side("left")
        ).pack(padx=16, pady=(16, 10), fill="x")
        row = ttk.Frame(self)
        row.pack(padx=16, pady=(0, 16), fill="x")

        def go() -> None:
            app.close_dialog()
            command()

        self.yes = ttk.Button(row, text=T(button), bootstyle="danger", takefocus=False, command=go)
        self.no = ttk.Button(
            row, text=T("Cancel"), bootstyle="secondary", takefocus=False, command=app.close_dialog
        )
        for b in (self.yes, self.no):
            b.pack(side=app.side("left"), padx=(0, 8), ipady=8, ipadx=8)
        self.update_idletasks()
        self.place_window_center()


class CouponsScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Coupons"))
        bar = self.toolbar()
        self.revoke_button = self.action(
            bar, N_("Revoke…"), "coupons.issue", self.ask_revoke, "danger"
        )
        ttk.Button(
            bar, text=T("Reload"), bootstyle="secondary", takefocus=False, command=self.load
        ).pack(side=app.side("left"), padx=(0, 6))
        self.table = Table(
            self,
            [
                ("code", N_("Code"), 12),
                ("worth", N_("Worth"), 11),
                ("min_spend", N_("Min. spend"), 9),
                ("uses", N_("Uses"), 5),
                ("left", N_("Left at HQ"), 6),
                ("quota", N_("Per store offline"), 6),
                ("stores", N_("Stores"), 10),
                ("member", N_("Member"), 9),
                ("valid_to", N_("Valid to"), 10),
                ("state", N_("State"), 7),
            ],
            fmt={k: str for k in ("worth", "min_spend", "uses", "left", "quota", "valid_to")},
            height=5,
            rtl=app.rtl,
        )
        self.table.pack(fill="both", expand=True, pady=4)
        self.known: list[str] = []
        self.form = ttk.Labelframe(self, text=T("Issue a coupon"), padding=(8, 2, 8, 6))
        self.form.pack(fill="x", pady=(6, 0))
        self.entries: dict[str, ttk.Entry] = {}
        self.errors: dict[str, ttk.Label] = {}
        self._build_form()
        self.load()

    # ------------------------------------------------------------ the form
    def _cell(self, row: int, pair: int, label: bool) -> tuple[int, int]:
        """Where a label or an entry of the form's ``pair``-th column (of 3) goes: mirrored
        right to left."""
        col = pair * 2 + (0 if label else 1)
        return (row, 5 - col) if self.app.rtl else (row, col)

    def _build_form(self) -> None:
        """Three fields a row (Kind first), each with its hint or its mistake under it."""
        f, rtl = self.form, self.app.rtl
        sticky = "e" if rtl else "w"
        self.hints = {
            "value": N_("like 50.00"),
            "min_spend": N_("empty: none"),
            "valid_from": N_("like 2026-12-01; empty: now"),
            "valid_to": N_("like 2026-12-31; empty: no end"),
            "member": N_("empty: anyone (bearer)"),
            "stores": N_("S001, S002; empty: all"),
            "code": N_("empty: a new code"),
        }
        self.kind = ttk.Combobox(f, state="readonly", width=12)
        self.kind.configure(values=[shown(_(t)) for t in KIND_NAMES.values()])
        self.kind.current(0)
        self.kind.bind("<<ComboboxSelected>>", lambda _e: self._kind_chosen())
        for i, (key, title) in enumerate((("kind", N_("Kind")), *FIELDS)):
            row, pair = (i // 3) * 2, i % 3
            r, c = self._cell(row, pair, True)
            ttk.Label(f, text=T(title)).grid(row=r, column=c, sticky=sticky, padx=(6, 4), pady=2)
            r, c = self._cell(row, pair, False)
            if key == "kind":
                self.kind.grid(row=r, column=c, sticky="we", pady=2)
                continue
            e = ttk.Entry(f, width=WIDTH.get(key, 12), justify="right" if rtl else "left")
            e.grid(row=r, column=c, sticky="we", pady=2)
            self.entries[key] = e
            hint = self.hints.get(key)
            note = ttk.Label(f, text=T(hint) if hint else "", bootstyle="secondary")
            note.configure(wraplength=round(300 * self.app.ui_scale), justify=self.form_justify)
            first = min(c, self._cell(row, pair, True)[1])  # under the label and the entry
            note.grid(row=r + 1, column=first, columnspan=2, sticky=sticky, padx=(6, 0))
            self.errors[key] = note
        self.entries["uses"].insert(0, "1")
        for pair in range(3):
            f.columnconfigure(self._cell(0, pair, False)[1], weight=1)
        go = ttk.Frame(f)
        go.grid(row=6, column=0, columnspan=6, sticky=sticky, pady=(4, 0))
        self.issue_button = self.action(go, N_("Issue"), "coupons.issue", self.issue, "success")

    def _kind_chosen(self) -> None:
        """A percent is written as one (12.5), an amount as money (50.00)."""
        percent = self.kind.current() == list(KIND_NAMES).index("percent")
        hint = N_("like 12.5 (%)") if percent else N_("like 50.00")
        self.hints["value"] = hint
        self.errors["value"].configure(text=T(hint), bootstyle="secondary")

    def values(self) -> dict[str, str]:
        kind = list(KIND_NAMES)[max(0, self.kind.current())]
        return {"kind": kind, **{k: e.get() for k, e in self.entries.items()}}

    def issue(self) -> None:
        doc, errors = check_coupon_form(self.values(), self.app.currency, self.app.zone, self.known)
        for key, note in self.errors.items():
            hint = self.hints.get(key)
            if key in errors:
                note.configure(text=shown(errors[key]), bootstyle="danger")
            else:
                note.configure(text=T(hint) if hint else "", bootstyle="secondary")
        if errors:
            self.say(_("Correct the fields in red."), error=True)
            return

        def issued(res: dict[str, Any]) -> None:
            self.say(_("Coupon {code} issued.").format(code=res.get("code", "")), error=False)
            for e in self.entries.values():
                e.delete(0, "end")
            self.entries["uses"].insert(0, "1")
            self.load()

        self.app.call(lambda: self.app.api.coupon_issue(doc), issued, label="issue")

    # ------------------------------------------------------------ the list
    def load(self) -> None:
        self.app.call(lambda: self.app.api.get("/v1/stores"), self._stores, label="stores")
        self.app.call(self.app.api.coupons, self.show, label="coupons")

    def _stores(self, res: Any) -> None:
        self.known = [str(s.get("id")) for s in rows_of(res, "stores")]

    def show(self, res: Any) -> None:
        if not self.winfo_exists():
            return
        now = int(time.time() * 1_000_000)
        cur = self.app.currency
        self.table.fill([coupon_row(c, cur, now) for c in rows_of(res, "coupons")])

    def ask_revoke(self) -> None:
        row = self.table.selected()
        if row is None:
            self.say(_("Choose a coupon first."), error=True)
            return
        if row.get("revoked"):
            self.say(_("Coupon {code} is revoked already.").format(code=row["code"]), error=True)
            return
        code = str(row["code"])
        text = _(
            "Revoke coupon {code}? The stores stop taking it after their next coupon pull. "
            "This cannot be undone."
        ).format(code=code)
        self.app.open_dialog(
            ConfirmDialog(self.app, shown(text), N_("Revoke"), lambda: self.revoke(code))
        )

    def revoke(self, code: str) -> None:
        self.app.call(
            lambda: self.app.api.coupon_revoke(code),
            self.done(_("Coupon {code} revoked.").format(code=code)),
            label="revoke",
        )
