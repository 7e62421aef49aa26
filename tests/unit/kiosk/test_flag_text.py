"""The flags inbox reads evidence as a sentence in the reader's language with formatted money,
never raw JSON in minor units (issue 19: '{"total":1377000,"staff_median":16037}')."""

from __future__ import annotations

import re

import msgspec
import pytest

from analytics.anomaly import RULES, RuleConfig, score
from analytics.flatten import flatten
from kiosk import i18n
from kiosk.screens.manager_flags import RULE_NAMES, describe
from tests.unit.analytics.test_anomaly_rules import ZONE, Journal

LANGS = ("en", "zh_CN", "th", "ar")


def _planted_flags() -> list[dict]:
    """Real flags of every rule (the rules' own evidence), from a small planted journal."""
    j = Journal()
    j.scan("O1", "L1", "WHISKY", "each", 1, 90000, 10.0)
    j.scan("O1", "L2", "WHISKY", "each", 1, 90000, 10.01)
    j.emit("basket.line_removed", {"basket": "O1", "line_id": "L2"}, 10.02)
    j.sell("O1", 10.05, [("WHISKY", "each", 1, 90000)])
    for k in range(5):
        j.sell(f"W{k}", 14 + k * 0.05, [("GIFT", "each", 1, 9000)], pay="wallet", member="M1")
    j.topup("M1", 300000, "card", 9.0)
    j.refund("W0", 15.0, 9000, "cash")
    j.sell("N", 23.5, [("TEA", "each", 1, 137700)], discount=137700 // 4)
    j.sell("K", 12.0, [("TV", "each", 1, 900000)], pay="card")
    j.refund("K", 12.1, 900000, "cash", staff="c1")
    j.void("V", 150000, 12.0, "c2")
    fr = dict(flatten(j.events, "S1", ZONE))
    return score(fr, RuleConfig(zone=ZONE)).to_dicts()


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


def test_every_rule_has_a_name_and_a_sentence() -> None:
    assert set(RULE_NAMES) == set(RULES)


@pytest.mark.parametrize("lang", LANGS)
def test_evidence_reads_as_words_with_money_in_the_readers_language(lang: str) -> None:
    flags = _planted_flags()
    rules = {f["rule"] for f in flags}
    assert {"removed_lines", "wallet_velocity", "topup_cash_refund", "refund_to_cash"} <= rules
    i18n.set_language(lang)
    for f in flags:
        f["evidence"] = msgspec.json.decode(f["evidence"])
        text = describe(f, "THB")
        assert "{" not in text and "_" not in text, (f["rule"], text)
        assert not re.search(r"\d{5,}", text), f"minor units leaked: {text}"
        if lang != "en":  # translated: the words are not English
            assert re.search(r"[^\x00-\x7f]{2}", text), (f["rule"], text)
    i18n.set_language(lang)
    tea = next(f for f in flags if f["rule"] == "high_discount")
    assert i18n.money(34425, "THB") in describe(tea, "THB")


def test_a_sentence_in_english_and_thai() -> None:
    flag = {
        "rule": "topup_cash_refund",
        "evidence": {
            "cash_refunded": 290000,
            "topped_up": 300000,
            "topup_tender": "card",
            "hours_after_topup": 0.5,
        },
    }
    i18n.set_language("en")
    en = describe(flag, "THB")
    assert en == (
        "THB2,900.00 refunded in cash from a wallet-paid order, 0.5 hours after a top-up of "
        "THB3,000.00 by card."
    )
    i18n.set_language("th")
    th = describe(flag, "THB")
    assert "฿2,900.00" in th and "บัตร" in th and "เงินสด" in th
