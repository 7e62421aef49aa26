"""The manager counter's staff and permissions tabs: staff members (add, change, lock) and
which roles may do each action. Part of ``ManagerScreen``.

Selecting a staff row loads every field of that account into the form; Save sends only the fields
that were edited (a new PIN only when one is typed), so nothing changes that was not edited. A new
account is explicit: "New" clears the form and frees the staff number field."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.staff_rules import LANGUAGES
from kiosk.client import new_id
from kiosk.i18n import LANG_NAMES, T, _, base, shown
from kiosk.rtl_entry import RtlEntry
from kiosk.staff import ROLE_NAMES, action_label, role_label
from kiosk.widgets import text_width

__all__ = ["StaffTab", "changes"]

BUTTON_PAD = (14, 12)  # a ttk button this padded is ≥ 48 px tall at the till's fonts


def changes(loaded: dict[str, Any], form: dict[str, str]) -> dict[str, str]:
    """What the form changes in the ``loaded`` account: the edited fields only (a PIN if typed)."""
    out = {
        k: form[k]
        for k in ("name", "role", "language")
        if form.get(k) and form[k] != str(loaded.get(k) or "")
    }
    if form.get("pin"):
        out["pin"] = form["pin"]
    return out


class StaffTab(ttk.Frame):
    """The staff and permissions tabs' widgets and actions (a part of ``ManagerScreen``)."""

    app: Any
    staff_tab: ttk.Frame
    perm_tab: ttk.Frame

    def _tree(self, parent: ttk.Frame, cols: tuple[str, ...], heads: dict[str, str]) -> Any:
        app = self.app
        tree = ttk.Treeview(parent, columns=cols, show="headings", height=10)
        for c in cols:
            tree.heading(c, text=heads[c], anchor=app.text_anchor)
            tree.column(c, width=120, anchor=app.text_anchor)
        if app.rtl:
            tree.configure(displaycolumns=tuple(reversed(cols)))
        tree.pack(fill="both", expand=True)
        return tree

    def _button(self, row: ttk.Frame, text: str, style: str, cmd: Any) -> ttk.Button:
        b = ttk.Button(
            row, text=text, bootstyle=style, command=cmd, takefocus=False, padding=BUTTON_PAD
        )
        b.pack(side=self.app.side("left"), padx=4)
        return b

    def _choice(self, parent: ttk.Frame, label: str, names: list[str]) -> ttk.Combobox:
        app = self.app
        ttk.Label(parent, text=label).pack(side=app.side("left"), padx=(8, 2))
        box = ttk.Combobox(
            parent,
            values=names,
            width=15,
            state="readonly",
            font=app.mid_font,
            justify="right" if app.rtl else "left",
        )
        box.pack(side=app.side("left"), padx=4)
        return box

    # ---------------------------------------------------------------- staff
    def _staff(self) -> None:
        app, f = self.app, self.staff_tab
        self.staff_rows: dict[str, dict[str, Any]] = {}
        self.loaded: dict[str, Any] | None = None  # the account in the form; None: a new one
        self.staff_tree = self._tree(
            f,
            ("staff", "name", "role", "language", "state"),
            {
                "staff": T("Staff number"),
                "name": T("Name"),
                "role": T("Role"),
                "language": T("Language"),
                "state": T("State"),
            },
        )
        self.staff_tree.bind("<<TreeviewSelect>>", lambda e: self.load_selected())
        self.staff_form = ttk.Labelframe(
            f, text=T("New staff member"), padding=8, labelanchor="ne" if app.rtl else "nw"
        )
        self.staff_form.pack(fill="x", pady=6)
        line = ttk.Frame(self.staff_form)
        line.pack(fill="x")
        self.staff_fields: dict[str, Any] = {}
        for key, label in (("staff", T("Staff number")), ("name", T("Name")), ("pin", T("PIN"))):
            ttk.Label(line, text=label).pack(side=app.side("left"), padx=(8, 2))
            kind = RtlEntry if key == "name" else ttk.Entry
            width = 18 if key == "name" else 8
            e = kind(line, width=width, font=app.mid_font, show="•" if key == "pin" else "")
            e.pack(side=app.side("left"), fill="x", expand=key == "name")
            self.staff_fields[key] = e
        line = ttk.Frame(self.staff_form)
        line.pack(fill="x", pady=(6, 0))
        self.roles: list[str] = list(ROLE_NAMES)
        self.languages: list[str] = list(LANGUAGES)
        self.role_box = self._choice(line, T("Role"), [shown(role_label(r)) for r in self.roles])
        self.lang_box = self._choice(
            line, T("Language"), [shown(LANG_NAMES[base(x)]) for x in self.languages]
        )
        row = ttk.Frame(f)
        row.pack(fill="x")
        self.staff_buttons = {
            "new": self._button(row, T("New"), "info", self.new_staff),
            "save": self._button(row, T("Save"), "success", self.save_staff),
            "lock": self._button(row, T("Lock"), "danger", lambda: self.lock_staff(True)),
            "unlock": self._button(row, T("Unlock"), "warning", lambda: self.lock_staff(False)),
            "refresh": self._button(row, T("Refresh"), "secondary", self.load_staff),
        }
        self.new_staff()
        self.load_staff()

    def form_values(self) -> dict[str, str]:
        """What the form holds, as the store names it (role and language ids)."""
        rec = {k: e.get().strip() for k, e in self.staff_fields.items()}
        r, lang = self.role_box.current(), self.lang_box.current()
        rec["role"] = self.roles[r] if 0 <= r < len(self.roles) else ""
        rec["language"] = self.languages[lang] if 0 <= lang < len(self.languages) else ""
        return rec

    def new_staff(self) -> None:
        """Clear the form for a new account (the staff number can be typed)."""
        self.loaded = None
        if self.staff_tree.selection():
            self.staff_tree.selection_remove(*self.staff_tree.selection())
        self._fill({"role": "cashier", "language": "en"})
        self.staff_form.configure(text=T("New staff member"))

    def _fill(self, rec: dict[str, Any]) -> None:
        fields = self.staff_fields
        fields["staff"].configure(state="normal")
        for key in ("staff", "name", "pin"):
            fields[key].delete(0, "end")
            if key != "pin":
                fields[key].insert(0, str(rec.get(key) or ""))
        role = str(rec.get("role") or "")
        if role and role not in self.roles:  # a role this till has no name for
            self.roles.append(role)
            self.role_box.configure(values=[shown(role_label(r)) for r in self.roles])
        self.role_box.current(self.roles.index(role) if role else 0)
        lang = str(rec.get("language") or "en")
        self.lang_box.current(self.languages.index(lang) if lang in self.languages else 0)
        if self.loaded is not None:
            fields["staff"].configure(state="readonly")

    def load_selected(self) -> None:
        sel = self.staff_tree.selection()
        rec = self.staff_rows.get(sel[0]) if sel else None
        if rec is None:
            return
        self.loaded = dict(rec)
        self._fill(rec)
        self.staff_form.configure(
            text=shown(_("Change {name}").format(name=rec.get("name") or rec["staff"]))
        )

    def load_staff(self, select: str = "") -> None:
        def ok(rows: Any) -> None:
            if not self.winfo_exists():
                return
            tree = self.staff_tree
            keep = select or (self.loaded or {}).get("staff", "")
            tree.delete(*tree.get_children())
            self.staff_rows = {}
            for r in rows or []:
                if not isinstance(r, dict):
                    continue
                sid = str(r.get("staff") or r.get("id") or "")
                r = {**r, "staff": sid, "language": r.get("language") or r.get("lang") or ""}
                self.staff_rows[sid] = r
                state = _("Locked") if r.get("locked") else _("Active")
                lang = str(r["language"])
                tree.insert(
                    "",
                    "end",
                    iid=sid,
                    values=(
                        sid,
                        shown(r.get("name", "")),
                        shown(role_label(str(r.get("role") or ""))),
                        shown(LANG_NAMES[base(lang)]) if lang else "",
                        shown(state),
                    ),
                )
            if keep in self.staff_rows:
                tree.selection_set(keep)
                tree.see(keep)
                self.load_selected()

        self.app.worker.read(self.app.api.staff_list, ok, self.app.fail, "staff")

    def save_staff(self) -> None:
        form = self.form_values()
        if self.loaded is None:  # a new account: everything it needs
            if not form["staff"] or not form["name"] or not form["pin"]:
                self.app.notify(_("Enter a staff number, a name and a PIN."))
                return
            rec: dict[str, Any] = {k: form[k] for k in ("staff", "name", "role", "language", "pin")}
        else:
            edits = changes(self.loaded, form)
            if not edits:
                self.app.notify(_("Nothing to save: nothing was changed."), error=False)
                return
            rec = {"staff": self.loaded["staff"], **edits}
        cid = new_id()
        staff = rec["staff"]

        def saved(res: Any) -> None:
            self.app.notify(_("Saved."), error=False)
            self.load_staff(select=staff)

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
            lambda res: self.load_staff(select=sel[0]),
            self.app.fail,
            "staff",
        )

    # ---------------------------------------------------------------- permissions
    def _permissions(self) -> None:
        """Which roles may do each action; a manager allows or refuses one role at a time."""
        f = self.perm_tab
        self.perm_roles: list[str] = list(ROLE_NAMES)
        self.perm_table: dict[str, list[str]] = {}
        heads = {"label": T("Action")}
        heads.update({r: shown(role_label(r)) for r in self.perm_roles})
        self.perm_tree = self._tree(f, ("label", *self.perm_roles), heads)
        self.perm_tree.column("label", width=320, stretch=True)
        for r in self.perm_roles:  # wide enough for the role's name in this language
            need = text_width("TkHeadingFont", heads[r]) + 32
            self.perm_tree.column(r, width=max(100, need), anchor="center", stretch=False)
        row = ttk.Frame(f)
        row.pack(fill="x", pady=6)
        self.perm_role_box = self._choice(
            row, T("Role"), [shown(role_label(r)) for r in self.perm_roles]
        )
        self.perm_role_box.current(0)
        self.perm_allow = self._button(
            row, T("Allow for this role"), "success", lambda: self.set_permission(True)
        )
        self.perm_refuse = self._button(
            row, T("Refuse for this role"), "danger", lambda: self.set_permission(False)
        )
        self.load_permissions()

    def load_permissions(self) -> None:
        def ok(data: Any) -> None:
            if not self.winfo_exists():
                return
            actions = (data or {}).get("actions") or {}
            self.perm_table = {a: list(v.get("roles") or []) for a, v in actions.items()}
            self.perm_tree.delete(*self.perm_tree.get_children())
            for a in sorted(self.perm_table, key=action_label):
                marks = ("✓" if r in self.perm_table[a] else "–" for r in self.perm_roles)
                self.perm_tree.insert("", "end", iid=a, values=(shown(action_label(a)), *marks, a))

        self.app.worker.read(self.app.api.permissions, ok, self.app.fail, "permissions")

    def set_permission(self, allow: bool) -> None:
        sel = self.perm_tree.selection()
        if not sel:
            self.app.notify(_("Select an action first."))
            return
        action, role = sel[0], self.perm_roles[max(0, self.perm_role_box.current())]
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
