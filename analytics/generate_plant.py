"""The planted anomalies of ``analytics.generate``: ``_plant`` schedules the anomalies of one day,
one kind per rule of ``analytics.anomaly`` (see ``History.planted``). To plant a new kind: add its
name to ``kinds`` and its branch below.
"""

from __future__ import annotations

from analytics.generate_shop import _us
from domain.events import WalletToppedUp


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
