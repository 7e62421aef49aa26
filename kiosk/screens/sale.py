"""Sale counter: scan or search, quantities and weights, discounts, park/resume, pay, receipt.

Every change is a till command with an id chosen here before it is sent; the worker retries it
with the same id while the store is unreachable, and the basket on screen stays as it was.
``SaleScreen`` (scan and search) is built on ``sale_basket.BasketView`` (the commands and the
basket drawn) and ``sale_actions.BasketActions`` (the buttons on the basket, payment).
"""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from domain.errors import KassaError
from kiosk.client import ApiError
from kiosk.i18n import T, _, shown
from kiosk.rtl_entry import RtlEntry
from kiosk.scanner import ScanDetector, ScanRouter
from kiosk.screens.dialogs import FormDialog
from kiosk.screens.sale_actions import parse_percent_bp, parse_weight_g
from kiosk.screens.sale_basket import fit_columns, per_kg
from kiosk.screens.sale_coupon import coupon_scan
from kiosk.screens.sale_drawer import ask_drawer
from kiosk.screens.sale_grid import ItemGrid
from kiosk.screens.sale_member import MemberOnSale
from kiosk.staff import counter_title
from kiosk.widgets import TOUCH_PX, FitLabel

__all__ = ["SaleScreen", "parse_weight_g", "parse_percent_bp"]

RIGHT_MIN_PX = 330  # the totals and buttons column at 1024×768


SCAN_ERRORS = (
    "product.not_found",
    "product.not_sellable",
    "product.bad_barcode",
    "scan.bad_code",
    "scan.empty",
    "scan.zero_weight",
    "basket.bad_quantity",
)


def refocus_soon(app: Any) -> None:
    try:
        app.after_idle(refocus, app)
    except Exception:  # the window is closing
        pass


def refocus(app: Any) -> None:
    """The scan field takes the keyboard again when no dialog is left open over it."""
    screen = app.screen
    if isinstance(screen, SaleScreen) and screen.winfo_exists() and app.dialog is None:
        screen.entry.focus_force()


class SaleScreen(MemberOnSale):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        self.view: dict[str, Any] = {"lines": [], "total": 0, "parked": []}
        self.results: list[dict] = []
        self.detector = ScanDetector()
        self.last_order: dict | None = None
        self.member_names: dict[str, str] = {}  # member id -> name, as looked up (sale_member)
        self._focus_line: str | None = None
        # scanner bursts typed anywhere in the window come here (kiosk.scanner.ScanRouter)
        ScanRouter.install(app, lambda: getattr(app.screen, "on_scan", None))
        if not getattr(app, "sale_refocus", False):  # a closed dialog gives the keys back
            app.sale_refocus = True
            app.bind_class("Toplevel", "<Destroy>", lambda e: refocus_soon(app), "+")
        for b in app.header(self, counter_title("sale")).winfo_children():
            if b.winfo_class() == "TButton":  # finger-sized, and no keyboard focus
                b.configure(takefocus="0")
                b.pack_configure(ipady=6)
        # sized for the window the till gets (``kassa till --geometry``), not the whole screen
        sw, sh = app.winfo_screenwidth(), app.winfo_screenheight()
        win_w, win_h = getattr(app, "window_size", None) or (sw, sh)
        win_w, win_h = min(win_w, sw), min(win_h, sh)
        big = win_h >= 900
        main = ttk.Frame(self, padding=6)
        main.pack(fill="both", expand=True)
        lcol, rcol = (1, 0) if app.rtl else (0, 1)
        right_px = max(RIGHT_MIN_PX, min(560, win_w // 3))
        main.columnconfigure(lcol, weight=1)
        main.columnconfigure(rcol, weight=0, minsize=right_px)
        main.rowconfigure(0, weight=1)
        left = ttk.Frame(main)
        left.grid(row=0, column=lcol, sticky="nsew")
        right = ttk.Frame(main, padding=(10, 0, 0, 0) if not app.rtl else (0, 0, 10, 0))
        right.grid(row=0, column=rcol, sticky="nsew")
        right.configure(width=right_px)

        # scan / search; a refused scan is said right under the field, with the code
        ttk.Label(left, text=T("Scan a barcode, or type a name or SKU and press Enter")).pack(
            anchor=app.text_anchor
        )
        self.entry = RtlEntry(left, font=app.mid_font)  # Arabic search shown right
        self.entry.scan_field = True  # type: ignore[attr-defined]
        self.entry.pack(fill="x", pady=2, ipady=6)
        self.entry.bind("<KeyPress>", self._key)
        self.entry.bind("<Return>", self._enter)
        self.entry.bind("<KP_Enter>", self._enter)
        self.scan_error = ttk.Label(left, text="", bootstyle="danger", anchor=app.text_anchor)
        self.scan_error.pack(fill="x")
        # search results and the item grid share one panel: results while there are some
        self.panel = ttk.Frame(left)
        self.panel.pack(fill="x")
        self.results_frame = ttk.Frame(self.panel)
        cols: tuple[str, ...] = ("name", "sku", "price")
        self.search_tree = ttk.Treeview(
            self.results_frame, columns=cols, show="headings", height=4, style="Sale.Treeview"
        )
        self._columns(
            self.search_tree,
            cols,
            {"name": T("Product"), "sku": T("SKU"), "price": T("Price")},
            {"name": 300},
        )
        self.close_results = ttk.Button(
            self.results_frame,
            text=T("Back to items"),
            bootstyle="secondary",
            takefocus="0",
            command=self.show_grid,
        )
        self.close_results.pack(side=app.side("right"), fill="y", padx=(4, 0), ipadx=6)
        self.search_tree.pack(side=app.side("left"), fill="x", expand=True)
        self.search_tree.bind("<Double-1>", lambda e: self.add_selected())
        self.search_tree.bind("<Return>", lambda e: self.add_selected())
        self.grid_view = ItemGrid(self.panel, app, self.add, rows=3 if big else 2)
        self.grid_view.pack(fill="x")
        # basket: rows a finger can pick
        ttk.Style().configure("Sale.Treeview", rowheight=44 if big else 40)
        cols = ("name", "qty", "price", "discount", "total")
        self.tree = ttk.Treeview(
            left, columns=cols, show="headings", height=4, style="Sale.Treeview"
        )
        self._columns(
            self.tree,
            cols,
            {
                "name": T("Item"),
                "qty": T("Qty"),
                "price": T("Price"),
                "discount": T("Discount"),
                "total": T("Total"),
            },
            {"name": 200, "qty": 80},
        )
        self.tree.pack(fill="both", expand=True, pady=(6, 0))

        # totals: money is never cut, the font shrinks to fit the column instead
        anchor = "w" if app.rtl else "e"
        self.total_label = FitLabel(right, font=app.big_font, bootstyle="primary", anchor=anchor)
        self.total_label.pack(fill="x")
        self.detail_label = FitLabel(right, font=("Noto Sans", 12), anchor=anchor)
        self.detail_label.pack(fill="x")
        self.member_label = FitLabel(right, font=("Noto Sans", 12), anchor=anchor, bootstyle="info")
        self.member_label.pack(fill="x")  # the sale's member and tier discount (sale_member)
        self.change_label = FitLabel(right, font=app.big_font, bootstyle="success", anchor=anchor)
        self.change_label.pack(fill="x", pady=2)
        self.info_label = FitLabel(right, font=("Noto Sans", 12), anchor=anchor)
        self.info_label.pack(fill="x")
        pad = ttk.Frame(right)
        pad.pack(fill="x", side="bottom")
        pad.columnconfigure(0, weight=1, uniform="b")
        pad.columnconfigure(1, weight=1, uniform="b")
        self.buttons: dict[str, ttk.Button] = {}
        specs = [
            ("qty", T("Quantity / weight"), "secondary", self.ask_quantity),
            ("remove", T("Remove line"), "secondary", self.remove_line),
            ("line_discount", T("Line discount"), "info", lambda: self.ask_discount(True)),
            ("order_discount", T("Order discount"), "info", lambda: self.ask_discount(False)),
            ("park", T("Park"), "warning", self.park),
            ("resume", T("Resume"), "warning", self.ask_resume),
            ("void", T("Void basket"), "danger", self.void),
            ("reprint", T("Reprint last receipt"), "secondary", self.reprint_last),
        ]
        if app.can("drawer.open"):  # a no-sale opening, with a reason (journaled)
            specs.append(("drawer", T("Open drawer"), "secondary", lambda: ask_drawer(app)))
        specs.append(("pay", T("Pay"), "success", self.pay))
        for i, (key, label, style, cmd) in enumerate(specs):
            # a button never takes the keyboard focus: a scanner's Enter must not press it
            b = ttk.Button(pad, text=label, bootstyle=style, command=cmd, takefocus="0")
            b.configure(style=f"Sale.{b.cget('style') or 'TButton'}")
            ttk.Style().configure(
                str(b.cget("style")), justify="center", wraplength=right_px // 2 - 16
            )
            col = 1 - i % 2 if app.rtl else i % 2
            span = 2 if key == "pay" or (key == "drawer" and i % 2 == 0) else 1
            row = (i + 1) // 2 if key == "pay" else i // 2  # pay on a row of its own
            b.grid(
                row=row,
                column=0 if span == 2 else col,
                columnspan=span,
                sticky="nsew",
                padx=2,
                pady=2,
            )
            pad.rowconfigure(row, minsize=TOUCH_PX + (16 if key == "pay" else 0))
            self.buttons[key] = b
        self.render()
        self.refresh()
        self.entry.focus_set()

    def _columns(self, tree, cols, heads, widths) -> None:
        display = tuple(reversed(cols)) if self.app.rtl else cols
        tree.configure(displaycolumns=display)
        for c in cols:
            tree.heading(c, text=heads[c], anchor=self.app.text_anchor)
            anchor = self.app.text_anchor if c == "name" else "e"
            tree.column(c, width=widths.get(c, 110), anchor=anchor, stretch=c == "name")

    # ---------------------------------------------------------------- scanner vs typing
    def _key(self, event) -> None:
        if event.char and event.char.isprintable() and event.keysym not in ("Return", "KP_Enter"):
            self.detector.key(event.char, int(event.time))

    def _enter(self, event) -> str:
        code = self.detector.enter(int(event.time))
        text = self.entry.get().strip()
        self.entry.delete(0, "end")
        if code is not None:
            self.scan(code)
        elif text:
            self.search(text)
        return "break"

    def on_scan(self, code: str) -> None:
        """A scanner burst typed while another widget had the focus (``ScanRouter``): a scan
        here; that widget never saw its Enter and has its text back."""
        if self.app.dialog is None:
            self.entry.focus_set()
        self.scan(code)

    def scan_failed(self, code: str, exc: BaseException) -> None:
        """A refused scan, said beside the scan field with the code scanned, and a beep."""
        from kiosk.errors import error_text

        self.scan_error.configure(
            text=shown(_("Scanned “{code}”: {error}").format(code=code, error=error_text(exc)))
        )
        self.bell()

    def scan(self, code: str, weight_g: int | None = None, qty: int | None = None) -> None:
        held = getattr(
            self.app.dialog, "scan_held", None
        )  # a payment awaited: kiosk.screens.pay_wait
        if held is not None and held(code):
            return
        args: dict[str, Any] = {"code": code}
        if weight_g is not None:
            args["weight_g"] = weight_g
        if qty is not None:
            args["qty"] = qty

        def err(exc: BaseException) -> bool:
            if self._need_weight(exc, code=code) or self.try_member(code, exc):
                return True  # a code that is no product may be a member's card, or a coupon
            if coupon_scan(self, code, exc):  # a coupon's QR: to the coupon tender
                return True
            if getattr(exc, "code", "") in SCAN_ERRORS:
                self.scan_failed(code, exc)
                return True
            return False

        self.command("scan", args, on_error=err, focus=True)

    def _need_weight(
        self, exc: BaseException, code: str = "", sku: str = "", name: str = ""
    ) -> bool:
        if getattr(exc, "code", "") != "basket.weight_required":
            return False

        def ok(values: dict[str, str]) -> str | None:
            try:
                grams = parse_weight_g(values["kg"])
            except KassaError as e:
                from kiosk.errors import error_text

                return error_text(e)
            if sku:
                self.command("add", {"sku": sku, "weight_g": grams}, focus=True)
            else:
                self.scan(code, weight_g=grams)
            return None

        self.app.open_dialog(
            FormDialog(
                self.app,
                _("Weigh this item."),
                [("kg", _("Weight (kg)"), "")],
                ok,
                subject=name or _("Code {code}").format(code=code or sku),
            )
        )
        return True

    def search(self, text: str) -> None:
        def ok(rows: list[dict]) -> None:
            if not self.winfo_exists():
                return
            exact = [
                r
                for r in rows
                if text in (r.get("sku"), r.get("plu")) or text in (r.get("barcodes") or [])
            ]
            if len(exact) == 1:
                self.add(exact[0])
                return
            self.results = rows
            if rows:
                self.show_results()
            self.search_tree.delete(*self.search_tree.get_children())
            shown_rows = []
            for i, r in enumerate(rows):
                price = self.app.money(int(r.get("price", 0)))
                row = (
                    self.app.name_of(r.get("names")),
                    r.get("sku", ""),
                    per_kg(price) if r.get("unit") == "kg" else price,
                )
                shown_rows.append(row)
                self.search_tree.insert("", "end", iid=str(i), values=row)
            fit_columns(self.search_tree, shown_rows)
            if rows:
                self.search_tree.selection_set("0")
                self.search_tree.focus("0")
            else:
                self.app.notify(_("No product found for “{q}”.").format(q=text))

        self.app.worker.read(lambda: self.app.api.products(text, 30), ok, self.app.fail, "search")

    def add_selected(self) -> None:
        sel = self.search_tree.selection()
        if sel:
            self.add(self.results[int(sel[0])])
        self.entry.focus_set()  # back to the scan field, ready for the next item

    def show_results(self) -> None:
        self.grid_view.pack_forget()
        self.results_frame.pack(fill="x")

    def show_grid(self) -> None:
        self.results_frame.pack_forget()
        self.grid_view.pack(fill="x")
        self.entry.focus_set()

    def add(self, product: dict) -> None:
        sku = product["sku"]
        if product.get("unit") == "kg":
            self._need_weight(
                ApiError("basket.weight_required"),
                sku=sku,
                name=self.app.name_of(product.get("names")),
            )
            return
        self.command("add", {"sku": sku}, focus=True)
