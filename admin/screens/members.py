"""HQ's members chain-wide (``cloud.members``): find one by card, phone or name
(``GET /v1/hq/members?q=``), see their balances — wallet and points: the chain's total, what HQ's
pool holds, each store's float, what is in transit — and each store's tier for them
(``GET /v1/hq/members/{m}/tiers``). Import a CSV or XLSX file (the good rows are taken, the bad
ones listed with their row number and why: ``admin.screens.members_io``) and export every member.
"""

from __future__ import annotations

from pathlib import Path
from tkinter import filedialog
from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table, money_text, rows_of
from admin.screens.io import TYPES, format_of
from admin.screens.members_io import Importer, problem_text
from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.rtl_entry import RtlEntry

__all__ = ["MembersScreen", "store_rows"]

SEARCH_DELAY_MS = 300
KINDS = {"wallet": N_("Wallet"), "points": N_("Points")}


def store_rows(member: dict[str, Any], tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per store the member holds a float at or has a tier from: its wallet and points
    floats, its tier (by that store's rules) and the member's orders and spend there."""
    by: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        for store, held in ((member.get(kind) or {}).get("floats") or {}).items():
            by.setdefault(store, {"store": store})[kind] = held
    for t in tiers:
        by.setdefault(t["store"], {"store": t["store"]}).update(
            {k: t.get(k) for k in ("tier", "discount_bp", "visits", "spend")}
        )
    return [by[s] for s in sorted(by)]


class MembersScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Members"))
        side = app.side("left")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Card, phone or name")).pack(side=side, padx=(0, 4))
        self.search = RtlEntry(bar, width=24)
        self._listed = ("", "")  # an import's note naming the bad rows below, and it without them
        self.search.pack(side=side, padx=(0, 8), ipady=6)
        self.search.bind("<KeyRelease>", self._typed)
        self.search.bind("<Return>", lambda _e: self.load())
        self.action(bar, N_("Find"), "members.read", self.load, "secondary")
        files = self.toolbar()
        self.import_button = self.action(files, N_("Import…"), "members.import", self.choose)
        self.action(files, N_("Export CSV…"), "members.read", lambda: self.export("csv"), "info")
        self.action(files, N_("Export XLSX…"), "members.read", lambda: self.export("xlsx"), "info")
        # how an import or export goes, beside its buttons (packed only while one runs)
        self.progress = ttk.Progressbar(files, length=160, maximum=1, value=0)
        self.status = ttk.Label(files, text="", anchor=app.text_anchor, justify=app.side("left"))
        self.status.configure(wraplength=max(300, app.window_size[0] - 760))
        self.status.pack(side=side, fill="x", expand=True, padx=(6, 0))
        self.table = Table(
            self,
            [
                ("member", N_("Member"), 9),
                ("name", N_("Name"), 16),
                ("phone", N_("Phone"), 11),
                ("card", N_("Card"), 12),
                ("home", N_("Home store"), 7),
                ("wallet", N_("Wallet"), 10),
                ("points", N_("Points"), 7),
            ],
            fmt={
                "wallet": lambda v: money_text((v or {}).get("balance", 0), app.currency),
                "points": lambda v: shown(i18n.number((v or {}).get("balance", 0))),
            },
            height=5,
            rtl=app.rtl,
        )
        self.below = ttk.Frame(self)  # the chosen member, or an import's bad rows
        self.below.pack(side="bottom", fill="x")  # kept whole; the list above gives way
        self.table.pack(fill="both", expand=True, pady=4)
        self.table.tree.bind("<<TreeviewSelect>>", lambda _e: self.show_member())
        self.detail = ttk.Frame(self.below)
        self.heading = ttk.Label(
            self.detail, text="", font=(*app.base_font, "bold"), anchor=app.text_anchor
        )
        self.heading.pack(fill="x")
        self.balances = Table(
            self.detail,
            [
                ("kind", N_("Balance"), 8),
                ("balance", N_("Chain-wide"), 11),
                ("pool", N_("At HQ"), 11),
                ("stores", N_("In stores"), 11),
                ("in_transit", N_("In transit"), 11),
            ],
            fmt={k: str for k in ("kind", "balance", "pool", "stores", "in_transit")},
            height=2,
            rtl=app.rtl,
        )
        self.balances.pack(fill="x", pady=(2, 4))
        self.stores = Table(
            self.detail,
            [
                ("store", N_("Store"), 7),
                ("wallet", N_("Wallet here"), 11),
                ("points", N_("Points here"), 9),
                ("tier", N_("Tier"), 10),
                ("visits", N_("Orders here"), 8),
                ("spend", N_("Spend here"), 11),
            ],
            fmt={
                "wallet": lambda v: money_text(v or 0, app.currency),
                "spend": lambda v: money_text(v or 0, app.currency),
                "points": lambda v: shown(i18n.number(v or 0)),
                "tier": lambda v: shown(v) if v else "—",
            },
            height=3,
            rtl=app.rtl,
        )
        self.stores.pack(fill="x")
        self.problems = Table(
            self.below,
            [("row", N_("Row"), 5), ("member", N_("Member"), 10), ("error", N_("Problem"), 44)],
            fmt={"error": lambda v: shown(problem_text(str(v or "")))},
            height=6,
            rtl=app.rtl,
        )
        self._pending: str | None = None
        self._asked = 0
        self.importer: Importer | None = None
        self.load()
        self.search.focus_set()

    # ------------------------------------------------------------ finding
    def _typed(self, _event: Any = None) -> None:
        if self._pending is not None:
            self.after_cancel(self._pending)
        self._pending = self.after(SEARCH_DELAY_MS, self.load)

    def load(self) -> None:
        self._pending = None
        q = self.search.get().strip()
        self._asked += 1
        asked = self._asked
        self.app.call(
            lambda: self.app.api.members(q), lambda res: self.show(res, asked), label="members"
        )

    def show(self, res: Any, asked: int = 0) -> None:
        if not self.winfo_exists() or (asked and asked != self._asked):
            return  # an older search answered after a newer one was asked
        rows = rows_of(res, "members")
        self.table.fill(rows)
        if len(rows) == 1:
            self.table.tree.selection_set("0")  # one found: its balances at once
        none = T("No member found.")
        if not rows:
            self.status.configure(text=none, bootstyle="default")
        elif self.status.cget("text") == none:
            self.status.configure(text="")

    def show_member(self) -> None:
        row = self.table.selected()
        if row is None:
            return
        self.problems.pack_forget()
        self.detail.pack(fill="x")
        if self._listed[0] and self.status.cget("text") == self._listed[0]:
            self.status.configure(text=self._listed[1])  # the bad rows are no longer below
        words = [row.get("name"), row.get("member"), row.get("card"), row.get("phone")]
        self.heading.configure(text=shown(" · ".join(str(w) for w in words if w)))
        self.balances.fill([self._balance(kind, row.get(kind) or {}) for kind in KINDS])
        self.stores.fill(store_rows(row, []))
        member = str(row.get("member") or "")
        self.app.call(
            lambda: self.app.api.member_tiers(member),
            lambda res: self._tiers(member, res),
            label="tiers",
        )

    def _balance(self, kind: str, b: dict[str, Any]) -> dict[str, str]:
        """A balance row in words (the wallet in money, points as a number)."""
        amounts = {
            "balance": b.get("balance", 0),
            "pool": b.get("pool", 0),
            "stores": sum((b.get("floats") or {}).values()),
            "in_transit": b.get("in_transit", 0),
        }
        if kind == "wallet":
            out = {k: money_text(v, self.app.currency) for k, v in amounts.items()}
        else:
            out = {k: shown(i18n.number(int(v))) for k, v in amounts.items()}
        return {"kind": shown(_(KINDS[kind])), **out}

    def _tiers(self, member: str, res: Any) -> None:
        row = self.table.selected()
        if not self.winfo_exists() or row is None or row.get("member") != member:
            return
        self.stores.fill(store_rows(row, rows_of(res, "tiers")))

    # ------------------------------------------------------------ import and export
    def choose(self) -> None:
        path = filedialog.askopenfilename(parent=self, filetypes=TYPES)
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        """Send the file's rows in parts, the bar showing how far; bad rows listed at the end."""
        self.import_button.configure(state="disabled")
        self.progress.configure(mode="determinate", maximum=1, value=0)
        self.progress.pack(side=self.app.side("left"), padx=(0, 8), before=self.status)
        self.status.configure(text=T("Reading the file…"), bootstyle="default")
        self.importer = Importer(self, path)
        self.importer.start()

    def imported(self, taken: int, bad: list[dict[str, Any]]) -> None:
        """The end of an import: how many were taken; the bad rows in the table below."""
        self.importer = None
        self.progress.pack_forget()
        self.import_button.configure(
            state="normal" if self.app.can("members.import") else "disabled"
        )
        text = _("{n} members imported.").format(n=i18n.number(taken))
        self._listed = ("", "")
        if bad:
            many = _("Rows not imported: {n} (listed below).").format(n=i18n.number(len(bad)))
            self._listed = (shown(text + " " + many), shown(text))
            text += " " + many
            self.detail.pack_forget()
            self.problems.pack(fill="x", pady=(4, 0))
        self.problems.fill(bad)
        self.status.configure(text=shown(text), bootstyle="danger" if bad else "success")
        self.load()

    def import_failed(self, exc: BaseException) -> None:
        self.importer = None
        self.progress.pack_forget()
        self.import_button.configure(
            state="normal" if self.app.can("members.import") else "disabled"
        )
        self.app.fail(exc)

    def export(self, fmt: str) -> None:
        path = filedialog.asksaveasfilename(
            parent=self, defaultextension="." + fmt, filetypes=TYPES, initialfile="members." + fmt
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        self.progress.configure(mode="indeterminate")
        self.progress.pack(side=self.app.side("left"), padx=(0, 8), before=self.status)
        self.progress.start(40)
        self.status.configure(text=T("Exporting…"), bootstyle="default")

        def write(data: bytes) -> None:
            path.write_bytes(data)
            self._stop_bar()
            self.status.configure(
                text=shown(_("Exported to {path}.").format(path=path)), bootstyle="success"
            )

        def failed(exc: BaseException) -> None:
            self._stop_bar()
            self.app.fail(exc)

        fmt = format_of(path)
        self.app.call(lambda: self.app.api.members_export(fmt), write, failed, label="export")

    def _stop_bar(self) -> None:
        if self.winfo_exists():
            self.progress.stop()
            self.progress.pack_forget()
