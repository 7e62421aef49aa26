"""The admin app's Members and Coupons tabs without a window: the coupon form's checks (what is
sent, and each mistake named by its field), a member's tier per store as HQ works it out from
every store's orders, and an import's bad rows numbered by their row in the whole file."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from admin.screens.coupon_form import DAY_US, check_coupon_form
from admin.screens.members import store_rows
from admin.screens.members_io import csv_part, problem_text
from cloud.members_search import tiers
from domain.loyalty import LoyaltyRules, Tier, Visit
from domain.member_points import PointsFold

KNOWN = ["S001", "S002"]


def form(**v: str) -> tuple[dict, dict]:
    return check_coupon_form(v, "THB", "Asia/Bangkok", KNOWN)


def test_a_good_amount_coupon_is_sent_as_typed():
    doc, errors = form(
        kind="amount",
        value="50.00",
        min_spend="300",
        uses="5",
        valid_from="2026-12-01",
        valid_to="2026-12-31",
        member="M1",
        stores="S002, S001",
        code="xmas50",
    )
    assert errors == {}
    start = 1_796_058_000_000_000  # 2026-12-01 00:00 in Bangkok (UTC+7)
    assert doc == {
        "kind": "amount",
        "value": 5000,
        "min_spend": 30000,
        "uses": 5,
        "valid_from": start,
        "valid_to": start + 31 * DAY_US - 1,  # to the end of 31 December
        "member": "M1",
        "stores": ["S001", "S002"],
        "code": "XMAS50",
    }


def test_a_percent_is_sent_in_basis_points_and_blank_fields_are_left_to_hq():
    doc, errors = form(kind="percent", value="12.5", uses="")
    assert errors == {} and doc == {"kind": "percent", "value": 1250, "min_spend": 0, "uses": 1}


def test_each_mistake_is_named_by_its_field():
    _doc, errors = form(
        kind="percent",
        value="120",
        min_spend="-1",
        uses="0",
        valid_from="2026-12-31",
        valid_to="2026-12-01",
        member="bad id!",
        stores="S001 S999",
        code="AB",
    )
    assert set(errors) == {"value", "min_spend", "uses", "valid_to", "member", "stores", "code"}
    assert "S999" in errors["stores"]
    assert set(form(kind="amount", value="0")[1]) == {"value"}
    assert set(form(kind="amount", value="1", valid_to="31/12/2026")[1]) == {"valid_to"}


def _fold(rules: LoyaltyRules | None, visits: dict[str, list[Visit]]) -> PointsFold:
    f = PointsFold()
    f.loyalty.rules = rules
    f.loyalty.visits = visits
    return f


def test_hq_gives_each_store_its_tier_from_the_orders_at_every_store():
    now = 400 * DAY_US
    gold = LoyaltyRules(tiers=(Tier("Silver", threshold=500), Tier("Gold", threshold=1000)))
    pool = SimpleNamespace(
        points={
            "S001": _fold(gold, {"M1": [Visit(now - DAY_US, "a", 600)]}),
            "S002": _fold(None, {"M1": [Visit(now - 2 * DAY_US, "b", 600)]}),
            "S003": _fold(gold, {"M2": [Visit(now - DAY_US, "c", 9000)]}),
        },
        stores={},
    )
    hq = SimpleNamespace(lock=threading.Lock(), pool=pool)
    got = tiers(hq, "M1", now)["tiers"]
    # Gold at S001 (600 there + 600 at S002); S002 has no rules; S003 never saw M1
    assert [(t["store"], t["tier"], t["spend"]) for t in got] == [
        ("S001", "Gold", 600),
        ("S002", None, 600),
    ]
    member = {"wallet": {"floats": {"S001": 700}}, "points": {"floats": {"S004": 3}}}
    rows = store_rows(member, got)
    assert [(r["store"], r.get("wallet"), r.get("points"), r.get("tier")) for r in rows] == [
        ("S001", 700, None, "Gold"),
        ("S002", None, None, None),
        ("S004", None, 3, None),
    ]


def test_an_import_part_keeps_the_files_columns_and_hqs_reasons_are_translatable():
    rows = [{"member": "M1", "card": "007", "name": "A"}, {"member": "M2", "card": "", "name": "B"}]
    assert csv_part(rows, ["member", "card", "name"]) == b"member,card,name\nM1,007,A\nM2,,B\n"
    from kiosk import i18n

    i18n.set_language("ar")
    try:
        assert problem_text("card C1 belongs to member M9") == "البطاقة C1 تخص العضو M9"
        assert problem_text("consent: yes or no") == "الموافقة: نعم أو لا"
        assert problem_text("something new") == "something new"  # as HQ wrote it
    finally:
        i18n.set_language("en")
