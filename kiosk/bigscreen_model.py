"""The big screen's figures, kept on the Tk thread: loaded from the store's summary
(``GET /v1/bigscreen/summary``) and moved on by each sale of the sales feed after its
``as_of_seq``. Plain Python (no Tk, no network), so it is tested on its own.

Revenue is net of refunds everywhere (a refund subtracts from its till and hour). An event at or
before the last seq applied changes nothing, so a feed replayed after a reconnect never counts a
sale twice.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.day import business_day_of

__all__ = ["Figures", "Tick", "TICKER_LEN"]

TICKER_LEN = 30


@dataclass(frozen=True)
class Tick:
    """One line of the ticker: what a sale or refund was, where and when. No staff, no member."""

    seq: int
    ts: int  # UTC µs
    till: str
    amount: int  # negative: a refund
    items: int


@dataclass
class Product:
    sku: str
    names: dict[str, str]
    unit: str
    qty: int = 0
    amount: int = 0

    def name(self, lang: str) -> str:
        want = "zh_CN" if lang == "zh" else lang
        return self.names.get(want) or self.names.get("en") or next(iter(self.names.values()), "")


@dataclass
class Figures:
    day: str = ""
    store: str = ""
    currency: str = "THB"
    zone: str = "UTC"
    languages: list[str] = field(default_factory=lambda: ["en"])
    seq: int = 0  # the last journal position counted
    loaded: bool = False
    revenue: int = 0
    orders: int = 0
    last_week: int = 0  # revenue on the same weekday last week, up to the summary's time
    last_week_orders: int = 0
    last_week_day: str = ""
    tills: dict[str, dict[str, int]] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    products: dict[str, Product] = field(default_factory=dict)
    ticker: deque[Tick] = field(default_factory=lambda: deque(maxlen=TICKER_LEN))
    low_stock: list[dict[str, Any]] = field(default_factory=list)  # {sku, name, level, min}

    # ------------------------------------------------------------ in
    def load(self, s: dict[str, Any]) -> None:
        """Start again from a summary (the ticker is kept: it shows what was seen live)."""
        self.day = str(s["business_day"])
        self.store = str(s.get("store") or "")
        self.currency = str(s.get("currency") or self.currency)
        self.zone = str(s.get("zone") or self.zone)
        self.languages = [str(x) for x in s.get("languages") or ["en"]]
        self.seq = int(s.get("as_of_seq") or 0)
        today, last = s["today"], s["last_week"]
        self.revenue, self.orders = int(today["revenue"]), int(today["orders"])
        self.last_week, self.last_week_orders = int(last["revenue"]), int(last["orders"])
        self.last_week_day = str(s.get("last_week_day") or "")
        self.low_stock = [dict(i) for i in s.get("low_stock") or ()]
        self.tills = {
            str(t["till"]): {"revenue": int(t["revenue"]), "orders": int(t["orders"])}
            for t in s.get("by_till") or ()
        }
        self.hours = [0] * 24
        for h in s.get("by_hour") or ():
            self.hours[int(h["hour"]) % 24] = int(h["revenue"])
        self.products = {
            str(p["sku"]): Product(
                str(p["sku"]),
                dict(p.get("names") or {"en": p.get("name", "")}),
                str(p.get("unit") or ""),
                int(p["qty"]),
                int(p["amount"]),
            )
            for p in s.get("products") or ()
        }
        while self.ticker and self.ticker[0].seq > self.seq:  # counted again from the feed
            self.ticker.popleft()
        self.loaded = True

    def business_day(self, ts_us: int) -> str:
        return business_day_of(int(ts_us), self.zone)

    def apply(self, e: dict[str, Any]) -> str:
        """Count one event of the sales feed: "counted", "old" (seen already), "other" (not a
        sale) or "new_day" (of a later business day: load a fresh summary first)."""
        seq = int(e.get("seq") or 0)
        if seq <= self.seq:
            return "old"
        kind, body = e.get("kind"), e.get("body") or {}
        if kind not in ("order.completed", "order.refunded", "order.exchanged"):
            self.seq = seq
            return "other"
        ts = int(e.get("ts") or 0)
        if self.business_day(ts) > self.day:
            return "new_day"
        self.seq = seq
        till = str(e.get("till") or "")
        t = self.tills.setdefault(till, {"revenue": 0, "orders": 0})
        hour = datetime.fromtimestamp(ts / 1e6, UTC).astimezone(ZoneInfo(self.zone)).hour
        amount, n = 0, 0
        if kind == "order.exchanged":  # both parts: the returned refund and the new sale
            amount = -int((body.get("returned") or {}).get("amount") or 0)
            body = body.get("sold") or {}
        if kind == "order.refunded":
            amount = -int(body.get("amount") or 0)
        else:
            amount += int(body.get("total") or 0)
            self.orders += 1
            t["orders"] += 1
            self._count_items(body.get("items") or ())
            n = int(body.get("lines") or 0)
        self.revenue += amount
        t["revenue"] += amount
        self.hours[hour] += amount
        self.ticker.appendleft(Tick(seq, ts, till, amount, n))
        return "counted"

    def _count_items(self, items: Any) -> None:
        for it in items:
            sku = str(it.get("sku") or "")
            p = self.products.get(sku)
            if p is None:
                p = self.products[sku] = Product(
                    sku, dict(it.get("names") or {}), str(it.get("unit") or "")
                )
            elif it.get("names"):
                p.names = dict(it["names"])
            p.qty += int(it.get("qty") or 0)
            p.amount += int(it.get("amount") or 0)

    # ------------------------------------------------------------ out
    def difference(self) -> int:
        return self.revenue - self.last_week

    def top_by_amount(self, n: int = 5) -> list[Product]:
        ps = [p for p in self.products.values() if p.amount > 0]
        return sorted(ps, key=lambda p: (-p.amount, p.sku))[:n]

    def top_by_qty(self, n: int = 5) -> list[Product]:
        """Pieces only: grams of weighed goods are not counted against pieces."""
        ps = [p for p in self.products.values() if p.qty > 0 and p.unit != "kg"]
        return sorted(ps, key=lambda p: (-p.qty, -p.amount, p.sku))[:n]

    def till_rows(self) -> list[tuple[str, int, int]]:
        return [(k, v["revenue"], v["orders"]) for k, v in sorted(self.tills.items())]
