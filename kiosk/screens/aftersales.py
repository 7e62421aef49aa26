"""After-sales counter: find an order (number, receipt barcode, member card/phone, order id), refund
it whole or by line to its original tenders, reprint, freeze/unfreeze, and see why it was
flagged.

``AfterSalesScreen`` lays the counter out; ``aftersales_orders.OrderView`` finds and draws orders,
``aftersales_actions.OrderActions`` refunds, reprints, freezes and unfreezes them,
``aftersales_exchange.ExchangeActions`` exchanges items of one."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from kiosk.i18n import T
from kiosk.rtl_entry import RtlEntry
from kiosk.screens.aftersales_exchange import ExchangeActions
from kiosk.screens.member_desk import MemberDesk
from kiosk.staff import counter_title

__all__ = ["AfterSalesScreen"]

BUTTON_PAD = (12, 12)  # touch-sized: a ttk button this padded is ≥ 48 px tall


class AfterSalesScreen(ExchangeActions):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        self.found: list[dict] = []
        self.record: dict[str, Any] | None = None
        self.refund_qty: dict[str, int] = {}
        app.header(self, counter_title("aftersales"))
        main = self.main = ttk.Frame(self, padding=8)  # the exchange panel takes its place
        main.pack(fill="both", expand=True)
        self.install_scans()  # a scanner burst: a new item of an exchange, else a receipt to find
        hint = T("Order number, receipt barcode, member card or phone, or a date (YYYY-MM-DD)")
        self.hint_label = ttk.Label(main, text=hint)
        self.hint_label.pack(anchor=app.text_anchor)
        row = ttk.Frame(main)
        row.pack(fill="x", pady=4)
        self.entry = RtlEntry(row, font=app.mid_font)
        self.entry.pack(side=app.side("left"), fill="x", expand=True, ipady=4)
        self.entry.bind("<Return>", lambda e: self.find())
        self.find_button = ttk.Button(
            row,
            text=T("Find"),
            bootstyle="primary",
            command=self.find,
            takefocus=False,
            padding=BUTTON_PAD,
            width=10,
        )
        self.find_button.pack(side=app.side("left"), padx=6)
        self.desk: MemberDesk | None = None  # the member desk, shown in place of ``main``
        if app.can("members.desk"):
            ttk.Button(
                row, text=T("Members"), bootstyle="info", command=self.open_desk, takefocus=False,
                padding=BUTTON_PAD, width=10,
            ).pack(side=app.side("left"))  # fmt: skip
        cols: tuple[str, ...] = ("number", "date", "total", "state")
        self.orders = ttk.Treeview(main, columns=cols, show="headings", height=6)
        self._columns(
            self.orders,
            cols,
            {"number": T("Order"), "date": T("Date"), "total": T("Total"), "state": T("State")},
        )
        self.orders.pack(fill="x")
        self.orders.bind("<<TreeviewSelect>>", lambda e: self._pick())
        body = ttk.Frame(main)
        body.pack(fill="both", expand=True, pady=(8, 0))
        left = ttk.Frame(body)
        left.pack(side=app.side("left"), fill="both", expand=True)
        cols = ("name", "qty", "total", "refunded", "refund")
        self.lines = ttk.Treeview(left, columns=cols, show="headings", height=9)
        self._columns(
            self.lines,
            cols,
            {
                "name": T("Item"),
                "qty": T("Qty"),
                "total": T("Total"),
                "refunded": T("Refunded"),
                "refund": T("To refund"),
            },
        )
        self.lines.pack(fill="both", expand=True)
        side = "right" if app.rtl else "left"
        self.summary = ttk.Label(left, text="", wraplength=640, justify=side)
        self.summary.pack(anchor=app.text_anchor, pady=4)
        self.flag_label = ttk.Label(left, text="", bootstyle="danger", wraplength=640, justify=side)
        self.flag_label.pack(anchor=app.text_anchor)
        left.bind("<Configure>", lambda e: self._wrap(e.width))
        right = ttk.Frame(body, padding=(12, 0))
        right.pack(side=app.side("right"), fill="y")
        self.buttons: dict[str, ttk.Button] = {}
        # two columns of touch-sized buttons: six in one column do not fit a 768 px screen
        for c in range(2):
            right.columnconfigure(c, weight=1, uniform="act")
        for i, (key, label, style, cmd) in enumerate(
            (
                ("line_qty", T("Refund quantity of line"), "secondary", self.ask_line_qty),
                ("refund_lines", T("Refund selected lines"), "warning", lambda: self.refund(False)),
                ("refund_all", T("Refund whole order"), "danger", lambda: self.refund(True)),
                ("reprint", T("Reprint receipt"), "secondary", self.reprint),
                ("freeze", T("Freeze"), "info", self.freeze),
                ("unfreeze", T("Unfreeze"), "info", self.unfreeze),
                ("exchange", T("Exchange"), "success", self.open_exchange),
            )
        ):
            b = ttk.Button(
                right,
                text=label,
                bootstyle=style,
                command=cmd,
                takefocus=False,
                padding=BUTTON_PAD,
            )
            col = 1 - i % 2 if app.rtl else i % 2
            b.grid(row=i // 2, column=col, sticky="nsew", padx=3, pady=3)
            self.buttons[key] = b
        self.entry.focus_set()

    def open_desk(self) -> None:
        self.main.pack_forget()
        self.desk = MemberDesk(self, self.app, back=self.close_desk)
        self.desk.pack(fill="both", expand=True)

    def close_desk(self) -> None:
        desk, self.desk = self.desk, None
        if desk is not None:
            desk.destroy()
        self.main.pack(fill="both", expand=True)
        self.entry.focus_set()

    def on_scan(self, code: str) -> None:
        """On the member desk a scan is a member's card; else an item or a receipt."""
        if self.desk is not None:
            self.desk.on_scan(code)
        else:
            super().on_scan(code)

    def _columns(self, tree, cols, heads) -> None:
        """Right to left in a right-to-left language; the columns share the whole width (the
        item name takes what the numbers leave)."""
        rtl = self.app.rtl
        tree.configure(displaycolumns=tuple(reversed(cols)) if rtl else cols)
        for c in cols:
            tree.heading(c, text=heads[c], anchor=self.app.text_anchor)
            tree.column(
                c,
                width=220 if c == "name" else 100,
                minwidth=70,
                stretch=c == "name" or "name" not in cols,
                anchor=self.app.text_anchor if c in ("name", "number") else "e",
            )

    def _wrap(self, width: int) -> None:
        for label in (self.summary, self.flag_label):
            label.configure(wraplength=max(320, width - 16))
