"""The planted frauds of ``bench/anomaly_quality.py``, each written as what a dishonest person does
at the counter through the store's ordinary API (scan, lower a quantity, discount, pay, refund,
top up, open the drawer), with the amounts and counts such a person would choose — drawn at
random from plausible ranges, not from the rules' thresholds. ``plant_day(shop, day, d, rng, g)``
plants day ``d``'s cases; ``shop.plant(kind, rule, id)`` records which rule should catch each.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

__all__ = ["plant_day", "KINDS", "ean"]

KINDS = (
    "refund_soon_same_staff", "refund_other_cashier", "high_discount", "discount_at_limit",
    "discount_just_under", "fake_price_label", "lines_removed", "line_taken_off", "big_void",
    "huge_total", "many_voids", "sale_after_hours", "refund_before_opening", "topup_after_hours",
    "unusual_till", "wallet_velocity", "wallet_to_cash", "never_received", "no_sale_drawer",
)  # fmt: skip


def ean(body: str) -> str:
    s = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - s % 10) % 10)


def plant_day(shop: Any, day: datetime, d: int, rng: random.Random, g: dict) -> None:
    """The planted cases of day ``d`` (each kind on two or three days of the week)."""

    def t(h: float, m: float = 0) -> None:
        shop.at(day + timedelta(hours=h, minutes=m, seconds=rng.randrange(60)))

    cheap, dear, brandy = g["cheap"], g["dear"], g["brandy"]
    if d in (0, 3, 5):
        t(11, 7)  # the manager sells, then refunds it himself a little later
        oid = shop.sell("m1", [rng.choice(dear)], "cash", till="T1")
        t(11, 7 + rng.randint(3, 25))
        shop.call("m1", "T1", "POST", f"/v1/orders/{oid}/refund", {"reason": "x"})
        shop.plant("refund_soon_same_staff", "refund_soon_same_staff", oid)
        t(12, 40)  # the manager (who sells too) refunds a cashier's sale of the morning
        oid = shop.sell("c2", [rng.choice(dear)], "cash")
        t(16, rng.randint(0, 50))
        shop.call("m1", "T1", "POST", f"/v1/orders/{oid}/refund", {"reason": "x"})
        shop.plant("refund_other_cashier", "refund_other_cashier", oid)
    if d in (1, 4):
        t(13, 20)  # a manager lets a friend have a third or half off
        oid = shop.sell(
            "c1", [rng.choice(dear)], discount_bp=rng.choice((2500, 3500, 5000)), approval=True
        )
        shop.plant("high_discount", "high_discount", oid)
        for k in range(rng.randint(5, 8)):  # her friends come by all afternoon: 10 % each
            t(14 + k * 0.5, rng.randint(0, 25))
            oid = shop.sell("c3", [rng.choice(dear)], "cash", discount_bp=1000)
            shop.plant("discount_at_limit", "just_under_limit", oid)
    if d in (2, 6):
        bp = rng.choice((900, 950, 990))  # just under the limit, to stay out of sight
        for k in range(rng.randint(5, 8)):
            t(10 + k * 0.4, rng.randint(0, 20))
            oid = shop.sell("c2", [rng.choice(dear)], "card", discount_bp=bp)
            shop.plant("discount_just_under", "just_under_limit", oid)
    if d in (0, 2, 4):
        t(14, 30)  # a price label printed for the brandy at a fraction of its price
        cheat = 120000 * rng.randint(20, 50) // 100 // 100 * 100
        oid = shop.sell("c1", [ean(f"2090001{cheat // 100:05d}")])
        shop.plant("fake_price_label", "price_override", oid)
        t(17, 10)  # sweethearting: bottles scanned for show, the count lowered, all leave
        oid = shop.sweetheart("c3", brandy, rng.randint(2, 4), rng)
        shop.plant("lines_removed", "removed_lines", oid)
    if d in (1, 5):
        t(18, 30)  # a bottle scanned with cheap items, its line taken off while bagging
        oid = shop.take_off("c2", [brandy, rng.choice(cheap), rng.choice(cheap)], rng)
        shop.plant("line_taken_off", "removed_lines", oid)
    if d in (1, 3, 5):
        t(12, 0)  # a big basket voided after the customer "paid"
        view: dict = {}
        for c in [brandy] * rng.randint(2, 3):
            view = shop.cmd("c2", "T2", "scan", code=c)["view"]
        shop.cmd("c2", "T2", "void", reason="x")
        shop.plant("big_void", "void", view["basket"])
        t(19, 45)  # a huge total (a reseller's card, or a stolen one)
        oid = shop.sell("c1", [brandy] * rng.randint(10, 20), "card")
        shop.plant("huge_total", "total_outlier", oid)
    if d in (2, 5):
        n = rng.randint(10, 14)
        for k in range(n):  # one cashier voids basket after basket (cash kept)
            t(9, 5 + 11 * k)
            code = brandy if k == n - 1 else rng.choice(cheap)  # the last one is her largest
            view = shop.cmd("c3", "T3", "scan", code=code)["view"]
            shop.cmd("c3", "T3", "void", reason="x")
            if k == n - 1:
                shop.plant("many_voids", "void", view["basket"])
    if d in (1, 3, 6):
        t(22, rng.randint(40, 59))  # sold after closing
        oid = shop.sell("c1", [rng.choice(cheap)], "cash")
        shop.plant("sale_after_hours", "outside_hours", oid)
        t(23, rng.randint(0, 40))
        oid2 = shop.sell("c2", [rng.choice(cheap)], "cash")
        t(36, 0)  # refunded the next day, in hours
        shop.call("a1", "T5", "POST", f"/v1/orders/{oid2}/refund", {"reason": "x"})
        shop.plant("sale_after_hours", "outside_hours", oid2)
        t(20, 0)  # sold in hours, refunded before opening the next morning
        oid = shop.sell("c3", [rng.choice(cheap)], "card")
        t(29 + rng.random() * 2.5)
        shop.call("a1", "T5", "POST", f"/v1/orders/{oid}/refund", {"reason": "x"})
        shop.plant("refund_before_opening", "outside_hours", oid)
        t(5 + rng.random() * 1.5)  # a top-up in the empty shop
        m = rng.choice(g["members"])
        r = shop.call(
            "c1", "T1", "POST", f"/v1/members/{m}/topup", {"amount": 200000, "tender": "cash"}
        )
        shop.plant("topup_after_hours", "outside_hours", f"topup-{r['seq']}")
    if d in (4, 6):
        t(16, 30)  # a cashier on a till they never use
        oid = shop.sell("c1", [rng.choice(cheap)], "cash", till="T9")
        shop.plant("unusual_till", "unusual_till_ip", oid)
    if d in (0, 3, 6):
        m = g["members"][d]
        for k in range(rng.randint(4, 7)):  # a member's wallet emptied in small orders
            t(18, 2 + 2 * k)
            oid = shop.sell(("c1", "c2")[k % 2], [rng.choice(cheap)], "wallet", member=m)
            shop.plant("wallet_velocity", "wallet_velocity", oid)
    if d in (1, 5):
        m = g["members"][10 + d]
        t(10, 0)  # topped up by card, spent from the wallet, refunded in cash
        shop.call(
            "c1", "T1", "POST", f"/v1/members/{m}/topup", {"amount": 300000, "tender": "card"}
        )
        t(10, 20)
        oid = shop.sell("c2", [brandy], "split", member=m)
        t(11, rng.randint(0, 50))
        shop.call("a1", "T5", "POST", f"/v1/orders/{oid}/refund", {"reason": "x"})
        shop.plant("wallet_to_cash", "topup_cash_refund", oid)
    if d in (2, 4):
        t(15, 45)  # sold off the shelf although never received
        oid = shop.sell("c2", [ean("885999000002")], "cash")
        shop.plant("never_received", "negative_stock_sale", oid)
    if d in (0, 3, 6):  # skimming: the drawer opened again and again through a shift
        staff = ("c1", "c2", "c3")[d % 3]
        for _ in range(rng.randint(6, 10)):
            t(9 + rng.random() * 11)
            reason = rng.choice(("change", "change", "change", "correction"))
            shop.call(staff, shop.till_of(staff), "POST", "/v1/drawer", {"reason": reason})
        shop.plant("no_sale_drawer", "no_sale_drawer", f"drawer-{staff}-{day.date()}")
