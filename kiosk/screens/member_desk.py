"""The member desk (issue 15): find a member by card (scanned), phone or name, register one (with
their answer on marketing consent), change their details, top up their wallet by cash or card, and
read their balances (wallet; points and tier when the store has loyalty) and wallet history.

``MemberDesk`` is a frame: the manager counter shows it as its "Members" tab, the after-sales
counter in place of its order view ("Members" button). A card scanned anywhere on the desk finds
the member (``on_scan``); a search that finds nobody offers to register the person, the typed or
scanned text already in the form. Dialogs: ``member_desk_forms``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.api_errors import ApiError
from kiosk.i18n import N_, T, _, shown
from kiosk.rtl_entry import RtlEntry
from kiosk.scanner import ScanDetector
from kiosk.screens.member_desk_forms import MemberForm, TopUpDialog
from kiosk.widgets import FitLabel

__all__ = ["MemberDesk", "HISTORY_WORDS", "prefill_for"]

PAD = (14, 12)  # a ttk button this padded is ≥ 48 px tall
HISTORY_WORDS = {
    "wallet.topped_up": N_("Top-up"),
    "order.completed": N_("Paid with the wallet"),
    "order.refunded": N_("Refund to the wallet"),
    "order.exchanged": N_("Exchange"),
}


def prefill_for(text: str, scanned: bool) -> dict[str, str]:
    """What a search that found nobody puts in the new member's form: a scan is their card,
    digits their phone, anything else their name."""
    text = text.strip()
    if scanned:
        return {"card": text}
    if text and all(c.isdigit() or c in "+- " for c in text):
        return {"phone": text}
    return {"name": text}


class MemberDesk(ttk.Frame):
    def __init__(self, parent: Any, app: Any, back: Callable[[], None] | None = None) -> None:
        super().__init__(parent, padding=8)
        self.app = app
        self.found: dict[str, dict] = {}
        self.record: dict[str, Any] | None = None
        self.last_query, self.last_scanned = "", False
        side, anchor = app.side, app.text_anchor
        ttk.Label(self, text=T("Member card, phone or name")).pack(anchor=anchor)
        top = ttk.Frame(self)
        top.pack(fill="x", pady=4)
        self.entry = RtlEntry(top, font=app.mid_font)
        self.entry.scan_field = True  # type: ignore[attr-defined]  # a scan here: a search
        self.entry.pack(side=side("left"), fill="x", expand=True, ipady=4)
        self.detector = ScanDetector()  # a scanner's burst (a card) or a person typing
        self.entry.bind("<KeyPress>", self._key)
        self.entry.bind("<Return>", self._enter)
        self.entry.bind("<KP_Enter>", self._enter)
        self.buttons: dict[str, ttk.Button] = {}
        for key, text, style, cmd in (
            ("find", T("Find"), "primary", self.find),
            ("new", T("New member"), "success", self.new_member),
            *((("back", T("Back to orders"), "secondary", back),) if back else ()),
        ):
            self.buttons[key] = self._button(top, text, style, cmd)
        self.empty = ttk.Label(self, text="", bootstyle="warning", font=app.mid_font)
        self.empty.pack(anchor=anchor)
        cols = ("member", "name", "phone", "card")
        self.results = self._tree(cols, 3, (T("Member no."), T("Name"), T("Phone"), T("Card")))
        self.results.pack_forget()  # shown only to pick one of several members (``list_found``)
        self.results.bind("<<TreeviewSelect>>", lambda e: self._pick())
        body = self.body = ttk.Frame(self)
        body.pack(fill="both", expand=True, pady=(8, 0))
        info = ttk.Frame(body)
        info.pack(side=side("left"), fill="both", expand=True)
        self.name = FitLabel(
            info, font=("Noto Sans", round(20 * app.ui_scale), "bold"), anchor=anchor
        )
        self.name.pack(fill="x")
        self.details = ttk.Label(info, text="", justify="right" if app.rtl else "left")
        self.details.pack(anchor=anchor)
        self.balance = FitLabel(
            info,
            font=("Noto Sans", round(22 * app.ui_scale), "bold"),
            bootstyle="success",
            anchor=anchor,
        )
        self.balance.pack(fill="x", pady=(4, 0))
        self.points = FitLabel(info, font=app.base_font, bootstyle="info", anchor=anchor)
        self.points.pack(fill="x")
        ttk.Label(info, text=T("Wallet history")).pack(anchor=anchor, pady=(6, 0))
        self.history = self._tree(
            ("when", "what", "amount"), 4, (T("Date"), T("What"), T("Amount")), info
        )
        acts = ttk.Frame(body, padding=(12, 0))
        acts.pack(side=side("right"), fill="y")
        for key, text, style, cmd in (
            ("edit", T("Change details"), "info", self.edit),
            ("topup", T("Top up"), "warning", self.top_up),
        ):
            self.buttons[key] = b = ttk.Button(
                acts, text=text, bootstyle=style, command=cmd, takefocus=False, padding=PAD
            )
            b.pack(fill="x", pady=3)
        self.show(None)
        self.after_idle(self.entry.focus_set)

    def _button(self, row: ttk.Frame, text: str, style: str, cmd: Any) -> ttk.Button:
        b = ttk.Button(row, text=text, bootstyle=style, command=cmd, takefocus=False, padding=PAD)
        b.pack(side=self.app.side("left"), padx=(6, 0))
        return b

    def _tree(
        self, cols: tuple[str, ...], height: int, heads: tuple[str, ...], parent: Any = None
    ) -> ttk.Treeview:
        app = self.app
        tree = ttk.Treeview(parent or self, columns=cols, show="headings", height=height)
        tree.configure(displaycolumns=tuple(reversed(cols)) if app.rtl else cols)
        for c, head in zip(cols, heads, strict=True):
            tree.heading(c, text=head, anchor=app.text_anchor)
            money = c == "amount"
            tree.column(c, width=120, minwidth=80, anchor="e" if money else app.text_anchor)
        tree.pack(fill="both", expand=True)
        return tree

    # ---------------------------------------------------------------- find
    def _key(self, event: Any) -> None:
        if event.char and event.char.isprintable() and event.keysym not in ("Return", "KP_Enter"):
            self.detector.key(event.char, int(event.time))

    def _enter(self, event: Any) -> str:
        code = self.detector.enter(int(event.time))
        if code is not None and self.entry.get().strip() != code:  # a scan after typed text
            self.entry.delete(0, "end")
            self.entry.insert(0, code)
        self.find(scanned=code is not None)
        return "break"

    def on_scan(self, code: str) -> None:
        """A card scanned anywhere on the desk (outside a dialog): find its member."""
        if self.app.dialog is not None:
            return
        self.entry.delete(0, "end")
        self.entry.insert(0, code)
        self.find(scanned=True)

    def find(self, scanned: bool = False) -> None:
        q = self.entry.get().strip()
        if not q:
            self.app.notify(_("Scan a member card, or type a phone number or a name."))
            return
        self.last_query, self.last_scanned = q, scanned

        def ok(rows: Any) -> None:
            if self.winfo_exists() and q == self.last_query:
                self.list_found(rows or [])

        self.app.worker.read(lambda: self.app.api.members(q), ok, self.app.fail, "members")

    def list_found(self, rows: list[dict]) -> None:
        tree = self.results
        tree.delete(*tree.get_children())
        self.found = {str(r["member"]): r for r in rows}
        for r in rows:
            values = (r["member"], shown(r.get("name", "")), r.get("phone", ""), r.get("card", ""))
            tree.insert("", "end", iid=str(r["member"]), values=values)
        if not rows:
            tree.pack_forget()
            self.show(None)
            self.empty.configure(text=T("No member found. Register them with New member."))
            self.app.notify(_("No member found."))
            return
        self.empty.configure(text="")
        self.app.notify("", error=False)
        if len(rows) == 1:
            tree.pack_forget()
            tree.selection_set(str(rows[0]["member"]))
        else:
            tree.pack(fill="x", before=self.body)
            self.show(None)

    def _pick(self) -> None:
        sel = self.results.selection()
        if sel and sel[0] in self.found:
            self.load(sel[0])

    # ---------------------------------------------------------------- one member
    def load(self, member: str) -> None:
        """Read ``member`` (details, wallet and its history; points and tier when the store has
        loyalty) and show it."""
        api = self.app.api

        def call() -> dict:
            rec = dict(api.member(member))
            try:
                rec["loyalty"] = api.get(f"/v1/members/{member}/loyalty")
            except ApiError as exc:  # no loyalty on this store (yet): the desk works without
                if exc.status != 404:
                    raise
            return rec

        def ok(rec: Any) -> None:
            if self.winfo_exists():
                self.show(rec)

        self.app.worker.read(call, ok, self.app.fail, "member")

    def show(self, rec: dict | None) -> None:
        self.record = rec
        for key in ("edit", "topup"):
            self.buttons[key].configure(state="normal" if rec else "disabled")
        self.history.delete(*self.history.get_children())
        if rec is None:
            for label in (self.name, self.balance, self.points):
                label.configure(text="")
            self.details.configure(text="")
            return
        app = self.app
        self.name.configure(text=shown(rec.get("name", "")))
        consent = _("Yes") if rec.get("consent") else _("No")
        lines = (
            _("Member no.: {member}").format(member=rec["member"]),
            _("Phone: {phone}").format(phone=rec.get("phone") or "–"),
            _("Card: {card}").format(card=rec.get("card") or "–"),
            _("Agrees to marketing: {answer}").format(answer=consent),
        )
        self.details.configure(text=shown("\n".join(lines)))
        wallet = i18n.money(int(rec.get("balance", 0)), app.currency)
        self.balance.configure(text=shown(_("Wallet: {amount}").format(amount=wallet)))
        loyalty = rec.get("loyalty") or {}
        points = ""
        if "points" in loyalty:
            points = _("Points: {points}").format(points=i18n.number(int(loyalty["points"])))
            tier = loyalty.get("tier")
            if isinstance(tier, dict):
                tier = tier.get("name")
            if tier:
                points += " · " + _("Tier: {tier}").format(tier=tier)
        self.points.configure(text=shown(points))
        for i, (ts, kind, delta) in enumerate(reversed(rec.get("history") or [])):
            self.history.insert(
                "",
                "end",
                iid=str(i),
                values=(
                    shown(i18n.when(ts, app.zone)),
                    shown(_(HISTORY_WORDS[kind]) if kind in HISTORY_WORDS else kind),
                    shown(i18n.money(int(delta), app.currency)),
                ),
            )

    # ---------------------------------------------------------------- changes
    def _changed(self, member: str) -> None:
        """After a change: the member found and shown again, the scan field ready."""
        self.app.notify(_("Saved."), error=False)
        self.entry.delete(0, "end")
        self.entry.insert(0, member)
        self.last_query = member
        self.empty.configure(text="")
        self.results.delete(*self.results.get_children())
        self.results.pack_forget()
        self.found = {}
        self.load(member)
        self.entry.focus_set()

    def new_member(self) -> None:
        q = self.entry.get().strip()
        prefill = prefill_for(q, self.last_scanned and q == self.last_query) if q else {}
        self.app.open_dialog(MemberForm(self.app, None, self._changed, prefill))

    def edit(self) -> None:
        if self.record is not None:
            self.app.open_dialog(MemberForm(self.app, self.record, self._changed))

    def top_up(self) -> None:
        if self.record is not None:
            self.app.open_dialog(TopUpDialog(self.app, self.record, self._changed))
