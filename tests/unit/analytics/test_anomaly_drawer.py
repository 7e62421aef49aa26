"""No-sale drawer openings per cashier (a cashier whose openings stand out from the others' or from
their own usual day), and goods taken off a basket after the repeat-scan merge (a line's quantity
lowered, a merged line removed), each beside look-alike innocent cases that must not be flagged."""

from __future__ import annotations

from test_anomaly_rules import Journal


def _open(j: Journal, hour: float, staff: str, reason: str = "change", day: int = 0) -> None:
    j.emit("drawer.opened", {"drawer_id": f"d{len(j.events)}", "reason": reason}, hour + 24 * day,
           staff)  # fmt: skip


def _sales(j: Journal, staff: str, n: int, day: int = 0) -> None:
    for i in range(n):
        j.sell(
            f"{staff}-{day}-{i}", 9 + 24 * day + i * 0.2, [("RICE", "each", 1, 5800)], staff=staff
        )


def test_a_cashier_whose_drawer_openings_stand_out_is_flagged_once_for_the_day() -> None:
    j = Journal()
    for s in ("c1", "c2", "c3", "c4"):
        _sales(j, s, 8)
    _open(j, 10.0, "c2")  # innocent: change for a customer, twice
    _open(j, 15.0, "c2", "correction")
    _open(j, 12.0, "c3", "pickup")
    for k in range(7):  # planted: seven no-sale openings in a day
        _open(j, 10.5 + k * 0.7, "c4")
    assert j.flags("no_sale_drawer") == {"drawer-c4-2026-03-02"}


def test_a_few_openings_are_never_flagged_even_when_nobody_else_opens_it() -> None:
    j = Journal()
    for s in ("c1", "c2", "c3"):
        _sales(j, s, 8)
    for k in range(4):  # at the threshold, not over it
        _open(j, 10 + k, "c1")
    assert j.flags("no_sale_drawer") == set()


def test_a_lone_cashier_is_judged_against_their_own_usual_day() -> None:
    j = Journal()
    for day in range(7):
        _sales(j, "c1", 10, day)
        _sales(j, "c9", 10, day)
        _open(j, 10, "c1", day=day)  # one a day for change
        for k in range(6):  # c9's habit: six a day, every day (a cash-heavy counter)
            _open(j, 11 + k * 0.5, "c9", day=day)
    for k in range(8):  # then a day with eight
        _open(j, 11 + k * 0.5, "c1", day=7)
    _sales(j, "c1", 10, 7)
    got = j.flags("no_sale_drawer")
    assert "drawer-c1-2026-03-09" in got
    assert not any(f.startswith("drawer-c9") for f in got)


def _qty(j: Journal, basket: str, line: str, qty: int, hour: float) -> None:
    j.emit("basket.quantity_changed", {"basket": basket, "line_id": line, "qty": qty}, hour)


def test_goods_taken_off_by_lowering_a_merged_lines_quantity() -> None:
    j = Journal()
    # planted: four bottles scanned (merged into one line), three taken off, one paid
    j.scan("O1", "L1", "WHISKY", "each", 1, 90000, 10.0)
    for i, q in enumerate((2, 3, 4)):
        _qty(j, "O1", "L1", q, 10.01 + i * 0.01)
    _qty(j, "O1", "L1", 1, 10.05)
    j.sell("O1", 10.06, [("WHISKY", "each", 1, 90000)])
    # planted: a merged line of three removed whole, a cheap line paid
    j.scan("O2", "L1", "WINE", "each", 1, 45000, 11.0)
    _qty(j, "O2", "L1", 3, 11.01)
    j.scan("O2", "L2", "SNACK", "each", 1, 2000, 11.02)
    j.emit("basket.line_removed", {"basket": "O2", "line_id": "L1"}, 11.03)
    j.sell("O2", 11.04, [("SNACK", "each", 1, 2000)])
    # innocent: a double scan put right at once (2 → 1, seconds later) on a 580 THB basket
    j.scan("O3", "L1", "RICE", "each", 1, 58000, 12.0)
    _qty(j, "O3", "L1", 2, 12.0 + 2 / 3600)
    _qty(j, "O3", "L1", 1, 12.0 + 9 / 3600)
    j.sell("O3", 12.03, [("RICE", "each", 1, 58000)])
    # innocent: the customer buys more (quantity only goes up)
    j.scan("O4", "L1", "BEER", "each", 1, 6000, 13.0)
    _qty(j, "O4", "L1", 6, 13.01)
    j.sell("O4", 13.02, [("BEER", "each", 6, 6000)])
    assert j.flags("removed_lines") == {"O1", "O2"}


def test_the_drawer_table_holds_each_opening_with_its_reason() -> None:
    from analytics.flatten import flatten

    j = Journal()
    _open(j, 10, "c1", "pickup")
    fr = flatten(j.events, "S1", "Asia/Bangkok")
    rows = fr["drawer_openings"].to_dicts()
    assert [(r["staff"], r["reason"], r["till"]) for r in rows] == [("c1", "pickup", "T1")]
    assert rows[0]["local_ts"].hour == 10  # the store's wall clock
    assert rows[0]["ts"].hour == 3  # stored in UTC


def test_opening_balances_loaded_at_set_up_are_not_out_of_hours_top_ups() -> None:
    """The demo seeds its members' wallets when it starts (at any hour, without a till): a fresh
    demo at night showed them as top-ups outside opening hours."""
    j = Journal()
    j.emit("wallet.topped_up", {"member": "M1", "amount": 50000, "tender": "cash"}, 2.0, "demo",
           "")  # fmt: skip
    j.emit("wallet.topped_up", {"member": "M2", "amount": 50000, "tender": "cash"}, 2.5, "c1",
           "T1")  # fmt: skip  # planted: at a till, at 02:30
    got = j.flags("outside_hours", open_minute=8 * 60, close_minute=22 * 60)
    assert got == {"topup-2"}
