"""Orders, refunds and rules for the loyalty tests: a pure ``Book`` driven like the ledger drives
it (check, then apply at the commit's time)."""

from __future__ import annotations

from typing import Any

from domain.book import Book
from domain.book_records import decide_refund
from domain.events import MemberRegistered, OrderCompleted, OrderLine, Payment
from domain.loyalty import DAY_US, CouponIssued, LoyaltyRules, LoyaltyRulesSet, Tier

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00Z


def rules(**kw: Any) -> LoyaltyRules:
    return LoyaltyRules(**kw)


def gold(threshold: int = 10_000, by: str = "spend", days: int = 30) -> LoyaltyRules:
    """1 point per 1.00; Gold (×2, 5 % off) from ``threshold`` spend (or visits) in ``days``."""
    tier = Tier("Gold", by, threshold, days, discount_bp=500, multiplier_bp=20_000)
    return LoyaltyRules(points_per_unit=1, unit=100, point_value=10, tiers=(tier,))


class Shop:
    """A book and a clock: ``commit`` checks and applies one event as the ledger would."""

    def __init__(self, r: LoyaltyRules | None = None, members: tuple[str, ...] = ("m1",)) -> None:
        self.book = Book()
        self.now = T0
        self.seq = 0
        for m in members:
            self.commit(MemberRegistered(m, m.upper()))
        if r is not None:
            self.commit(LoyaltyRulesSet(r))

    def commit(self, body: Any, till: str = "T1") -> Any:
        body = self.book.check(body, till, self.now)
        self.seq += 1
        self.book.apply(body, "s1", till, self.now, self.seq)
        return body

    def days(self, n: float) -> None:
        self.now += int(n * DAY_US)

    def sell(self, oid: str, total: int, *pays: Payment, member: str = "m1") -> OrderCompleted:
        """An order of one line of ``total``; the payments given, the rest in card."""
        rest = total - sum(p.amount for p in pays)
        payments = (*pays, Payment("card", rest, reference="ref", last4="4242")) if rest else pays
        return self.commit(order(oid, total, payments, member))

    def refund(self, oid: str, qty: int | None, rid: str = "") -> Any:
        rec = self.book.order(oid)
        lines = None if qty is None else {"L1": qty}
        return self.commit(decide_refund(rec, rid or f"r-{oid}-{len(rec.refunds)}", lines))

    def coupon(self, code: str, **kw: Any) -> CouponIssued:
        kw.setdefault("kind", "amount")
        kw.setdefault("value", 500)
        return self.commit(CouponIssued(code=code, **kw))

    @property
    def points(self) -> dict[str, int]:
        return self.book.points


def order(
    oid: str, total: int, payments: tuple[Payment, ...], member: str = "m1"
) -> OrderCompleted:
    """One line of 10 pieces worth ``total`` (so a refund may take any share of it)."""
    line = OrderLine(
        line_id="L1",
        sku="SKU1",
        names={"en": "Rice"},
        category="food",
        unit="pc",
        qty=10,
        unit_price=total // 10,
        base=total,
        discount=0,
        amount=total,
        tax=0,
        total=total,
        tax_class="zero",
        rate_bp=0,
    )
    return OrderCompleted(
        order_id=oid,
        number="",
        currency="THB",
        prices_include_tax=True,
        lines=(line,),
        subtotal=total,
        discount=0,
        tax=0,
        total=total,
        rounding=0,
        payments=payments,
        member=member,
    )


def points(member: str, amount: int, pts: int) -> Payment:
    return Payment("points", amount, member=member, points=pts)


def coupon(code: str, amount: int) -> Payment:
    return Payment("coupon", amount, reference=code)
