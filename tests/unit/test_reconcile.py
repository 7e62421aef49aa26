"""Reconciliation (``domain.reconcile``) of a statement with planted mismatches: every planted
missing payment, extra row, amount difference and fee is reported, and nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.reconcile import Journaled, StatementRow, reconcile

DAY = 86_400_000_000
T0 = 1_767_225_600_000_000


def test_each_planted_case_is_reported_once():
    j = [
        Journaled("RRN-1", 10000, T0, "card", order_id="O1"),
        Journaled("RRN-2", 25000, T0 + 1000, "card", order_id="O2"),  # never settled
        Journaled("RRN-3", 4500, T0 + 2000, "card", order_id="O3"),  # settled for less
        Journaled("", 7000, T0 + 3000, "qr", order_id="O4"),  # no reference: amount + date
        Journaled("RRN-5", -2000, T0 + 4000, "card", order_id="O5"),  # a refund
    ]
    s = [
        StatementRow("rrn-1 ", 10000, T0 + DAY, fee=150, line=2),
        StatementRow("RRN-3", 4400, T0 + DAY, fee=70, line=3),
        StatementRow("", 7000, T0 + DAY // 2, fee=0, line=4),
        StatementRow("RRN-5", -2000, T0 + DAY, line=5),
        StatementRow("RRN-9", 999, T0 + DAY, line=6),  # never journaled
        StatementRow("", -300, T0 + DAY, fee=300, line=7, fee_only=True),  # a fee row
    ]
    out = reconcile(j, s)
    assert [p.journaled.order_id for p in out.of("matched")] == ["O1", "O5", "O4"]
    assert [(p.journaled.order_id, p.difference) for p in out.of("amount_differs")] == [
        ("O3", -100)
    ]
    assert [p.journaled.order_id for p in out.of("missing")] == ["O2"]
    assert [p.row.line for p in out.of("extra")] == [6]
    assert out.fees == 150 + 70 + 300
    assert out.summary()["matched"] == 3


def test_the_date_window_and_the_nearest_payment():
    j = [Journaled("", 5000, T0, order_id="A"), Journaled("", 5000, T0 + 2 * DAY, order_id="B")]
    s = [StatementRow("", 5000, T0 + 2 * DAY + 10, line=1)]
    out = reconcile(j, s)
    assert [p.journaled.order_id for p in out.of("matched")] == ["B"]
    assert [p.journaled.order_id for p in out.of("missing")] == ["A"]
    far = reconcile([Journaled("", 5000, T0)], [StatementRow("", 5000, T0 + 4 * DAY)])
    assert len(far.of("missing")) == 1 and len(far.of("extra")) == 1


@st.composite
def planted(draw):
    n = draw(st.integers(1, 30))
    amounts = draw(st.lists(st.integers(1, 10**7), min_size=n, max_size=n, unique=True))
    pays = [
        Journaled(f"REF{i:05d}", a * 2, T0 + i * 60_000_000, "card", order_id=f"O{i}")
        for i, a in enumerate(amounts)
    ]
    fate = draw(
        st.lists(st.sampled_from(["ok", "missing", "differs", "noref"]), min_size=n, max_size=n)
    )
    fees = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    rows, want = [], {"matched": set(), "amount_differs": set(), "missing": set(), "extra": set()}
    for i, (p, f) in enumerate(zip(pays, fate, strict=True)):
        at = p.at_us + draw(st.integers(0, DAY))
        if f == "missing":
            want["missing"].add(p.order_id)
        elif f == "differs":  # odd amounts never equal an even journaled one
            rows.append(StatementRow(p.reference, p.amount + 1, at, fees[i], line=i))
            want["amount_differs"].add(p.order_id)
        else:
            ref = p.reference if f == "ok" else ""
            rows.append(StatementRow(ref, p.amount, at, fees[i], line=i))
            want["matched"].add(p.order_id)
    extra = draw(st.lists(st.integers(1, 10**6), max_size=5))
    for k, a in enumerate(extra):
        rows.append(StatementRow(f"X{k}", a * 2 + 1, T0, 10, line=1000 + k))  # odd: no payment
        want["extra"].add(1000 + k)
    rows.append(StatementRow("", -77, T0, 77, line=2000, fee_only=True))
    order = draw(st.permutations(rows))
    total_fees = sum(r.fee for r in rows)
    return pays, order, want, total_fees


@settings(max_examples=150, deadline=None)
@given(planted())
def test_every_planted_case_is_reported_and_nothing_else(case):
    pays, rows, want, total_fees = case
    out = reconcile(pays, rows)
    got = {
        s: {p.journaled.order_id for p in out.of(s)}
        for s in ("matched", "amount_differs", "missing")
    }
    got["extra"] = {p.row.line for p in out.of("extra")}
    assert got == want
    assert out.fees == total_fees
    assert len(out.pairs) == len(pays) + len(want["extra"])
