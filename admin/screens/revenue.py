"""Store revenue: per store (or all stores) and per day, week or month: net, orders, average
basket and refunds as figures, net per period as a chart, the best-selling products as a second
chart, and the periods in a table. From ``GET /v1/hq/revenue/summary`` (``cloud.hqrevenue``)."""

from __future__ import annotations

from typing import Any

import ttkbootstrap as ttk

from admin.screens.base import Screen, Table, money_text
from kiosk import i18n
from kiosk.charts import BarChart
from kiosk.i18n import N_, T, _, shown
from kiosk.widgets import FitLabel

__all__ = ["RevenueScreen", "PeriodChart", "period_bars", "totals"]

SHOW = {"day": 14, "week": 12, "month": 12}  # the newest periods drawn
PERIOD_NAMES = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
CHART_TITLES = {"day": N_("Net per day"), "week": N_("Net per week"), "month": N_("Net per month")}


class PeriodChart(BarChart):
    empty = N_("No sales in this period.")

    def best_text(self, best: tuple[str, int, str]) -> str:
        return _("Best: {period}, {amount}").format(period=best[0], amount=best[2])


def label_of(period: str, kind: str) -> str:
    """A short label under a column: 01-05 for a day or a week's Monday, 2026-01 for a month."""
    return period[:7] if kind == "month" else period[5:10]


def period_bars(rows: list[dict], kind: str, currency: str) -> list[tuple[str, int, str]]:
    """Net per period over the stores in ``rows`` (the newest ``SHOW[kind]``), oldest first."""
    net: dict[str, int] = {}
    for r in rows:
        net[r["period"]] = net.get(r["period"], 0) + int(r["net"])
    keep = sorted(net)[-SHOW[kind] :]
    return [(label_of(p, kind), net[p], i18n.money(net[p], currency)) for p in keep]


def totals(rows: list[dict]) -> dict[str, int]:
    """Net, sales, orders, refunds summed over ``rows``, and the average basket."""
    t = {k: sum(int(r[k]) for r in rows) for k in ("net", "sales", "orders", "refunds")}
    t["avg_basket"] = (2 * t["sales"] + t["orders"]) // (2 * t["orders"]) if t["orders"] else 0
    return t


class RevenueScreen(Screen):
    def __init__(self, parent: Any, app: Any) -> None:
        super().__init__(parent, app, N_("Store revenue"))
        side = app.side("left")
        bar = self.toolbar()
        ttk.Label(bar, text=T("Store")).pack(side=side, padx=(0, 4))
        self.store = ttk.Combobox(bar, state="readonly", width=18)
        self.store.pack(side=side, padx=(0, 12))
        self.store.bind("<<ComboboxSelected>>", lambda _e: self.load())
        self.period = ttk.StringVar(value="day")
        for key in ("day", "week", "month"):
            ttk.Radiobutton(
                bar,
                text=T(PERIOD_NAMES[key]),
                value=key,
                variable=self.period,
                bootstyle="toolbutton",
                command=self.load,
                takefocus=False,
            ).pack(side=side, padx=2, ipady=8)
        ttk.Button(
            bar, text=T("Refresh"), bootstyle="secondary", takefocus=False, command=self.load
        ).pack(side=side, padx=12)
        tiles = ttk.Frame(self)
        tiles.pack(fill="x", pady=6)
        self.tiles: dict[str, FitLabel] = {}
        names = {
            "net": N_("Net"),
            "orders": N_("Orders"),
            "avg_basket": N_("Average basket"),
            "refunds": N_("Refunds"),
        }
        for i, (key, title) in enumerate(names.items()):
            box = ttk.Frame(tiles, padding=8, bootstyle="light")
            box.grid(row=0, column=3 - i if app.rtl else i, sticky="nsew", padx=4)
            tiles.columnconfigure(i, weight=1, uniform="t")
            ttk.Label(box, text=T(title), bootstyle="inverse-light").pack(anchor=app.text_anchor)
            self.tiles[key] = FitLabel(box, font=app.mid_font, bootstyle="inverse-light")
            self.tiles[key].pack(fill="x")
        charts = ttk.Frame(self)
        charts.pack(fill="both", expand=True, pady=4)
        self.chart = PeriodChart(charts, app.rtl, vertical=True)
        self.top = BarChart(charts, app.rtl)
        self.top.empty = N_("No sales in this period.")
        self.chart.grid(row=0, column=1 if app.rtl else 0, sticky="nsew", padx=(0, 4))
        self.top.grid(row=0, column=0 if app.rtl else 1, sticky="nsew", padx=(4, 0))
        charts.columnconfigure(0, weight=3, uniform="c")
        charts.columnconfigure(1, weight=2, uniform="c")
        charts.rowconfigure(0, weight=1)
        self.table = Table(
            self,
            [
                ("period", N_("Period"), 11),
                ("store", N_("Store"), 8),
                ("net", N_("Net"), 12),
                ("orders", N_("Orders"), 7),
                ("avg_basket", N_("Average basket"), 12),
                ("refunds", N_("Refunds"), 12),
            ],
            fmt={k: self._money for k in ("net", "avg_basket", "refunds")},
            height=5,
            rtl=app.rtl,
        )
        self.table.pack(fill="x", pady=(4, 0))
        self.stores: list[str] = []
        self.data: dict[str, Any] = {}
        self.load()

    def _money(self, v: Any) -> str:
        return money_text(v, self.currency)

    @property
    def currency(self) -> str:
        return str(self.data.get("currency") or self.app.currency)

    def selected_store(self) -> str:
        i = self.store.current()
        return self.stores[i - 1] if i > 0 else ""

    def load(self) -> None:
        store, period = self.selected_store(), self.period.get()
        self.app.call(
            lambda: self.app.api.get("/v1/hq/revenue/summary", store=store, period=period),
            self.show,
            label="revenue",
        )

    def show(self, data: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        self.data = data
        kind = str(data.get("period") or "day")
        chosen = self.selected_store()
        self.stores = [s["id"] for s in data.get("stores") or []]
        self.store.configure(values=[shown(_("All stores"))] + self.stores)
        self.store.current(self.stores.index(chosen) + 1 if chosen in self.stores else 0)
        rows = data.get("rows") or []
        keep = {b for b in sorted({r["period"] for r in rows})[-SHOW[kind] :]}
        shown_rows = [r for r in rows if r["period"] in keep]
        t = totals(shown_rows)
        for key, label in self.tiles.items():
            label.configure(text=str(t[key]) if key == "orders" else self._money(t[key]))
        self.chart.set_data(
            _(CHART_TITLES[kind]),
            period_bars(shown_rows, kind, self.currency),
        )
        self.table.fill(sorted(shown_rows, key=lambda r: (r["period"], r["store"]), reverse=True))
        self.show_top(data)
        if keep and min(keep) != min((r["period"] for r in rows), default=""):
            # the best sellers of the periods shown, not of everything HQ holds
            first = min(keep)
            self.app.call(
                lambda: self.app.api.get(
                    "/v1/hq/revenue/summary", store=chosen, period=kind, **{"from": first}
                ),
                self.show_top,
                label="top",
            )

    def show_top(self, data: dict[str, Any]) -> None:
        if not self.winfo_exists():
            return
        cur = self.currency
        tops = data.get("top_products") or []
        self.top.set_data(
            _("Top products"),
            [(t["name"] or t["sku"], int(t["net"]), i18n.money(t["net"], cur)) for t in tops],
        )
