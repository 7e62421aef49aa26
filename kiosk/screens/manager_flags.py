"""The manager counter's flags inbox: every anomaly flag with its rule, order, staff, till and time,
the evidence in words with money formatted in the reader's language, filters (state, rule), and the
actions — acknowledge, dismiss with a note, freeze and unfreeze the order (each journaled by the
store). Part of ``ManagerScreen``; ``describe`` is the evidence sentence (pure, tested alone)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import ttkbootstrap as ttk

from analytics import flag_words
from analytics.flag_words import RULE_NAMES, STATE_NAMES
from kiosk import i18n
from kiosk.client import new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import TOUCH_PX

__all__ = ["FlagsTab", "describe", "RULE_NAMES", "STATE_NAMES"]


def _t(msg: str) -> str:
    """A message held in a table (marked with ``N_``), translated and prepared for display."""
    return shown(_(msg))


def describe(flag: dict[str, Any], currency: str, lang: str | None = None) -> str:
    """The evidence of ``flag`` as one sentence in the current language (or ``lang``), money
    formatted (``analytics.flag_words.describe``, shared with HQ's inbox)."""
    lang = lang or i18n.current()
    g = _ if i18n.base(lang) == i18n.current() else flag_words.translator(lang)
    return flag_words.describe(flag, currency, lang, g)


def _short(order_id: str) -> str:
    """An order's id cut to its first 8 characters; a top-up or a cashier's drawer day whole."""
    return order_id[:8] if len(order_id) == 36 else order_id


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
        widths = (220, 230, 90, 100, 100, 110)
        self.flag_tree = ttk.Treeview(f, columns=cols, show="headings", height=8)
        for c, h, w in zip(cols, heads, widths, strict=True):
            self.flag_tree.heading(c, text=h, anchor=app.text_anchor)
            self.flag_tree.column(c, width=w, anchor=app.text_anchor, stretch=c == "rule")
        if app.rtl:
            self.flag_tree.configure(displaycolumns=tuple(reversed(cols)))
        self.flag_tree.pack(fill="both", expand=True)
        self.flag_tree.bind("<<TreeviewSelect>>", lambda _e: self._show_flag())
        self.flag_text = ttk.Label(
            f,
            text="",
            wraplength=600,
            justify=app.side("left"),
            anchor=app.text_anchor,
            font=("TkDefaultFont", 13),
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
                        _short(str(r.get("order_id") or "")),
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
