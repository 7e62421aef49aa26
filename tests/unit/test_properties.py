"""Property tests: random sequences of sales (mixed tenders incl. wallet), refunds (whole and by
line), top-ups, wallet spends and freezes against a real Ledger on a temporary file.

Whatever the sequence: money is conserved per tender, no wallet goes below zero, refunds never
exceed what was paid for a line or by a tender, and a fresh ledger rebuilt from the journal agrees.
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from actors.journal import verify_journal
from actors.ledger import Ledger
from actors.till import Till, Who
from domain.catalogue import CatalogueIndex
from domain.commands import FreezeOrder, RefundOrder, UnfreezeOrder
from domain.errors import Conflict, KassaError
from domain.events import OrderCompleted, OrderRefunded, WalletToppedUp
from domain.money import round_cash
from domain.ports import ManualClock
from domain.stock import StockBook
from tests.unit.conftest import Shop, cid, make_config, sample_products

MEMBERS = ("M1", "M2")
SKUS = ("MILK-1L", "BREAD", "SOAP", "WATER", "APPLE")
INC = 25

topup = st.tuples(st.just("topup"), st.sampled_from(MEMBERS), st.integers(1, 30000))
sale = st.tuples(
    st.just("sale"),
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 4)), min_size=1, max_size=4),
    st.sampled_from(MEMBERS),
    st.integers(0, 10),  # tenths of the total asked from the wallet
    st.integers(0, 10),  # tenths of the rest paid by card
    st.integers(0, 3000),  # extra cash handed over
    st.sampled_from([0, 0, 500, 2500]),  # order discount, basis points (manager approved)
)
refund = st.tuples(
    st.just("refund"),
    st.integers(0, 50),
    st.one_of(st.none(), st.lists(st.integers(0, 7), min_size=1, max_size=4)),  # None = whole
    st.booleans(),  # ask for one more than is left on a line
)
freeze = st.tuples(st.just("freeze"), st.integers(0, 50))
ops = st.lists(st.one_of(topup, sale, sale, refund, refund, freeze), min_size=1, max_size=25)


class Model:
    """What the customer side saw, accumulated from acknowledgements only."""

    def __init__(self) -> None:
        self.topups: Counter[str] = Counter()
        self.spends: Counter[str] = Counter()
        self.wallet_back: Counter[str] = Counter()
        self.paid_in: Counter[str] = Counter()  # per tender kind
        self.paid_out: Counter[str] = Counter()
        self.orders: list[OrderCompleted] = []
        self.refunds: dict[str, list[OrderRefunded]] = defaultdict(list)
        self.frozen: set[str] = set()
        self.sold: Counter[str] = Counter()


def run_sale(shop: Shop, m: Model, op) -> None:
    _, lines, member, wallet_tenths, card_tenths, extra, disc = op
    for sku, qty in lines:
        args = {"sku": sku, "weight_g": qty * 250} if sku == "APPLE" else {"sku": sku, "qty": qty}
        shop.do("add", args)
    if disc:
        shop.do(
            "discount_order",
            {"kind": "pct", "value": disc},
            who=Who(staff="boss", limit_bp=1000, approved_by="boss"),
        )
    total = shop.till.view()["total"]
    wallet_amt = total * wallet_tenths // 10
    card_amt = (total - wallet_amt) * card_tenths // 10
    due = total - wallet_amt - card_amt
    tenders = []
    if wallet_amt:
        tenders.append({"kind": "wallet", "member": member, "amount": wallet_amt})
    if card_amt:
        tenders.append(
            {
                "kind": "card",
                "amount": card_amt,
                "reference": f"TRM-{len(m.orders)}",
                "last4": "4242",
            }
        )
    if due:
        tenders.append({"kind": "cash", "amount": round_cash(due, INC) + extra + 1})
    balance = shop.ledger.balance(member)
    try:
        res = shop.do("pay", {"tenders": tenders})
    except Conflict as exc:
        assert exc.code == "wallet.insufficient_funds"
        event("sale refused: wallet too low")
        assert wallet_amt > balance  # refused only when the wallet really was too low
        shop.do("void", {"reason": "customer cannot pay"})
        return
    assert wallet_amt <= balance
    order = shop.ledger.book.order(res["order"]["order_id"]).order
    assert order.total == total
    assert sum(p.amount for p in order.payments) == order.total + order.rounding
    assert 2 * abs(order.rounding) <= INC
    for p in order.payments:
        m.paid_in[p.kind] += p.amount
        if p.kind == "wallet":
            m.spends[p.member] += p.amount
    for ln in order.lines:
        m.sold[ln.sku] += ln.qty
    m.orders.append(order)


def run_refund(shop: Shop, m: Model, op) -> None:
    _, idx, picks, over = op
    if not m.orders:
        return
    order = m.orders[idx % len(m.orders)]
    done = Counter()
    for r in m.refunds[order.order_id]:
        for rl in r.lines:
            done[rl.line_id] += rl.qty
    left = {ln.line_id: ln.qty - done[ln.line_id] for ln in order.lines}
    if picks is None:
        lines = None
        expect = None if any(left.values()) else "refund.nothing_left"
    else:
        lines = {}
        for i, pick in enumerate(picks):
            ln = order.lines[i % len(order.lines)]
            lines[ln.line_id] = (
                pick % (left[ln.line_id] + 1)
                if ln.unit == "each"
                else (left[ln.line_id] if pick % 2 else pick * 17 % (left[ln.line_id] + 1))
            )
        if over:
            first = next(iter(lines))
            lines[first] = left[first] + 1
        lines = {k: v for k, v in lines.items() if v > 0}
        if not lines:
            return
        expect = "refund.exceeds_paid" if over else None
    if order.order_id in m.frozen:
        expect = "order.frozen"
    try:
        ack = shop.submit(RefundOrder(order.order_id, cid(), lines, cash_increment=INC))
    except KassaError as exc:
        assert exc.code == expect, (exc.code, expect)
        event(f"refund refused: {exc.code}")
        return
    assert expect is None, f"expected {expect}"
    r: OrderRefunded = ack.body
    assert r.order_id == order.order_id
    paid_keys = {(p.kind, p.member, p.reference) for p in order.payments}
    for t in r.tenders:
        assert (t.kind, t.member, t.reference) in paid_keys  # back to an original tender
        assert t.amount > 0
        m.paid_out[t.kind] += t.amount
        if t.kind == "wallet":
            m.wallet_back[t.member] += t.amount
    m.refunds[order.order_id].append(r)
    event(
        "refund: "
        + ("whole" if lines is None else "by line")
        + (" with cash" if any(t.kind == "cash" for t in r.tenders) else "")
        + (" to wallet" if any(t.kind == "wallet" for t in r.tenders) else "")
    )
    for rl in r.lines:
        m.sold[rl.sku] -= rl.qty


def check(ledger: Ledger, m: Model) -> None:
    book = ledger.book
    for member in MEMBERS:
        bal = ledger.balance(member)
        assert bal >= 0
        assert bal == m.topups[member] - m.spends[member] + m.wallet_back[member]
    # the book's view of money per tender equals what customers handed over and got back
    book_in, book_out = Counter(), Counter()
    for rec in book.orders.values():
        for i, p in enumerate(rec.order.payments):
            book_in[p.kind] += p.amount
            book_out[p.kind] += rec.refunded_tender[i]
            assert 0 <= rec.refunded_tender[i] <= p.amount
    assert +book_in == +m.paid_in and +book_out == +m.paid_out
    for order in m.orders:
        rec = book.order(order.order_id)
        refunds = m.refunds[order.order_id]
        qty, amount = Counter(), Counter()
        for r in refunds:
            assert sum(t.amount for t in r.tenders) == r.amount + r.rounding
            for rl in r.lines:
                qty[rl.line_id] += rl.qty
                amount[rl.line_id] += rl.amount
        per_tender = Counter()
        for r in refunds:
            for t in r.tenders:
                per_tender[(t.kind, t.member, t.reference)] += t.amount
        paid = Counter()
        for p in order.payments:
            paid[(p.kind, p.member, p.reference)] += p.amount
        for key, out in per_tender.items():
            assert out <= paid[key]
        full = True
        for ln in order.lines:
            assert qty[ln.line_id] <= ln.qty
            assert 0 <= amount[ln.line_id] <= ln.total
            assert rec.refunded_qty.get(ln.line_id, 0) == qty[ln.line_id]
            full = full and qty[ln.line_id] == ln.qty
        if full:
            event("an order was fully refunded")
            # everything came back: each line's total, and each tender exactly what it paid
            assert all(amount[ln.line_id] == ln.total for ln in order.lines)
            assert per_tender == paid


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_money_is_conserved_and_no_balance_goes_negative(steps):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "journal.sqlite"
        clock = ManualClock()
        ledger = Ledger(path, clock=clock)
        cfg = make_config(cash_increment=INC)
        shop = Shop(ledger, Till("T1", cfg, CatalogueIndex(sample_products())))
        m = Model()
        try:
            for member in MEMBERS:
                shop.member(member)
            shop.submit(WalletToppedUp("M1", 20000, "cash"))  # M2 starts empty
            m.topups["M1"] += 20000
            for op in steps:
                clock.advance(1)
                if op[0] == "topup":
                    ack = shop.submit(WalletToppedUp(op[1], op[2], "cash"))
                    m.topups[op[1]] += op[2]
                    assert ack.body.balance_after == ledger.balance(op[1])
                elif op[0] == "sale":
                    run_sale(shop, m, op)
                elif op[0] == "refund":
                    run_refund(shop, m, op)
                elif op[0] == "freeze" and m.orders:
                    oid = m.orders[op[1] % len(m.orders)].order_id
                    if oid in m.frozen:
                        shop.submit(UnfreezeOrder(oid, "checked"))
                        m.frozen.discard(oid)
                    else:
                        shop.submit(FreezeOrder(oid, "random check"))
                        m.frozen.add(oid)
                check(ledger, m)
            # stock moved by exactly what was sold and refunded
            sb = StockBook()
            for e in ledger.journal.scan():
                sb.apply(e.decoded())
            assert {k: v for k, v in sb.levels.items() if v} == {
                k: -v for k, v in m.sold.items() if v
            }
            # a ledger rebuilt from the file agrees, and the chain is intact
            again = Ledger(path, clock=clock)
            try:
                check(again, m)
                assert {o: again.order(o) for o in again.book.orders} == {
                    o: ledger.order(o) for o in ledger.book.orders
                }
            finally:
                again.journal.close()
            assert verify_journal(path).ok
        finally:
            ledger.journal.close()


# ------------------------------------------------------------------ pure-domain properties

from fractions import Fraction  # noqa: E402

from domain.basket import Basket, Line, price_basket  # noqa: E402
from domain.book import Book, decide_refund  # noqa: E402
from domain.events import OrderLine, Payment  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    qty=st.integers(1, 2000),
    total=st.integers(0, 10**7),
    rate=st.integers(0, 3000),
    parts=st.lists(st.integers(1, 2000), min_size=1, max_size=12),
)
def test_partial_refunds_of_a_line_are_fair_and_add_up(qty, total, rate, parts):
    tax = total - total * 10000 // (10000 + rate)
    line = OrderLine(
        "L1",
        "X",
        {"en": "x"},
        "",
        "each",
        qty,
        total // qty,
        total,
        0,
        total,
        tax,
        total,
        "std",
        rate,
    )
    order = OrderCompleted(
        "O1",
        "T1-1",
        "THB",
        True,
        (line,),
        total,
        0,
        tax,
        total,
        0,
        (Payment("card", total, reference="R", last4="1234"),) if total else (),
    )
    book = Book()
    book.apply(order, "s", "T1", 0, 1)
    done = 0
    for n, want in enumerate(parts):
        q = min(want, qty - done)
        if q == 0:
            break
        r = decide_refund(book.order("O1"), f"R{n}", {"L1": q})
        book._check_refund(r)
        book.apply(r, "s", "T1", 0, n + 2)
        rl = r.lines[0]
        assert abs(Fraction(rl.amount) - Fraction(total * q, qty)) <= 1
        assert abs(Fraction(rl.tax) - Fraction(tax * q, qty)) <= 1
        assert sum(t.amount for t in r.tenders) == rl.amount
        done += q
    rec = book.order("O1")
    if done == qty:
        assert rec.refunded_amount["L1"] == total
    assert rec.refunded_amount.get("L1", 0) <= total
    if total:  # every refunded unit of money went back to the one card
        assert rec.refunded_tender == [rec.refunded_amount.get("L1", 0)]


line_st = st.tuples(
    st.integers(0, 100000),
    st.integers(1, 50),
    st.sampled_from([0, 700, 1000]),
    st.sampled_from(["", "pct", "amount"]),
    st.integers(0, 10000),
)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(line_st, min_size=1, max_size=8),
    inclusive=st.booleans(),
    order_kind=st.sampled_from(["", "pct", "amount"]),
    order_value=st.integers(0, 10**6),
)
def test_basket_pricing_adds_up(lines, inclusive, order_kind, order_value):
    b = Basket(
        "B",
        "T1",
        lines=tuple(
            Line(f"L{i}", f"S{i}", {"en": "x"}, "", "each", qty, price, "std", rate, kind, value)
            for i, (price, qty, rate, kind, value) in enumerate(lines)
        ),
        discount_kind=order_kind,
        discount_value=order_value,
    )
    p = price_basket(b, inclusive)
    assert p.total == sum(ln.total for ln in p.lines)
    assert p.subtotal == sum(price * qty for price, qty, *_ in lines)
    assert 0 <= p.discount <= p.subtotal
    for ln in p.lines:
        assert 0 <= ln.amount <= ln.base and ln.discount == ln.base - ln.amount
        assert ln.tax >= 0
        assert ln.total == (ln.amount if inclusive else ln.amount + ln.tax)
    assert p.total == (p.subtotal - p.discount if inclusive else p.subtotal - p.discount + p.tax)
