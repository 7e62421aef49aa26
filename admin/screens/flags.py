"""HQ's flags inbox (issue 19): suspicious orders the stores' rules flagged, from the events
they upload (``GET /v1/hq/flags?status=&lang=``, ``cloud.hqflags``), with the evidence in words in
the reader's language; acknowledge or dismiss with a note
(``POST /v1/hq/flags/{store}/{flag}/ack|dismiss``)."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.hqclient import path_of
from admin.screens.base import Screen, Table, rows_of
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown

__all__ = ["FlagsScreen", "STATUSES"]

STATUSES = {"open": N_("Open"), "acknowledged": N_("Acknowledged"), "dismissed": N_("Dismissed")}


def order_text(order_id: object) -> str:
    """The order a flag is about; a drawer flag (``drawer-<staff>-<day>``) has none to open."""
    text = str(order_id or "")
    return "—" if not text or text.startswith("drawer-") else shown(text)


def local_text(iso: object) -> str:
    """The store's local time of a flag (``2026-11-30T15:05:12+07:00``) as ``2026-11-30 15:05``."""
    return str(iso or "").replace("T", " ")[:16]


class FlagsScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Flags"))
        side = app.side("left")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Show")).pack(side=side, padx=(0, 4))
        self.status = ttk.Combobox(bar, state="readonly", width=14)
        self.status.configure(values=[shown(_(t)) for t in STATUSES.values()])
        self.status.current(0)
        self.status.pack(side=side, padx=(0, 8))
        self.status.bind("<<ComboboxSelected>>", lambda _e: self.load())
        self.note = ttk.Entry(bar, width=24)
        if app.can("flags.act"):  # a role that may only read has no note to write
            ttk.Label(bar, text=T("Note")).pack(side=side, padx=(8, 4))
            self.note.pack(side=side, padx=(0, 8), ipady=4)
        act = self.action
        self.ack_button = act(
            bar, N_("Acknowledge"), "flags.act", lambda: self.act("ack"), explain=False
        )
        self.dismiss_button = act(
            bar, N_("Dismiss"), "flags.act", lambda: self.act("dismiss"), "secondary"
        )
        self.table = Table(
            self,
            [
                ("local_time", N_("When"), 19),
                ("store", N_("Store"), 7),
                ("rule_name", N_("Rule"), 13),
                ("order_id", N_("Order"), 10),
                ("staff", N_("Staff"), 11),
                ("till", N_("Till"), 10),
                ("words", N_("What was seen"), 28),
                ("by", N_("Acted by"), 10),
                ("note", N_("Note"), 12),
            ],
            fmt={"order_id": lambda v: order_text(v)[:8], "local_time": local_text},
            height=14,
            rtl=app.rtl,
        )
        # the chosen flag in full (the table's columns cut long sentences)
        self.detail = ttk.Label(
            self,
            text="",
            justify="right" if app.rtl else "left",
            anchor="e" if app.rtl else "w",
            wraplength=max(400, app.window_size[0] - 260),
        )
        self.detail.pack(side="bottom", fill="x", pady=(4, 0))
        self.table.pack(fill="both", expand=True, pady=4)
        self.table.tree.bind("<<TreeviewSelect>>", lambda _e: self.show_detail())
        self.load()

    def load(self) -> None:
        status = list(STATUSES)[max(0, self.status.current())]
        lang = i18n.current()
        self.app.call(
            lambda: self.app.api.get("/v1/hq/flags", status=status, lang=lang),
            self.show,
            label="flags",
        )

    def show(self, res: Any) -> None:
        if not self.winfo_exists():
            return
        acted = self.status.current() > 0  # who acted and the note: only once someone has
        self.table.show_only([k for k in self.table.cols if acted or k not in ("by", "note")])
        self.table.fill(rows_of(res, "flags"))
        self.show_detail()

    def show_detail(self) -> None:
        row = self.table.selected()
        if row is None:
            self.detail.configure(text="")
            return
        parts = (local_text(row.get("local_time")), row.get("rule_name"), row.get("store"))
        more = (order_text(row.get("order_id")), row.get("staff"), row.get("till"))
        head = " · ".join(shown(str(p)) for p in (*parts, *more) if p)
        self.detail.configure(text=f"{head}\n{shown(str(row.get('words') or ''))}")

    def act(self, what: str) -> None:
        row = self.table.selected()
        if row is None:
            self.say(_("Choose a row first."), error=True)
            return
        if what == "dismiss" and not self.note.get().strip():
            self.say(_("Write a note saying why it is dismissed."), error=True)
            return
        flag = row.get("flag_id") or row.get("id") or ""
        path = path_of("/v1/hq/flags/{store}/{flag}/" + what, store=row.get("store", ""), flag=flag)
        body = {"note": self.note.get().strip()}
        text = _("Flag acknowledged.") if what == "ack" else _("Flag dismissed.")
        self.app.call(lambda: self.app.api.post(path, body), self.done(text), label=what)
