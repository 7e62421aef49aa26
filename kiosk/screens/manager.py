"""Manager counter: X/Z reports (own till and store), open/close the day with cash counts, staff and
permissions, product import from CSV/XLSX with a preview and per-row errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from domain.money import to_minor
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.staff import ROLE_NAMES, counter_title

__all__ = ["ManagerScreen", "DENOMINATIONS", "flatten_report", "report_warning", "upload_text"]

# notes and coins counted at open/close (minor units); other currencies count one total
DENOMINATIONS = {
    "THB": (100000, 50000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 25),
    "CNY": (10000, 5000, 2000, 1000, 500, 100, 50, 10),
    "SAR": (50000, 10000, 5000, 1000, 500, 100, 50, 25, 10),
    "USD": (10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1),
}

REPORT_WORDS = {
    "sales": N_("Sales"),
    "refunds": N_("Refunds"),
    "discounts": N_("Discounts"),
    "tax": N_("Tax"),
    "orders": N_("Orders"),
    "expected_cash": N_("Expected cash"),
    "counted_cash": N_("Counted cash"),
    "difference": N_("Difference"),
    "cash": N_("Cash"),
    "card": N_("Card"),
    "wallet": N_("Member wallet"),
    "topups": N_("Wallet top-ups"),
    "float": N_("Opening float"),
    "voids": N_("Voids"),
}
_MONEYISH = (
    "sales",
    "refund",
    "discount",
    "tax",
    "cash",
    "card",
    "wallet",
    "topup",
    "spend",
    "float",
    "amount",
    "total",
    "expected",
    "counted",
    "difference",
    "net",
    "gross",
    "rounding",
    "change",
)


UPLOAD_ERRORS = {
    "HQ unreachable": N_("HQ unreachable"),
    "slow line": N_("slow line"),
    "answer lost": N_("answer lost"),
    "connection cut": N_("connection cut"),
    "refused": N_("refused"),
}


def upload_text(up: dict) -> str:
    """One line for the manager: how far the upload to HQ is (the store's health report)."""
    if not up.get("configured"):
        return _("Upload: not linked to HQ")
    n = up.get("backlog_events") or 0
    text = _("Upload: {n} events waiting").format(n=n) if n else _("Upload: up to date")
    if n and up.get("rate_events_s"):
        text += " · " + _("{rate} events/s, about {minutes} min left").format(
            rate=round(up["rate_events_s"]), minutes=max(1, round((up.get("eta_s") or 0) / 60))
        )
    if n and up.get("in_flight"):
        text += " · " + _("sending {events} events").format(events=up["in_flight"]["events"])
    if up.get("last_error"):
        kind = up.get("last_error_kind")
        text += " · " + _("last error: {error}").format(
            error=_(UPLOAD_ERRORS[kind]) if kind in UPLOAD_ERRORS else up["last_error"]
        )
    return text


def flatten_report(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(flatten_report(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(flatten_report(v, f"{prefix}[{i}]"))
    else:
        out.append((prefix, data))
    return out


def report_warning(data: Any) -> str:
    """What a report's reader must know: it lags the journal, or events are missing from it."""
    if not isinstance(data, dict):
        return ""
    out = []
    if data.get("lagging"):
        out.append(
            _(
                "This report is behind the journal: it counts events up to no. {as_of} of "
                "{journal}. Show it again in a moment."
            ).format(
                as_of=i18n.number(int(data.get("as_of_seq") or 0)),
                journal=i18n.number(int(data.get("journal_seq") or 0)),
            )
        )
    if data.get("quarantined"):
        out.append(
            _(
                "{n} events could not be included in the reports and are missing from "
                "these figures. Ask for support."
            ).format(n=i18n.number(int(data["quarantined"])))
        )
    return " ".join(out)


class ManagerScreen(ttk.Frame):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        app.header(self, counter_title("manager"))
        self.tabs = ttk.Notebook(self, padding=6)
        self.tabs.pack(fill="both", expand=True)
        self.reports_tab = ttk.Frame(self.tabs, padding=8)
        self.day_tab = ttk.Frame(self.tabs, padding=8)
        self.staff_tab = ttk.Frame(self.tabs, padding=8)
        self.import_tab = ttk.Frame(self.tabs, padding=8)
        self.perm_tab = ttk.Frame(self.tabs, padding=8)
        for tab, label in (
            (self.reports_tab, T("Reports")),
            (self.day_tab, T("Business day")),
            (self.staff_tab, T("Staff")),
            (self.perm_tab, T("Permissions")),
            (self.import_tab, T("Product import")),
        ):
            self.tabs.add(tab, text=label)
        self._reports()
        self._day()
        self._staff()
        self._permissions()
        self._import()

    # ---------------------------------------------------------------- reports
    def _reports(self) -> None:
        app, f = self.app, self.reports_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.report_buttons = {}
        for key, label, kind, scope in (
            ("x_till", T("X report: this till"), "x", "till"),
            ("x_store", T("X report: store"), "x", "store"),
            ("z_till", T("Z report: this till"), "z", "till"),
            ("z_store", T("Z report: store"), "z", "store"),
        ):
            b = ttk.Button(
                row,
                text=label,
                bootstyle="info",
                command=lambda k=kind, s=scope: self.load_report(k, s),
            )
            b.pack(side=app.side("left"), padx=4)
            self.report_buttons[key] = b
        self.report_title = ttk.Label(f, text="", font=app.mid_font)
        self.report_title.pack(anchor=app.text_anchor, pady=6)
        self.report_warning = ttk.Label(f, text="", bootstyle="danger", wraplength=900)
        self.report_warning.pack(anchor=app.text_anchor)
        self.report_tree = ttk.Treeview(f, columns=("item", "value"), show="headings", height=16)
        self.report_tree.heading("item", text=T("Item"), anchor=app.text_anchor)
        self.report_tree.heading("value", text=T("Value"), anchor="e")
        self.report_tree.column("item", width=420, anchor=app.text_anchor)
        self.report_tree.column("value", width=220, anchor="e")
        if app.rtl:
            self.report_tree.configure(displaycolumns=("value", "item"))
        self.report_tree.pack(fill="both", expand=True)
        self.upload_label = ttk.Label(f, text="")
        self.upload_label.pack(anchor=app.text_anchor, pady=(6, 0))
        self.load_upload()

    def load_upload(self) -> None:
        """The upload to HQ, from the store's health report, every 10 s while this screen lives."""

        def ok(health: dict) -> None:
            if self.winfo_exists():
                self.upload_label.configure(text=shown(upload_text(health.get("upload") or {})))

        if self.winfo_exists():
            self.app.worker.read(self.app.api.health, ok, lambda exc: None, "health")
            self.after(10_000, self.load_upload)

    def load_report(self, kind: str, scope: str) -> None:
        def ok(data: Any) -> None:
            if not self.winfo_exists():
                return
            title = _("X report") if kind == "x" else _("Z report")
            where = _("this till") if scope == "till" else _("store")
            self.report_title.configure(text=shown(f"{title} · {where}"))
            self.show_report(data)

        self.app.worker.read(lambda: self.app.api.report(kind, scope), ok, self.app.fail, "report")

    def show_report(self, data: Any) -> None:
        self.report_tree.delete(*self.report_tree.get_children())
        self.report_warning.configure(text=shown(report_warning(data)))
        cur = self.app.currency
        for key, value in flatten_report(data):
            last = key.split(".")[-1]
            label = _(REPORT_WORDS[last]) if last in REPORT_WORDS else key
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and any(w in key.lower() for w in _MONEYISH)
                and "count" not in last
            ):
                text = i18n.money(value, cur)
            elif isinstance(value, int) and not isinstance(value, bool):
                text = i18n.number(value)
            else:
                text = "" if value is None else str(value)
            self.report_tree.insert("", "end", values=(shown(label), shown(text)))

    # ---------------------------------------------------------------- business day
    def _day(self) -> None:
        app, f = self.app, self.day_tab
        self.day_state = ttk.Label(f, text="", font=app.mid_font)
        self.day_state.pack(anchor=app.text_anchor, pady=(0, 8))
        ttk.Label(f, text=T("Count the cash in the drawer:")).pack(anchor=app.text_anchor)
        grid = ttk.Frame(f)
        grid.pack(anchor=app.text_anchor, pady=4)
        self.count_entries: dict[int, ttk.Entry] = {}
        denoms = DENOMINATIONS.get(app.currency, ())
        digits = i18n.minor_digits(app.currency)
        for i, d in enumerate(denoms):
            cell = ttk.Frame(grid)
            cell.grid(
                row=i // 4, column=(3 - i % 4) if app.rtl else i % 4, padx=6, pady=2, sticky="e"
            )
            ttk.Label(cell, text=shown(i18n.money(d, app.currency)), width=12, anchor="e").pack(
                side=app.side("left")
            )
            e = ttk.Entry(cell, width=6)
            e.pack(side=app.side("left"))
            e.bind("<KeyRelease>", lambda ev: self.update_count())
            self.count_entries[d] = e
        if not denoms:
            self.count_total_entry = ttk.Entry(grid, width=14)
            self.count_total_entry.pack()
        self._digits = digits
        self.count_label = ttk.Label(f, text="", font=app.mid_font, bootstyle="primary")
        self.count_label.pack(anchor=app.text_anchor, pady=6)
        row = ttk.Frame(f)
        row.pack(anchor=app.text_anchor)
        self.open_button = ttk.Button(
            row, text=T("Open the day with this float"), bootstyle="success", command=self.open_day
        )
        self.open_button.pack(side=app.side("left"), padx=4)
        self.close_button = ttk.Button(
            row, text=T("Close the day with this count"), bootstyle="danger", command=self.close_day
        )
        self.close_button.pack(side=app.side("left"), padx=4)
        self.day_result = ttk.Label(f, text="", wraplength=800)
        self.day_result.pack(anchor=app.text_anchor, pady=8)
        self.update_count()
        self.load_day()

    def counted(self) -> int:
        if not self.count_entries:
            text = self.count_total_entry.get().strip()
            return to_minor(text, self.app.currency) if text else 0
        total = 0
        for d, e in self.count_entries.items():
            text = e.get().strip()
            if text:
                if not text.isdigit():
                    raise KassaError("input.bad_field", "counts are whole numbers")
                total += d * int(text)
        return total

    def update_count(self) -> None:
        try:
            total = self.counted()
            text = _("Counted: {amount}").format(amount=i18n.money(total, self.app.currency))
        except KassaError:
            text = _("Counts are whole numbers.")
        self.count_label.configure(text=shown(text))

    def load_day(self) -> None:
        def ok(day: Any) -> None:
            if not self.winfo_exists():
                return
            mine = (day.get("this_till") or {}) if isinstance(day, dict) else {}
            is_open = bool(mine.get("open")) if isinstance(mine, dict) else False
            self.day_state.configure(
                text=shown(_("The day is open.") if is_open else _("The day is closed."))
            )

        def err(exc: BaseException) -> None:
            if self.winfo_exists():
                from kiosk.errors import error_text

                self.day_state.configure(text=shown(error_text(exc)))

        self.app.worker.read(self.app.api.day, ok, err, "day")

    def _day_change(self, opening: bool) -> None:
        try:
            amount = self.counted()
        except KassaError as exc:
            self.app.fail(exc)
            return
        cid = new_id()
        client = self.app.api

        def ok(res: Any) -> None:
            if not self.winfo_exists():
                return
            if opening:
                self.day_result.configure(
                    text=shown(
                        _("Day opened with {amount}.").format(
                            amount=i18n.money(amount, self.app.currency)
                        )
                    )
                )
            else:
                z = (res or {}).get("z_report") if isinstance(res, dict) else {}
                z = z if isinstance(z, dict) else {}
                expected = z.get("expected_cash") if isinstance(z, dict) else None
                text = _("Day closed. Counted {amount}.").format(
                    amount=i18n.money(amount, self.app.currency)
                )
                if isinstance(expected, int):
                    text += " " + _("Expected {expected}, difference {diff}.").format(
                        expected=i18n.money(expected, self.app.currency),
                        diff=i18n.money(amount - expected, self.app.currency),
                    )
                self.day_result.configure(text=shown(text))
                if isinstance(z, dict) and z:
                    self.show_report(z)
            self.load_day()

        fn = (
            (lambda: client.day_open(cid, amount))
            if opening
            else (lambda: client.day_close(cid, amount))
        )
        self.app.worker.change(fn, ok, self.app.fail, "day")

    def open_day(self) -> None:
        self._day_change(True)

    def close_day(self) -> None:
        self._day_change(False)

    # ---------------------------------------------------------------- staff
    def _staff(self) -> None:
        app, f = self.app, self.staff_tab
        cols = ("staff", "name", "role", "language", "state")
        self.staff_tree = ttk.Treeview(f, columns=cols, show="headings", height=10)
        heads = {
            "staff": T("Staff number"),
            "name": T("Name"),
            "role": T("Role"),
            "language": T("Language"),
            "state": T("State"),
        }
        for c in cols:
            self.staff_tree.heading(c, text=heads[c], anchor=app.text_anchor)
            self.staff_tree.column(c, width=160, anchor=app.text_anchor)
        if app.rtl:
            self.staff_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.staff_tree.pack(fill="both", expand=True)
        form = ttk.Labelframe(f, text=T("Add or change a staff member"), padding=8)
        form.pack(fill="x", pady=6)
        self.staff_fields: dict[str, Any] = {}
        for key, label in (("staff", T("Staff number")), ("name", T("Name")), ("pin", T("PIN"))):
            ttk.Label(form, text=label).pack(side=app.side("left"), padx=(8, 2))
            e = ttk.Entry(form, width=12, show="•" if key == "pin" else "")
            e.pack(side=app.side("left"))
            self.staff_fields[key] = e
        self.role_var = ttk.StringVar(value="cashier")
        self.lang_var = ttk.StringVar(value="en")
        ttk.Combobox(
            form, textvariable=self.role_var, values=list(ROLE_NAMES), width=10, state="readonly"
        ).pack(side=app.side("left"), padx=6)
        ttk.Combobox(
            form,
            textvariable=self.lang_var,
            values=["en", "zh_CN", "th", "ar"],
            width=6,
            state="readonly",
        ).pack(side=app.side("left"), padx=6)
        row = ttk.Frame(f)
        row.pack(fill="x")
        ttk.Button(row, text=T("Save"), bootstyle="success", command=self.save_staff).pack(
            side=app.side("left"), padx=4
        )
        ttk.Button(
            row, text=T("Lock"), bootstyle="danger", command=lambda: self.lock_staff(True)
        ).pack(side=app.side("left"), padx=4)
        ttk.Button(
            row, text=T("Unlock"), bootstyle="warning", command=lambda: self.lock_staff(False)
        ).pack(side=app.side("left"), padx=4)
        ttk.Button(row, text=T("Refresh"), bootstyle="secondary", command=self.load_staff).pack(
            side=app.side("left"), padx=4
        )
        self.load_staff()

    def load_staff(self) -> None:
        def ok(rows: Any) -> None:
            if not self.winfo_exists():
                return
            self.staff_tree.delete(*self.staff_tree.get_children())
            for r in rows or []:
                if not isinstance(r, dict):
                    continue
                sid = str(r.get("staff") or r.get("id") or "")
                state = _("Locked") if r.get("locked") else _("Active")
                role = str(r.get("role") or "")
                self.staff_tree.insert(
                    "",
                    "end",
                    iid=sid,
                    values=(
                        sid,
                        shown(r.get("name", "")),
                        shown(_(ROLE_NAMES.get(role, role))),
                        r.get("language") or r.get("lang") or "",
                        shown(state),
                    ),
                )

        self.app.worker.read(self.app.api.staff_list, ok, self.app.fail, "staff")

    def save_staff(self) -> None:
        rec = {k: e.get().strip() for k, e in self.staff_fields.items()}
        rec = {
            "staff": rec["staff"],
            "name": rec["name"],
            "role": self.role_var.get(),
            "language": self.lang_var.get(),
            **({"pin": rec["pin"]} if rec["pin"] else {}),
        }
        if not rec["staff"]:
            self.app.notify(_("Enter a staff number."))
            return
        cid = new_id()

        def saved(res: Any) -> None:
            self.app.notify(_("Saved."), error=False)
            self.load_staff()

        self.app.worker.change(
            lambda: self.app.api.staff_save(cid, rec), saved, self.app.fail, "staff"
        )

    def lock_staff(self, locked: bool) -> None:
        sel = self.staff_tree.selection()
        if not sel:
            self.app.notify(_("Select a staff member first."))
            return
        cid = new_id()
        self.app.worker.change(
            lambda: self.app.api.staff_lock(cid, sel[0], locked),
            lambda res: self.load_staff(),
            self.app.fail,
            "staff",
        )

    # ---------------------------------------------------------------- permissions
    def _permissions(self) -> None:
        """Which roles may do each action; a manager allows or refuses one role at a time."""
        app, f = self.app, self.perm_tab
        self.perm_roles: list[str] = list(ROLE_NAMES)
        self.perm_table: dict[str, list[str]] = {}
        cols = ("action", *self.perm_roles)
        self.perm_tree = ttk.Treeview(f, columns=cols, show="headings", height=12)
        self.perm_tree.heading("action", text=T("Action"), anchor=app.text_anchor)
        self.perm_tree.column("action", width=260, anchor=app.text_anchor)
        for r in self.perm_roles:
            self.perm_tree.heading(r, text=shown(_(ROLE_NAMES[r])), anchor="center")
            self.perm_tree.column(r, width=110, anchor="center")
        if app.rtl:
            self.perm_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.perm_tree.pack(fill="both", expand=True)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=6)
        self.perm_role_var = ttk.StringVar(value="cashier")
        ttk.Combobox(
            row, textvariable=self.perm_role_var, values=self.perm_roles, width=12, state="readonly"
        ).pack(side=app.side("left"), padx=6)
        self.perm_allow = ttk.Button(
            row,
            text=T("Allow for this role"),
            bootstyle="success",
            command=lambda: self.set_permission(True),
        )
        self.perm_allow.pack(side=app.side("left"), padx=4)
        self.perm_refuse = ttk.Button(
            row,
            text=T("Refuse for this role"),
            bootstyle="danger",
            command=lambda: self.set_permission(False),
        )
        self.perm_refuse.pack(side=app.side("left"), padx=4)
        self.load_permissions()

    def load_permissions(self) -> None:
        def ok(data: Any) -> None:
            if not self.winfo_exists():
                return
            actions = (data or {}).get("actions") or {}
            self.perm_table = {a: list(v.get("roles") or []) for a, v in actions.items()}
            self.perm_tree.delete(*self.perm_tree.get_children())
            for a in sorted(self.perm_table):
                self.perm_tree.insert(
                    "",
                    "end",
                    iid=a,
                    values=(a, *("✓" if r in self.perm_table[a] else "–" for r in self.perm_roles)),
                )

        self.app.worker.read(self.app.api.permissions, ok, self.app.fail, "permissions")

    def set_permission(self, allow: bool) -> None:
        sel = self.perm_tree.selection()
        if not sel:
            self.app.notify(_("Select an action first."))
            return
        action, role = sel[0], self.perm_role_var.get()
        roles = set(self.perm_table.get(action, []))
        roles = roles | {role} if allow else roles - {role}
        cid = new_id()

        def saved(res: Any) -> None:
            self.app.notify(_("Saved."), error=False)
            self.load_permissions()

        self.app.worker.change(
            lambda: self.app.api.permissions_set(cid, action, sorted(roles)),
            saved,
            self.app.fail,
            "permissions",
        )

    # ---------------------------------------------------------------- product import
    def _import(self) -> None:
        app, f = self.app, self.import_tab
        row = ttk.Frame(f)
        row.pack(fill="x")
        ttk.Label(row, text=T("CSV or XLSX file")).pack(side=app.side("left"))
        self.import_path = ttk.Entry(row, width=50)
        self.import_path.pack(side=app.side("left"), padx=6, fill="x", expand=True)
        ttk.Button(row, text=T("Choose…"), bootstyle="secondary", command=self.choose_file).pack(
            side=app.side("left"), padx=2
        )
        self.preview_button = ttk.Button(
            row, text=T("Preview"), bootstyle="info", command=self.preview_import
        )
        self.preview_button.pack(side=app.side("left"), padx=2)
        cols = ("row", "sku", "name", "price", "error")
        self.import_tree = ttk.Treeview(f, columns=cols, show="headings", height=14)
        heads = {
            "row": T("Row"),
            "sku": T("SKU"),
            "name": T("Name"),
            "price": T("Price"),
            "error": T("Error"),
        }
        for c in cols:
            self.import_tree.heading(c, text=heads[c], anchor=app.text_anchor)
            self.import_tree.column(
                c, width={"row": 60, "name": 300, "error": 320}.get(c, 110), anchor=app.text_anchor
            )
        if app.rtl:
            self.import_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.import_tree.tag_configure("bad", foreground="#c0392b")
        self.import_tree.pack(fill="both", expand=True, pady=6)
        self.import_summary = ttk.Label(f, text="")
        self.import_summary.pack(anchor=app.text_anchor)
        self.import_button = ttk.Button(
            f,
            text=T("Import the good rows"),
            bootstyle="success",
            command=self.send_import,
            state="disabled",
        )
        self.import_button.pack(anchor=app.text_anchor, pady=4)
        self.import_rows: list = []

    def choose_file(self) -> None:
        from tkinter import filedialog

        path = filedialog.askopenfilename(
            parent=self, filetypes=[("CSV / XLSX", "*.csv *.xlsx"), ("*", "*")]
        )
        if path:
            self.import_path.delete(0, "end")
            self.import_path.insert(0, path)
            self.preview_import()

    def preview_import(self) -> None:
        from kiosk.importer import load

        path = self.import_path.get().strip()
        if not path:
            return
        cur = self.app.currency
        taxes = self.app.store.get("tax_classes")

        def ok(rows: list) -> None:
            if not self.winfo_exists():
                return
            self.import_rows = rows
            self.import_tree.delete(*self.import_tree.get_children())
            for r in rows[:2000]:  # a page is enough to check; all good rows are sent
                p = r.product or {}
                name = (
                    (p.get("names") or {}).get("en")
                    or r.raw.get("name_en")
                    or r.raw.get("name", "")
                )
                price = i18n.money(p["price"], cur) if p else r.raw.get("price", "")
                self.import_tree.insert(
                    "",
                    "end",
                    values=(
                        i18n.number(r.row),
                        r.raw.get("sku", ""),
                        shown(name),
                        shown(price),
                        r.error_code + (": " + r.error if r.error else ""),
                    ),
                    tags=("bad",) if r.product is None else (),
                )
            good = sum(1 for r in rows if r.product is not None)
            self.import_summary.configure(
                text=shown(
                    _("{good} rows ready, {bad} rows with errors.").format(
                        good=i18n.number(good), bad=i18n.number(len(rows) - good)
                    )
                )
            )
            self.import_button.configure(state="normal" if good else "disabled")

        self.app.worker.read(
            lambda: load(path, cur, taxes, self.app.store.get("limits")),
            ok,
            self.app.fail,
            "import",
        )

    def send_import(self) -> None:
        products = [r.product for r in self.import_rows if r.product is not None]
        if not products:
            return
        cid = new_id()
        source = Path(self.import_path.get().strip()).name[:100] or "import"
        self.import_button.configure(state="disabled")

        def ok(res: Any) -> None:
            self.app.notify(
                _("{n} products imported.").format(n=i18n.number(len(products))), error=False
            )

        self.app.worker.change(
            lambda: self.app.api.import_products(cid, products, source), ok, self.app.fail, "import"
        )
