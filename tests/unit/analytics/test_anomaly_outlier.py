"""A huge total in a quiet hour: too few orders in that hour to know its usual, so the store's
usual stands in (a planted 15-bottle card order at 19:45 went unflagged); an ordinary bigger
basket in the same quiet hour is not flagged."""

from __future__ import annotations

from test_anomaly_rules import Journal


def test_a_huge_total_in_a_quiet_hour_is_judged_against_the_stores_usual() -> None:
    j = Journal()
    for i in range(60):  # the busy hours: small baskets of 40-120 THB
        price = 4000 + (i * 1300) % 8000
        j.sell(f"N{i}", 10 + (i % 4) + i / 100, [("RICE", "each", 1, price)], staff="c1")
    j.sell("BIG", 19.75, [("BRANDY", "each", 15, 120000)], staff="c1", pay="card")  # planted
    j.sell("MORE", 19.8, [("RICE", "each", 3, 9000)], staff="c1")  # innocent: a bigger basket
    assert j.flags("total_outlier") == {"BIG"}
