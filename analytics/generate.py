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
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from analytics.generate_day import _one_day
from analytics.generate_shop import (
    CATEGORIES,
    KG_CATEGORIES,
    History,
    Shop,
    _us,
    _Writer,
    write_journal,
)
from domain.basket import Basket, Line, price_basket
from domain.book import decide_refund
from domain.events import BasketVoided, LineAdded, MemberRegistered, OrderCompleted, StockReceived
from domain.payments import Tender, settle

__all__ = ["generate", "History", "Shop", "write_journal", "CATEGORIES"]


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

    for d in range(days):
        _one_day(
            d,
            start,
            plant,
            rng,
            shop,
            zone,
            w,
            tills,
            skus,
            products,
            stock,
            members,
            orders_by_day,
            planted,
            receive,
            line,
            pick_lines,
            sell,
            refund,
            void,
        )
    return History(shop, w.envs, planted, products, start, days)
