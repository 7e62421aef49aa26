"""The operation log's words (``kiosk.screens.oplog_words``, ``kiosk.screens.manager_oplog``):
every event kind the store journals reads as a sentence in each language, never its raw key;
money is formatted; the period filter's days are the store's; long lines are cut at their
logical end and wrapped so an Arabic sentence still starts on the first line."""

from __future__ import annotations

import datetime as dt

import pytest

import analytics.events  # noqa: F401  (registers the flag kinds, as the store does)
from domain.events import KINDS
from kiosk import i18n
from kiosk.screens.manager_oplog import elide, period_range, wrapped
from kiosk.screens.oplog_words import SENTENCES, describe

LANGS = ("en", "zh_CN", "th", "ar")


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


def test_every_journaled_kind_has_a_sentence():
    missing = sorted(k for k in KINDS if k not in SENTENCES)
    assert not missing, missing


REFUND = {
    "kind": "order.refunded",
    "staff": "a1",
    "till": "A2",
    "ip": "127.0.0.2",
    "approved_by": "m1",
    "details": {
        "number": "R-A2-000001",
        "order_id": "0f5e0c1c-2b7e-4f7a-9a55-1234567890ab",
        "order_number": "A1-000012",
        "amount": 4500,
        "currency": "THB",
        "reason": "damaged box",
    },
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_refund_reads_as_words_with_money_in_every_language(lang):
    i18n.set_language(lang)
    text = describe(REFUND, "THB")
    money = i18n.money(4500, "THB")
    assert "A1-000012" in text and money in text and "damaged box" in text and "m1" in text
    assert "order.refunded" not in text and "4500" not in text
    if lang == "en":
        assert text == f"Refunded order A1-000012 — {money} (reason: damaged box; approved by m1)"
    else:
        assert "Refunded" not in text and "reason" not in text  # translated


@pytest.mark.parametrize("lang", LANGS)
def test_every_kind_reads_without_raw_keys(lang):
    i18n.set_language(lang)
    for kind in KINDS:
        text = describe({"kind": kind, "details": {"amount": 100, "reason": "idle"}}, "THB")
        assert kind not in text and "{" not in text, (kind, text)
    unknown = describe({"kind": "courier.picked_up", "details": {}}, "THB")
    assert "courier.picked_up" in unknown  # a kind this version does not know: named


def test_periods_are_the_stores_days():
    today = dt.date(2026, 11, 30)
    bkk = 7 * 3600 * 1_000_000  # Asia/Bangkok is UTC+7
    day0 = int(dt.datetime(2026, 11, 30, tzinfo=dt.UTC).timestamp() * 1_000_000) - bkk
    one = 86_400 * 1_000_000
    assert period_range("today", "Asia/Bangkok", today=today) == (day0, day0 + one)
    assert period_range("yesterday", "Asia/Bangkok", today=today) == (day0 - one, day0)
    assert period_range("7", "Asia/Bangkok", today=today) == (day0 - 6 * one, day0 + one)
    assert period_range("all", "Asia/Bangkok", today=today) == (0, 0)
    typed = period_range("7", "Asia/Bangkok", "2026-11-29", "2026-11-30", today=today)
    assert typed == (day0 - one, day0 + one)  # both days included
    assert period_range("all", "Asia/Bangkok", "", "2026-11-29") == (0, day0)
    with pytest.raises(ValueError):
        period_range("all", "Asia/Bangkok", "30/11/2026")


def test_long_lines_are_cut_and_wrapped_at_their_logical_end():
    measure = len  # one "pixel" per character
    assert elide("short", 10, measure) == "short"
    cut = elide("Refunded order A1-000012 — THB45.00", 12, measure)
    assert cut.startswith("Refunded") and cut.endswith("…") and len(cut) <= 12
    ar = "استرد الطلب A1-000012 — ‏45.00 ฿ (السبب: علبة تالفة)"
    lines = wrapped(ar, 20, lambda s: len(s)).split("\n")
    assert len(lines) > 1 and lines[0].startswith("استرد")  # the sentence starts on line 1
    assert " ".join(lines) == ar
