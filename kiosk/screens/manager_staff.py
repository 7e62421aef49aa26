"""The manager counter's staff and permissions tabs: staff members (add, change, lock) and
which roles may do each action. Part of ``ManagerScreen``."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk.client import new_id
from kiosk.i18n import T, _, shown
from kiosk.staff import ROLE_NAMES

__all__ = ["StaffTab"]


class StaffTab(ttk.Frame):
    """The staff and permissions tabs' widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    staff_tab: ttk.Frame
    perm_tab: ttk.Frame

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
