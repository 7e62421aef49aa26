"""The manager counter's Reorder tab: what to order, per product, from ``GET /v1/replenish/
suggestions`` (``domain.replenish``: sales over the last weeks, lead time, safety days, min/max,
packs), each row ticked; touching a row ticks or unticks it. "Create purchase order" sends the
ticked rows as one purchase order per supplier (``POST /v1/purchase-orders``, the stock part's
route); a store server without it answers 404 and the tab says so in words.
``ReorderTab(notebook, app)`` adds itself to the manager counter's notebook."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ttkbootstrap as ttk

from domain.alerts_stock import items_of
from kiosk import i18n
from kiosk.client import ApiError, new_id
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import TOUCH_PX

__all__ = ["ReorderTab", "orders_of", "low_stock_detail", "COLUMNS"]

TICK, UNTICKED = "☑", "☐"
COLUMNS = (
    "tick", "product", "supplier", "on_hand", "on_order", "per_day", "minmax", "pack", "suggest"
)  # fmt: skip
WIDTHS = (50, 240, 130, 85, 85, 85, 110, 65, 85)
STYLE = "Reorder.Treeview"
NO_PO = N_("This store server cannot make purchase orders yet: update it, then try again.")


def orders_of(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Ticked suggestions as purchase-order lines, one order per supplier ("" has none)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        line = {"sku": r["sku"], "qty": int(r["suggest"]), "unit_cost": int(r.get("unit_cost", 0))}
        out.setdefault(str(r.get("supplier") or ""), []).append(line)
    return out


class ReorderTab(ttk.Frame):
    """The Reorder tab (one frame of the manager counter's notebook)."""

    def __init__(self, notebook: ttk.Notebook, app: Any) -> None:
        super().__init__(notebook, padding=8)
        self.app = app
        notebook.add(self, text=T("Reorder"))
        self.rows: dict[str, dict[str, Any]] = {}
        self.ticked: set[str] = set()
        side = app.side("left")
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        for text, command, style in (
            (T("Refresh"), self.load, "secondary"),
            (T("Tick all"), lambda: self.tick_all(True), "secondary"),
            (T("Untick all"), lambda: self.tick_all(False), "secondary"),
            (T("Create purchase order"), self.create_orders, "primary"),
        ):
            ttk.Button(bar, text=text, command=command, bootstyle=style, takefocus=False).pack(
                side=side, padx=4, ipady=(TOUCH_PX - 30) // 2, ipadx=8
            )
        self.summary = ttk.Label(self, text="", anchor=app.text_anchor, justify=side)
        self.summary.pack(fill="x", pady=(0, 6))
        ttk.Style().configure(STYLE, rowheight=TOUCH_PX - 8)
        heads = (
            "", T("Product"), T("Supplier"), T("On hand"), T("On order"), T("Sold a day"),
            T("Min / max"), T("Pack"), T("To order"),
        )  # fmt: skip
        self.tree = ttk.Treeview(self, columns=COLUMNS, show="headings", height=8, style=STYLE)
        for c, h, w in zip(COLUMNS, heads, WIDTHS, strict=True):
            anchor: Any = app.text_anchor if c in ("product", "supplier") else "center"
            self.tree.heading(c, text=h, anchor=anchor)
            self.tree.column(c, width=w, minwidth=40, anchor=anchor, stretch=c == "product")
        if app.rtl:
            self.tree.configure(displaycolumns=tuple(reversed(COLUMNS)))
        self.tree.pack(fill="both", expand=True)
        self.tree.bind("<ButtonRelease-1>", self._touched)
        self.load()

    # ------------------------------------------------------------------ reading
    def load(self) -> None:
        self.app.worker.read(
            lambda: self.app.api.get("/v1/replenish/suggestions"),
            self.show,
            self.app.fail,
            "reorder",
        )

    def show(self, data: Any) -> None:
        if not self.winfo_exists():
            return
        data = data or {}
        rows = data.get("suggestions") or []
        window = data.get("window") or {}
        self.tree.delete(*self.tree.get_children())
        self.rows = {str(r["sku"]): r for r in rows}
        self.ticked = set(self.rows)
        for sku, r in self.rows.items():
            self.tree.insert("", "end", iid=sku, values=self._values(r))
        if rows:
            text = _(
                "{n} products to order, from the sales of the last {days} days "
                "and {cover} days until the goods arrive and last."
            ).format(
                n=i18n.number(len(rows)),
                days=i18n.number(int(window.get("days") or 0)),
                cover=i18n.number(int(data.get("lead_days", 0)) + int(data.get("safety_days", 0))),
            )
        else:
            text = _("Nothing to order: every product has enough stock for its sales.")
        self.summary.configure(text=shown(text))

    def _values(self, r: dict[str, Any]) -> tuple[str, ...]:
        num = i18n.number
        name = str(r.get("name") or "") or str(r["sku"])
        minmax = num(int(r.get("min") or 0)) + " / " + (num(int(r["max"])) if r.get("max") else "—")
        return (
            TICK if str(r["sku"]) in self.ticked else UNTICKED,
            shown(f"{name} · {r['sku']}" if name != r["sku"] else name),
            shown(str(r.get("supplier") or "—")),
            num(int(r.get("on_hand") or 0)),
            num(int(r.get("on_order") or 0)),
            num(Decimal(str(r.get("velocity") or "0"))),
            minmax,
            num(int(r.get("pack") or 1)),
            num(int(r["suggest"])),
        )

    # ------------------------------------------------------------------ ticking
    def _touched(self, event: Any) -> None:
        sku = self.tree.identify_row(event.y)
        if sku:
            self.tick(sku, sku not in self.ticked)

    def tick(self, sku: str, on: bool) -> None:
        (self.ticked.add if on else self.ticked.discard)(sku)
        self.tree.item(sku, values=self._values(self.rows[sku]))

    def tick_all(self, on: bool) -> None:
        for sku in self.rows:
            self.tick(sku, on)

    # ------------------------------------------------------------------ ordering
    def create_orders(self) -> None:
        chosen = [r for sku, r in self.rows.items() if sku in self.ticked]
        if not chosen:
            self.app.notify(_("Tick the products to order first."))
            return
        api = self.app.api
        orders = orders_of(chosen)
        made: list[str] = []

        def call(supplier: str, lines: list[dict[str, Any]], cid: str) -> Callable[[], Any]:
            return lambda: api.post(
                "/v1/purchase-orders", {"id": cid, "supplier": supplier, "lines": lines}
            )

        def done(res: Any) -> None:
            made.append(str((res or {}).get("po") or ""))
            if len(made) == len(orders):
                text = _("Purchase orders created: {names}.").format(names=", ".join(made))
                self.app.notify(text, error=False)
                self.load()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ApiError) and exc.status == 404:
                self.app.notify(_(NO_PO))
            else:
                self.app.fail(exc)

        for supplier, lines in orders.items():
            self.app.worker.change(call(supplier, lines, new_id()), done, failed, "reorder")


def low_stock_detail(values: dict[str, Any]) -> str:
    """The products of a ``stock.low`` alert in words (the Health tab), the most urgent first."""
    items = items_of(values)
    parts = [
        _("{name}: {level} left, minimum {min}").format(
            name=str(i.get("name") or i.get("sku")),
            level=i18n.number(int(i.get("level") or 0)),
            min=i18n.number(int(i.get("min") or 0)),
        )
        for i in items
    ]
    more = int(values.get("count") or len(items)) - len(parts)
    text = "; ".join(parts)
    if more > 0:
        text += " " + _("and {n} more.").format(n=i18n.number(more))
    return text + " " + _("The Reorder tab suggests what to order.")
