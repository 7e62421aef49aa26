"""One trading day of ``analytics.generate``: the tills opened with a float, sales at the hours'
weights, wallet top-ups, routine voids, after-sales refunds, stock replenished and counted, the
day's planted anomalies, and every till closed with counted cash — each action run at its time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.generate_plant import _plant
from analytics.generate_shop import HOUR_WEIGHT, WEEKDAY_WEIGHT, Shop, _us, _Writer
from domain.basket import Line
from domain.events import OrderCompleted, StockCounted, WalletToppedUp


def _one_day(
    d: int,
    start: date,
    plant: bool,
    rng: random.Random,
    shop: Shop,
    zone: ZoneInfo,
    w: _Writer,
    tills: list[str],
    skus: list[str],
    products: dict[str, dict[str, Any]],
    stock: dict[str, int],
    members: list[str],
    orders_by_day: list[list[str]],
    planted: list[tuple[str, str]],
    receive: Callable[[str, int], None],
    line: Callable[..., Line],
    pick_lines: Callable[..., list[Line]],
    sell: Callable[..., OrderCompleted],
    refund: Callable[..., Any],
    void: Callable[..., str],
) -> None:
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

            def aftersale(oid: str = oid, h: int = h, mi: int = mi, whole: bool = whole) -> None:
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
                drawer[shop.aftersales_till] -= sum(t.amount for t in r.tenders if t.kind == "cash")

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
