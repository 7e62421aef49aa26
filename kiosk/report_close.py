"""Closing a till's day: expected, counted and difference per tender, and the question that
closes it only once the manager has seen those figures.

Expected comes from the till's X report (``totals``): cash = opening float + cash sales − cash
refunds + cash top-ups; card and member wallet = their sales − their refunds. Counted: the cash
in the drawer (by denomination or one amount) and, if entered, the card terminal's total; the
member wallet is the store's own ledger and is not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from kiosk import i18n
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import TOUCH_PX

__all__ = ["TENDERS", "CloseConfirm", "expected_by_tender", "tender_lines", "tender_tree"]

TENDERS = (("cash", N_("Cash")), ("card", N_("Card")), ("wallet", N_("Member wallet")))
COLUMNS = (N_("Tender"), N_("Expected"), N_("Counted"), N_("Difference"))


def expected_by_tender(totals: dict[str, Any]) -> dict[str, int]:
    def i(key: str) -> int:
        v = totals.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) else 0

    return {
        "cash": i("expected_cash"),
        "card": i("card_sales") - i("card_refunds"),
        "wallet": i("wallet_sales") - i("wallet_refunds"),
    }


def tender_lines(
    expected: dict[str, int] | None, counted: dict[str, int | None], currency: str
) -> list[list[str]]:
    """[tender, expected, counted, difference] per tender, as text (a dash where unknown)."""
    out = []
    for key, name in TENDERS:
        exp = None if expected is None else expected.get(key)
        got = counted.get(key)
        diff = None if exp is None or got is None else got - exp
        out.append(
            [_(name)]
            + ["—" if v is None else i18n.money(v, currency) for v in (exp, got)]
            + ["—" if diff is None else ("+" if diff > 0 else "") + i18n.money(diff, currency)]
        )
    return out


def tender_tree(parent: Any, app: Any) -> ttk.Treeview:
    cols = ("tender", "expected", "counted", "difference")
    tree = ttk.Treeview(parent, columns=cols, show="headings", height=3)
    for c, head in zip(cols, COLUMNS, strict=True):
        anchor: Any = app.text_anchor if c == "tender" else ("w" if app.rtl else "e")
        tree.heading(c, text=T(head), anchor=anchor)
        tree.column(c, width=200 if c == "tender" else 170, anchor=anchor)
    if app.rtl:
        tree.configure(displaycolumns=tuple(reversed(cols)))
    return tree


def fill(tree: ttk.Treeview, lines: list[list[str]]) -> None:
    tree.delete(*tree.get_children())
    for line in lines:
        tree.insert("", "end", values=[shown(x) for x in line])


class CloseConfirm(ttk.Toplevel):
    """ "Close the day with these figures?" — the figures, then Close the day or Go back."""

    def __init__(self, app: Any, lines: list[list[str]], on_confirm: Callable[[], None]) -> None:
        super().__init__(title=shown(_("Close the day")), transient=app)
        self.app = app
        self.on_confirm = on_confirm
        pane = ttk.Frame(self, padding=16)
        pane.pack(fill="both", expand=True)
        self.question = ttk.Label(
            pane,
            text=T("Close this till's day with these figures? This cannot be undone."),
            font=("Noto Sans", 14, "bold"),
            wraplength=640,
        )
        self.question.pack(anchor=app.text_anchor, pady=(0, 8))
        self.tree = tender_tree(pane, app)
        fill(self.tree, lines)
        self.tree.pack(fill="x")
        row = ttk.Frame(pane)
        row.pack(fill="x", pady=(12, 0))
        self.confirm_button = ttk.Button(
            row,
            text=T("Close the day"),
            bootstyle="danger",
            takefocus=False,
            command=self.confirm,
        )
        self.confirm_button.pack(side=app.side("right"), padx=4, ipady=(TOUCH_PX - 36) // 2)
        self.back_button = ttk.Button(
            row, text=T("Go back"), bootstyle="secondary", takefocus=False, command=self.cancel
        )
        self.back_button.pack(side=app.side("right"), padx=4, ipady=(TOUCH_PX - 36) // 2)
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.update_idletasks()  # over the middle of the till's window
        x = app.winfo_rootx() + max(0, (app.winfo_width() - self.winfo_reqwidth()) // 2)
        y = app.winfo_rooty() + max(0, (app.winfo_height() - self.winfo_reqheight()) // 3)
        self.geometry(f"+{x}+{y}")
        app.open_dialog(self)

    def confirm(self) -> None:
        self.cancel()
        self.on_confirm()

    def cancel(self) -> None:
        if self.app.dialog is self:
            self.app.dialog = None
        self.destroy()
