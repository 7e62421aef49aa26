"""A realistic trading history, made of real domain events, with planted anomalies of every kind.

``generate(days=..., seed=...)`` simulates a shop: a catalogue of products in categories (pieces and
per-kg), opening hours with a lunch and an evening peak, busier weekends and December, cashiers in
morning and evening shifts on their own tills, an after-sales counter doing refunds, members topping
up wallets and paying with them, stock receipts and counts, voided baskets, and every till opened
with a float and closed with counted cash (``day.opened`` / ``day.closed``).

Events are built from the real domain: baskets are priced by ``domain.basket.price_basket``,
payments settled by ``domain.payments.settle``, refunds decided by ``domain.book.decide_refund`` and
checked by ``domain.book.Book`` exactly as the ledger does; bodies are encoded and the envelopes
sealed into a hash chain by ``domain.journal_format``, so the history has the journal's real format.

With ``plant=True`` one anomaly of each kind is planted (several for the per-day ones);
``History.planted`` lists ``(rule, order_id)`` pairs that ``analytics.anomaly`` must flag.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.basket import Basket, Line, price_basket
from domain.book import Book, decide_refund
from domain.events import (
    BasketVoided,
    LineAdded,
    MemberRegistered,
    OrderCompleted,
    StockCounted,
    StockReceived,
    WalletToppedUp,
    kind_of,
    version_of,
)
from domain.journal_format import GENESIS, Envelope, encode_body, seal
from domain.payments import Tender, settle

__all__ = ["generate", "History", "Shop", "write_journal", "CATEGORIES"]

CATEGORIES = {
    "dairy": (3000, 9000),
    "bakery": (2000, 8000),
    "drinks": (1000, 6000),
    "snacks": (1500, 5000),
    "household": (4000, 30000),
    "personal": (5000, 25000),
    "frozen": (6000, 20000),
    "produce": (4000, 15000),
    "meat": (15000, 40000),
    "electronics": (30000, 150000),
}
KG_CATEGORIES = {"produce", "meat"}
HOUR_WEIGHT = {
    8: 3,
    9: 4,
    10: 5,
    11: 8,
    12: 12,
    13: 9,
    14: 5,
    15: 5,
    16: 7,
    17: 11,
    18: 13,
    19: 10,
    20: 6,
    21: 3,
}
WEEKDAY_WEIGHT = [0.9, 0.85, 0.9, 0.95, 1.15, 1.35, 1.25]


@dataclass
class Shop:
    store_id: str = "S001"
    zone: str = "Asia/Bangkok"
    currency: str = "THB"
    cash_increment: int = 25
    open_hour: int = 8
    close_hour: int = 22
    orders_per_day: int = 300
    products: int = 200
    members: int = 60
    opening_float: int = 200_000
    cashiers: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            # cashier: (till, shift)
            "c1": ("T1", "am"),
            "c2": ("T2", "am"),
            "c3": ("T1", "pm"),
            "c4": ("T2", "pm"),
            "c5": ("T3", "am"),
            "c6": ("T3", "pm"),
        }
    )
    aftersales: str = "as1"
    aftersales_till: str = "T9"
    manager: str = "m1"
    discount_limit_bp: int = 1000

    def ip(self, till: str) -> str:
        return f"10.0.0.{10 + int(till[1:])}"


@dataclass
class History:
    shop: Shop
    envelopes: list[Envelope]
    planted: list[tuple[str, str]]  # (rule, order_id)
    products: dict[str, dict[str, Any]]
    start: date
    days: int

    def wire(self) -> list[dict[str, Any]]:
        return [e.to_wire() for e in self.envelopes]


class _Writer:
    """Hash-chains bodies into envelopes, checking and applying them to a ``Book`` like the
    ledger does."""

    def __init__(self) -> None:
        self.seq, self.prev = 0, GENESIS
        self.envs: list[Envelope] = []
        self.book = Book()
        self.last_ts = 0

    def emit(
        self,
        body: Any,
        ts: int,
        staff: str,
        till: str,
        ip: str,
        kind: str | None = None,
        agg: str = "",
    ) -> Any:
        if kind is None:
            body = self.book.check(body, till)
            kind = kind_of(body)
            raw, v = encode_body(body), version_of(kind)
            agg = agg or next(
                (
                    getattr(body, a)
                    for a in ("basket", "order_id", "member", "sku")
                    if isinstance(getattr(body, a, None), str)
                ),
                "",
            )
        else:  # kinds not registered in domain.events (day.opened / day.closed): plain dicts
            raw, v = encode_body(body), 1
        ts = max(ts, self.last_ts + 1)  # the journal's clock never goes back
        self.last_ts = ts
        self.seq += 1
        eid = str(uuid.UUID(int=random.getrandbits(128)))
        env = seal(self.prev, self.seq, eid, ts, kind, v, staff, till, ip, agg, raw)
        self.envs.append(env)
        self.prev = env.hash
        if not isinstance(body, dict):
            self.book.apply(body, staff, till, ts, self.seq)
        return body


def _us(day: date, hour: int, minute: int, second: int, zone: ZoneInfo, micro: int = 0) -> int:
    local = datetime.combine(day, time(hour, minute, second, micro), tzinfo=zone)
    delta = local.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(microseconds=1)


def generate(
    days: int = 14,
    start: date = date(2024, 3, 4),
    seed: int = 7,
    plant: bool = True,
    shop: Shop | None = None,
) -> History:
    shop = shop or Shop()
    rng = random.Random(seed)
    random.seed(seed)  # event ids
    zone = ZoneInfo(shop.zone)
    w = _Writer()
    # ---- catalogue
    products: dict[str, dict[str, Any]] = {}
    cats = list(CATEGORIES)
    for i in range(shop.products):
        cat = cats[i % len(cats)]
        lo, hi = CATEGORIES[cat]
        price = int(math.exp(rng.uniform(math.log(lo), math.log(hi)))) // 25 * 25
        unit = "kg" if cat in KG_CATEGORIES and i % 2 == 0 else "each"
        products[f"P{i:04d}"] = {
            "sku": f"P{i:04d}",
            "names": {"en": f"{cat} item {i}"},
            "category": cat,
            "price": price,
            "unit": unit,
            "tax_class": "zero" if cat == "produce" else "std",
            "rate_bp": 0 if cat == "produce" else 700,
        }
    skus = list(products)
    popularity = [1.0 / (k + 1) ** 0.8 for k in range(len(skus))]
    stock: dict[str, int] = {}
    members = [f"M{i:04d}" for i in range(shop.members)]
    orders_by_day: list[list[str]] = []
    planted: list[tuple[str, str]] = []
    t0 = _us(start, 7, 0, 0, zone)

    # ---- opening stock, members
    def receive(sku: str, ts: int) -> None:
        qty = 600_000 if products[sku]["unit"] == "kg" else 1500
        w.emit(StockReceived(sku, qty, reference="PO"), ts, shop.manager, "T9", shop.ip("T9"))
        stock[sku] = stock.get(sku, 0) + qty

    for k, sku in enumerate(skus):
        receive(sku, t0 + k)
    for k, m in enumerate(members):
        w.emit(
            MemberRegistered(m, f"Member {m}", phone=f"08{k:08d}"),
            t0 + 10_000 + k,
            shop.manager,
            "T9",
            shop.ip("T9"),
        )

    def line(no: int, sku: str, qty: int, price: int | None = None, disc_bp: int = 0) -> Line:
        p = products[sku]
        return Line(
            line_id=f"L{no}",
            sku=sku,
            names=p["names"],
            category=p["category"],
            unit=p["unit"],
            qty=qty,
            unit_price=p["price"] if price is None else price,
            tax_class=p["tax_class"],
            rate_bp=p["rate_bp"],
            discount_kind="pct" if disc_bp else "",
            discount_value=disc_bp,
        )

    def pick_lines(n: int | None = None, big: bool = False) -> list[Line]:
        n = n or min(12, 1 + int(rng.expovariate(1 / 2.5)))
        chosen = rng.choices(skus, weights=popularity, k=n)
        out = []
        for i, sku in enumerate(chosen):
            if products[sku]["unit"] == "kg":
                qty = rng.randint(200, 2500)
            else:
                qty = 1 if rng.random() < 0.75 else rng.randint(2, 4)
            if big:
                qty *= 25
            out.append(line(i + 1, sku, qty))
        return out

    def sell(
        ts: int,
        staff: str,
        till: str,
        lines: list[Line],
        order_disc_bp: int = 0,
        member: str = "",
        pay: str | None = None,
        ip: str | None = None,
    ) -> OrderCompleted:
        b = Basket(
            basket_id=str(uuid.UUID(int=rng.getrandbits(128))),
            till=till,
            lines=tuple(lines),
            discount_kind="pct" if order_disc_bp else "",
            discount_value=order_disc_bp,
        )
        p = price_basket(b, True)
        bal = w.book.balance(member) if member else 0
        kind = pay or rng.choices(["cash", "card", "wallet"], [55, 38, 7])[0]
        if kind == "wallet" and (not member or bal < p.total):
            kind = "cash"
        if kind == "cash":
            due = p.total
            rounded = (due + shop.cash_increment // 2) // shop.cash_increment * shop.cash_increment
            notes = [2000, 5000, 10000, 50000, 100000]
            tendered = (
                next((n * math.ceil(rounded / n) for n in notes if n >= rounded // 3), rounded)
                if rng.random() < 0.8
                else rounded
            )
            tenders = [Tender("cash", max(tendered, rounded))]
        elif kind == "card":
            tenders = [
                Tender(
                    "card",
                    p.total,
                    reference=f"R{rng.randint(10**6, 10**7)}",
                    last4=f"{rng.randint(0, 9999):04d}",
                )
            ]
        else:
            tenders = [Tender("wallet", p.total, member=member)]
        s = settle(p.total, tenders, shop.cash_increment)
        body = OrderCompleted(
            order_id=b.basket_id,
            number="",
            currency=shop.currency,
            prices_include_tax=True,
            lines=p.lines,
            subtotal=p.subtotal,
            discount=p.discount,
            tax=p.tax,
            total=p.total,
            rounding=s.rounding,
            payments=s.payments,
            change=s.change,
            member=member,
        )
        body = w.emit(body, ts, staff, till, ip or shop.ip(till))
        for ln in body.lines:
            stock[ln.sku] = stock.get(ln.sku, 0) - ln.qty
        return body

    def refund(
        ts: int,
        staff: str,
        till: str,
        order_id: str,
        reason: str = "changed mind",
        whole: bool = True,
    ) -> Any:
        rec = w.book.order(order_id)
        lines = (
            None
            if whole
            else {
                rec.order.lines[0].line_id: 1
                if rec.order.lines[0].unit != "kg"
                else rec.order.lines[0].qty
            }
        )
        body = decide_refund(
            rec, str(uuid.UUID(int=rng.getrandbits(128))), lines, shop.cash_increment, reason
        )
        body = w.emit(body, ts, staff, till, shop.ip(till))
        for rl in body.lines:
            stock[rl.sku] = stock.get(rl.sku, 0) + rl.qty
        return body

    def void(
        ts: int, staff: str, till: str, lines: list[Line], reason: str = "customer left"
    ) -> str:
        bid = str(uuid.UUID(int=rng.getrandbits(128)))
        for i, ln in enumerate(lines):
            w.emit(
                LineAdded(
                    basket=bid,
                    line_id=ln.line_id,
                    sku=ln.sku,
                    names=ln.names,
                    unit=ln.unit,
                    qty=ln.qty,
                    unit_price=ln.unit_price,
                    tax_class=ln.tax_class,
                    rate_bp=ln.rate_bp,
                    category=ln.category,
                ),
                ts - 60_000_000 + i * 1_000_000,
                staff,
                till,
                shop.ip(till),
            )
        total = price_basket(Basket(basket_id=bid, till=till, lines=tuple(lines)), True).total
        w.emit(
            BasketVoided(basket=bid, reason=reason, lines=len(lines), amount=total),
            ts,
            staff,
            till,
            shop.ip(till),
        )
        return bid

    tills = sorted({t for t, _ in shop.cashiers.values()})

    def one_day(d: int) -> None:
        """Day ``d``: every action at its time (closures over this day's state, run today)."""
        day = start + timedelta(days=d)
        factor = WEEKDAY_WEIGHT[day.weekday()] * (1.3 if day.month == 12 else 1.0)
        n_orders = max(20, int(rng.gauss(shop.orders_per_day * factor, 10)))
        actions: list[tuple[int, int, Callable[[], Any]]] = []
        # drawers: cash the generator itself expects per till (independent of analytics)
        drawer = {t: shop.opening_float for t in tills + [shop.aftersales_till]}

        def at(ts: int, fn: Callable[[], Any], prio: int = 1) -> None:
            actions.append((ts, prio, fn))

        t_open = _us(day, shop.open_hour - 1, 45, 0, zone)
        for t in tills + [shop.aftersales_till]:

            def opened(t: str = t) -> None:
                w.emit(
                    {"till": t, "float": shop.opening_float},
                    t_open,
                    shop.manager,
                    t,
                    shop.ip(t),
                    kind="day.opened",
                )

            at(t_open, opened, 0)
        hours = list(HOUR_WEIGHT)
        hw = [HOUR_WEIGHT[h] for h in hours]
        today: list[str] = []

        def staff_at(hour: int) -> list[tuple[str, str]]:
            shift = "am" if hour < 15 else "pm"
            return [(s, t) for s, (t, sh) in shop.cashiers.items() if sh == shift]

        def do_sale(hour: int, minute: int, second: int) -> Callable[[], Any]:
            def fn():
                staff, till = rng.choice(staff_at(hour))
                member = rng.choice(members) if rng.random() < 0.15 else ""
                disc = 0
                lines = pick_lines()
                r = rng.random()
                if r < 0.04:
                    lines[0] = replace(
                        lines[0], discount_kind="pct", discount_value=rng.choice([500, 1000])
                    )
                elif r < 0.06:
                    disc = rng.choice([300, 500])
                o = sell(_us(day, hour, minute, second, zone), staff, till, lines, disc, member)
                for p in o.payments:
                    if p.kind == "cash":
                        drawer[till] += p.amount
                today.append(o.order_id)

            return fn

        for _ in range(n_orders):
            h = rng.choices(hours, hw)[0]
            mi, se = rng.randint(0, 59), rng.randint(0, 59)
            at(_us(day, h, mi, se, zone), do_sale(h, mi, se))
        # top-ups by members at the tills
        for _ in range(rng.randint(3, 8)):
            h = rng.choices(hours, hw)[0]

            m, amt = rng.choice(members), rng.choice([50000, 100000, 200000])
            tender, mi = rng.choice(["cash", "card"]), rng.randint(0, 59)

            def topup(
                h: int = h, m: str = m, amt: int = amt, tender: str = tender, mi: int = mi
            ) -> None:
                staff, till = rng.choice(staff_at(h))
                w.emit(
                    WalletToppedUp(m, amt, tender),
                    _us(day, h, mi, 30, zone),
                    staff,
                    till,
                    shop.ip(till),
                )
                if tender == "cash":
                    drawer[till] += amt

            at(_us(day, h, 0, 0, zone) + rng.randint(0, 3_500_000_000), topup)
        # a few small voids (routine)
        for _ in range(rng.randint(0, 2)):
            h = rng.choices(hours, hw)[0]

            mi = rng.randint(1, 59)

            def small_void(h: int = h, mi: int = mi) -> None:
                staff, till = rng.choice(staff_at(h))
                cheap = [
                    sk
                    for sk in skus[:60]
                    if products[sk]["category"] in ("drinks", "snacks", "bakery", "dairy")
                ]
                void(
                    _us(day, h, mi, 0, zone),
                    staff,
                    till,
                    [line(i + 1, rng.choice(cheap), 1) for i in range(rng.randint(1, 2))],
                )

            at(_us(day, h, 0, 0, zone) + rng.randint(60_000_000, 3_500_000_000), small_void)
        # after-sales refunds of earlier days' orders (~1 %)
        if orders_by_day:
            for _ in range(max(1, n_orders // 100)):
                pool = orders_by_day[-1] + (orders_by_day[-2] if len(orders_by_day) > 1 else [])
                oid = rng.choice(pool)
                h = rng.randint(10, 20)

                mi, whole = rng.randint(0, 59), rng.random() < 0.6

                def aftersale(
                    oid: str = oid, h: int = h, mi: int = mi, whole: bool = whole
                ) -> None:
                    rec = w.book.orders[oid]
                    if rec.refunds or rec.frozen:
                        return
                    r = refund(
                        _us(day, h, mi, 15, zone),
                        shop.aftersales,
                        shop.aftersales_till,
                        oid,
                        whole=whole,
                    )
                    drawer[shop.aftersales_till] -= sum(
                        t.amount for t in r.tenders if t.kind == "cash"
                    )

                at(_us(day, h, 0, 0, zone), aftersale)

        # stock: replenish low items at 07:50, count a few
        def replenish():
            for sku in skus:
                low = 300_000 if products[sku]["unit"] == "kg" else 700
                if stock.get(sku, 0) < low:
                    receive(sku, _us(day, 7, 50, 0, zone))
            for sku in rng.sample(skus, 3):
                lvl = stock[sku]
                found = max(0, lvl - rng.randint(0, 2))
                w.emit(
                    StockCounted(sku, found, previous=lvl),
                    _us(day, 7, 55, 0, zone),
                    shop.manager,
                    "T9",
                    shop.ip("T9"),
                )
                stock[sku] = found

        at(_us(day, 7, 50, 0, zone), replenish, 0)

        if plant:
            _plant(
                d,
                day,
                at,
                sell,
                refund,
                void,
                pick_lines,
                line,
                rng,
                shop,
                zone,
                w,
                drawer,
                planted,
                products,
                stock,
                members,
                today,
                receive,
            )

        t_close = _us(day, shop.close_hour, 20, 0, zone)
        for t in tills + [shop.aftersales_till]:

            def closed(t: str = t) -> None:
                diff = rng.choice([0, 0, 0, 0, -25, 25, -100])
                w.emit(
                    {"till": t, "counted_cash": drawer[t] + diff, "z_report": {}},
                    t_close,
                    shop.manager,
                    t,
                    shop.ip(t),
                    kind="day.closed",
                )

            at(t_close, closed, 2)
        actions.sort(key=lambda a: (a[0], a[1]))
        for _, _, fn in actions:
            fn()
        orders_by_day.append(today)

    for d in range(days):
        one_day(d)
    return History(shop, w.envs, planted, products, start, days)


def _plant(
    d,
    day,
    at,
    sell,
    refund,
    void,
    pick_lines,
    line,
    rng,
    shop,
    zone,
    w,
    drawer,
    planted,
    products,
    stock,
    members,
    today,
    receive,
) -> None:
    """Plant the anomalies of day ``d`` (each kind on its own day, so they do not mask each
    other; several kinds per day once the history is long enough to have a baseline)."""
    us = lambda h, m, s=0: _us(day, h, m, s, zone)  # noqa: E731
    kinds = [
        "refund_soon_same_staff",
        "refund_other_cashier",
        "high_discount",
        "price_override",
        "void",
        "total_outlier",
        "outside_hours",
        "unusual_till_ip",
        "topup_cash_refund",
        "just_under_limit",
        "negative_stock_sale",
    ]
    if d < 3:
        return  # a baseline first
    todo = [kinds[(d - 3) % len(kinds)]]
    if d >= 8:
        todo.append(kinds[(d + 2) % len(kinds)])

    def cash_in(o):
        for p in o.payments:
            if p.kind == "cash":
                drawer[tills_of(o)] += p.amount

    def tills_of(o):
        return w.book.orders[o.order_id].till

    for kind in todo:
        if kind == "refund_soon_same_staff":

            def fn():
                o = sell(us(11, 5), "c1", "T1", pick_lines(3), pay="cash")
                cash_in(o)
                r = refund(us(11, 9), "c1", "T1", o.order_id, reason="wrong item")
                drawer["T1"] -= sum(t.amount for t in r.tenders if t.kind == "cash")
                planted.append(("refund_soon_same_staff", o.order_id))

            at(us(11, 5), fn)
        elif kind == "refund_other_cashier":

            def fn():
                o = sell(us(9, 30), "c2", "T2", pick_lines(2), pay="cash")
                cash_in(o)
                r = refund(us(16, 40), "c3", "T1", o.order_id, reason="return")
                drawer["T1"] -= sum(t.amount for t in r.tenders if t.kind == "cash")
                planted.append(("refund_other_cashier", o.order_id))

            at(us(9, 30), fn)
        elif kind == "high_discount":

            def fn():
                o = sell(us(17, 12), "c4", "T2", pick_lines(3), order_disc_bp=4000, pay="card")
                planted.append(("high_discount", o.order_id))

            at(us(17, 12), fn)
        elif kind == "price_override":

            def fn():
                sku = "P0003"
                o = sell(
                    us(12, 40),
                    "c2",
                    "T2",
                    [line(1, sku, 1, price=products[sku]["price"] // 2)],
                    pay="cash",
                )
                cash_in(o)
                planted.append(("price_override", o.order_id))

            at(us(12, 40), fn)
        elif kind == "void":

            def fn():
                bid = void(us(18, 22), "c3", "T1", pick_lines(6, big=True), reason="no reason")
                planted.append(("void", bid))

            at(us(18, 22), fn)
        elif kind == "total_outlier":

            def fn():
                elec = [sk for sk in products if products[sk]["category"] == "electronics"]
                lines = [line(i + 1, sk, 20) for i, sk in enumerate(elec[-8:])]
                o = sell(us(10, 17), "c5", "T3", lines, pay="card")
                planted.append(("total_outlier", o.order_id))

            at(us(10, 17), fn)
        elif kind == "outside_hours":

            def fn():
                o = sell(us(2, 31), "c6", "T3", pick_lines(2), pay="card")
                planted.append(("outside_hours", o.order_id))

            at(us(2, 31), fn)
        elif kind == "unusual_till_ip":

            def fn():
                # a morning cashier, late, on another shift's till, from an unknown address
                staff = ["c1", "c2", "c5"][d % 3]
                till = {"c1": "T2", "c2": "T3", "c5": "T1"}[staff]
                o = sell(
                    us(19, 3),
                    staff,
                    till,
                    pick_lines(2),
                    pay="card",
                    ip=f"192.168.7.{d % 200 + 20}",
                )
                planted.append(("unusual_till_ip", o.order_id))

            at(us(19, 3), fn)
        elif kind == "topup_cash_refund":

            def fn():
                m = members[-1]
                o = sell(us(13, 1), "c2", "T2", pick_lines(2), member=m, pay="cash")
                cash_in(o)
                w.emit(
                    WalletToppedUp(m, 300000, "card", reference="R999"),
                    us(13, 20),
                    "c5",
                    "T3",
                    shop.ip("T3"),
                )
                r = refund(
                    us(14, 10), shop.aftersales, shop.aftersales_till, o.order_id, reason="return"
                )
                drawer[shop.aftersales_till] -= sum(t.amount for t in r.tenders if t.kind == "cash")
                planted.append(("topup_cash_refund", o.order_id))

            at(us(13, 1), fn)
        elif kind == "just_under_limit":

            def fn():
                for k in range(7):
                    lines = pick_lines(2)
                    o = sell(us(16, 5 + 6 * k), "c3", "T1", lines, order_disc_bp=950, pay="card")
                    planted.append(("just_under_limit", o.order_id))

            at(us(16, 5), fn)
        elif kind == "negative_stock_sale":

            def fn():
                sku = "P0150"
                short = stock.get(sku, 0)
                unit = products[sku]["unit"]
                o = sell(
                    us(15, 44),
                    "c4",
                    "T2",
                    [line(1, sku, short + (500 if unit == "kg" else 3))],
                    pay="card",
                )
                planted.append(("negative_stock_sale", o.order_id))
                receive(sku, us(15, 50))  # the delivery the shelf already had

            at(us(15, 44), fn)


def write_journal(path: str, history: History) -> None:
    """Write the history into a real journal file (``actors.journal.Journal``)."""
    from actors.journal import Journal, Pending

    j = Journal(path)
    try:
        batch = []
        for e in history.envelopes:
            batch.append(
                Pending(e.id, b"", e.ts, e.kind, e.v, e.staff, e.till, e.ip, e.agg, e.body)
            )
            if len(batch) >= 5000:
                j.append(batch)
                batch = []
        if batch:
            j.append(batch)
    finally:
        j.close()
