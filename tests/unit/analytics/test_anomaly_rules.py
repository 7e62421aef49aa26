"""Each fraud rule of issue 19 on a planted case, beside a look-alike innocent case that must not be
flagged (a produce label, a normal refund after a top-up, a cashier with many ordinary voids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from analytics.anomaly import RuleConfig, score
from analytics.flatten import flatten

ZONE = "Asia/Bangkok"
DAY = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=7)  # local midnight, Bangkok


class Journal:
    """Wire events of a tiny shop, built by hand."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, kind: str, body: dict, hour: float, staff: str = "c1", till: str = "T1") -> None:
        ts = DAY + timedelta(hours=hour)
        n = len(self.events) + 1
        self.events.append(
            {
                "seq": n,
                "id": f"e{n}",
                "ts": int(ts.timestamp() * 1_000_000),
                "kind": kind,
                "staff": staff,
                "till": till,
                "ip": "10.0.0.1",
                "body": body,
            }
        )

    def sell(
        self,
        oid: str,
        hour: float,
        lines: list[tuple[str, str, int, int]],  # sku, unit, qty, unit price
        pay: str = "cash",
        staff: str = "c1",
        member: str = "",
        discount: int = 0,
    ) -> None:
        body_lines = []
        for i, (sku, unit, qty, price) in enumerate(lines):
            base = (qty * price + 500) // 1000 if unit == "kg" else qty * price
            body_lines.append(
                {
                    "line_id": f"L{i + 1}",
                    "sku": sku,
                    "names": {"en": sku},
                    "category": "",
                    "unit": unit,
                    "qty": qty,
                    "unit_price": price,
                    "base": base,
                    "discount": 0,
                    "amount": base,
                    "tax": 0,
                    "total": base,
                    "tax_class": "std",
                    "rate_bp": 0,
                }
            )
        subtotal = sum(ln["base"] for ln in body_lines)
        total = subtotal - discount
        self.emit(
            "order.completed",
            {
                "order_id": oid,
                "number": oid,
                "currency": "THB",
                "prices_include_tax": True,
                "lines": body_lines,
                "subtotal": subtotal,
                "discount": discount,
                "tax": 0,
                "total": total,
                "rounding": 0,
                "payments": [{"kind": pay, "amount": total, "member": member}],
                "member": member,
            },
            hour,
            staff,
        )

    def scan(self, basket: str, line: str, sku: str, unit: str, qty: int, price: int,
             hour: float, embedded: bool = False) -> None:  # fmt: skip
        body = {"basket": basket, "line_id": line, "sku": sku, "names": {"en": sku}, "unit": unit}
        body |= {"qty": qty, "unit_price": price, "tax_class": "std", "rate_bp": 0}
        self.emit("basket.line_added", {**body, "embedded": embedded}, hour)

    def refund(self, oid: str, hour: float, amount: int, tender: str, staff: str = "a1",
               sold_by: str = "c1") -> None:  # fmt: skip
        self.emit(
            "order.refunded",
            {
                "refund_id": f"R-{oid}",
                "order_id": oid,
                "currency": "THB",
                "lines": [{"line_id": "L1", "sku": "X", "qty": 1, "amount": amount, "tax": 0}],
                "tenders": [{"kind": tender, "amount": amount}],
                "amount": amount,
                "original_staff": sold_by,
            },
            hour,
            staff,
        )

    def topup(self, member: str, amount: int, tender: str, hour: float) -> None:
        self.emit("wallet.topped_up", {"member": member, "amount": amount, "tender": tender}, hour)

    def void(self, basket: str, amount: int, hour: float, staff: str) -> None:
        self.emit("basket.voided", {"basket": basket, "lines": 1, "amount": amount}, hour, staff)

    def flags(self, rule: str, **cfg: Any) -> set[str]:
        fr: dict[str, Any] = dict(flatten(self.events, "S1", ZONE))
        cat = cfg.pop("catalogue", None)
        if cat:
            fr["catalogue"] = pl.DataFrame(
                [{"store_id": "S1", "sku": s, "unit": u, "price": p} for s, u, p in cat]
            )
        got = score(fr, RuleConfig(rules=(rule,), zone=ZONE, **cfg))
        return set(got["order_id"])


def test_lines_removed_before_paying() -> None:
    j = Journal()
    # planted: three bottles scanned, two taken off, one paid (the goods left)
    j.scan("O1", "L1", "WHISKY", "each", 1, 90000, 10.0)
    j.scan("O1", "L2", "WHISKY", "each", 1, 90000, 10.01)
    j.scan("O1", "L3", "WHISKY", "each", 1, 90000, 10.02)
    j.emit("basket.line_removed", {"basket": "O1", "line_id": "L2"}, 10.03)
    j.emit("basket.line_removed", {"basket": "O1", "line_id": "L3"}, 10.04)
    j.sell("O1", 10.05, [("WHISKY", "each", 1, 90000)])
    # innocent: a customer changes their mind about a 20 THB snack in a 600 THB basket
    j.scan("O2", "L1", "RICE", "each", 1, 58000, 11.0)
    j.scan("O2", "L2", "SNACK", "each", 1, 2000, 11.01)
    j.emit("basket.line_removed", {"basket": "O2", "line_id": "L2"}, 11.02)
    j.sell("O2", 11.03, [("RICE", "each", 1, 58000)])
    assert j.flags("removed_lines") == {"O1"}


def test_many_small_wallet_orders_by_one_member_within_minutes() -> None:
    j = Journal()
    for k in range(5):  # planted: five 90 THB wallet orders in 12 minutes
        j.sell(f"W{k}", 14 + k * 0.05, [("GIFT", "each", 1, 9000)], pay="wallet", member="M1")
    # innocent: another member buys twice in ten minutes, and once more later
    j.sell("N1", 14.0, [("MILK", "each", 1, 4500)], pay="wallet", member="M2")
    j.sell("N2", 14.15, [("TEA", "each", 1, 1999)], pay="wallet", member="M2")
    j.sell("N3", 17.0, [("TEA", "each", 1, 1999)], pay="wallet", member="M2")
    assert j.flags("wallet_velocity") == {f"W{k}" for k in range(5)}


def test_refunds_and_topups_outside_opening_hours() -> None:
    j = Journal()
    j.sell("A", 12.0, [("MILK", "each", 1, 4500)])
    j.sell("B", 12.5, [("MILK", "each", 1, 4500)])
    j.refund("A", 23.5, 4500, "cash")  # planted: refund at 23:30 local
    j.refund("B", 13.0, 4500, "cash")  # innocent: in hours
    j.topup("M1", 100000, "cash", 5.0)  # planted: top-up at 05:00 local
    j.topup("M2", 100000, "cash", 9.0)  # innocent
    got = j.flags("outside_hours", open_minute=8 * 60, close_minute=22 * 60)
    assert got == {"A", "topup-5"}  # a top-up is named by its journal seq


def test_discounts_at_the_limit_count_as_near_it() -> None:
    j = Journal()
    for k in range(6):  # planted: six discounts of exactly 10 % (the cashier's limit)
        j.sell(f"D{k}", 10 + k, [("TEA", "each", 1, 10000)], discount=1000, staff="c3")
    for k in range(6):  # innocent: ordinary 5 % member discounts
        j.sell(f"E{k}", 10 + k, [("TEA", "each", 1, 10000)], discount=500, staff="c4")
    assert j.flags("just_under_limit") == {f"D{k}" for k in range(6)}


def test_price_below_the_catalogue_price_and_produce_labels_are_their_own_price() -> None:
    j = Journal()
    cat = [("BRANDY", "each", 120000), ("APPLE", "kg", 8000)]
    # planted: a brandy only ever sold with a fake price label at 40 THB (never at 1,200)
    for k in range(3):
        j.scan(f"P{k}", "L1", "BRANDY", "each", 1, 4000, 9 + k, embedded=True)
        j.sell(f"P{k}", 9.01 + k, [("BRANDY", "each", 1, 4000)])
    # innocent: pre-packed apples (a per-kg product sold as one labelled piece at 22.40)
    for k in range(4):
        j.scan(f"A{k}", "L1", "APPLE", "each", 1, 2240, 13 + k, embedded=True)
        j.sell(f"A{k}", 13.01 + k, [("APPLE", "each", 1, 2240)])
    # innocent: weighed apples at the per-kg price; after a price cut, the new price
    j.sell("K1", 15.5, [("APPLE", "kg", 350, 8000)])
    j.scan("C1", "L1", "BRANDY", "each", 1, 70000, 18.0)  # the till rang up the sale price
    j.sell("C1", 18.01, [("BRANDY", "each", 1, 70000)])
    assert j.flags("price_override", catalogue=cat) == {"P0", "P1", "P2"}


def test_wallet_to_cash_after_a_topup_not_any_refund() -> None:
    j = Journal()
    j.topup("M1", 50000, "cash", 9.0)
    j.topup("M1", 300000, "card", 10.0)  # the top-up whose money comes out
    j.sell("W", 10.2, [("PHONE", "each", 1, 290000)], pay="wallet", member="M1")
    j.refund("W", 10.5, 290000, "cash")  # planted: wallet money out as cash
    # innocent: a member who topped up buys with cash and gets a normal cash refund
    j.topup("M2", 100000, "card", 11.0)
    j.sell("C", 11.5, [("TEA", "each", 1, 1999)], pay="cash", member="M2")
    j.refund("C", 12.0, 1999, "cash")
    fr = flatten(j.events, "S1", ZONE)
    got = score(fr, RuleConfig(rules=("topup_cash_refund",), zone=ZONE))
    assert set(got["order_id"]) == {"W"}
    assert '"topup_tender":"card"' in got["evidence"][0]
    assert '"topped_up":300000' in got["evidence"][0]


def test_cash_refund_of_an_order_paid_by_card() -> None:
    j = Journal()
    j.sell("K", 10.0, [("TV", "each", 1, 900000)], pay="card")
    j.refund("K", 11.0, 900000, "cash")  # planted
    j.sell("C", 10.0, [("TV", "each", 1, 900000)], pay="cash")
    j.refund("C", 11.0, 900000, "cash")  # innocent
    j.sell("D", 10.0, [("TV", "each", 1, 900000)], pay="card")
    j.refund("D", 11.0, 900000, "card")  # innocent
    assert j.flags("refund_to_cash") == {"K"}


def test_void_outliers_not_a_cashiers_whole_day() -> None:
    j = Journal()
    for staff, n in (("c1", 2), ("c2", 2), ("c3", 1), ("c9", 12)):
        for k in range(n):
            j.void(f"{staff}-{k}", 3000 + k * 100, 9 + k * 0.5, staff)
    got = j.flags("void")
    assert got == {"c9-11"}, "one flag, the largest void of the cashier who stands out"
    # a busy day: everyone voids 5 to 7 ordinary baskets; nobody stands out
    j = Journal()
    for staff, n in (("c1", 5), ("c2", 6), ("c3", 7)):
        for k in range(n):
            j.void(f"{staff}-{k}", 3000, 9 + k * 0.5, staff)
    assert j.flags("void") == set()
    # a single large void is always worth a look
    j.void("big", 150000, 20.0, "c1")
    assert j.flags("void") == {"big"}
