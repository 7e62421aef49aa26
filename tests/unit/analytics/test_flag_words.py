"""A flag's evidence in words for any reader (the till's inbox and HQ's): the language is an
argument, not the till's state; a range of hours inside Arabic text keeps its order once shaped."""

from __future__ import annotations

import pytest

from analytics.anomaly import RULES
from analytics.flag_words import RULE_NAMES, SENTENCES, describe, rule_name
from kiosk import i18n

HOURS = {
    "rule": "outside_hours",
    "evidence": {
        "what": "sale",
        "amount": 3050,
        "local_time": "23:41",
        "opening_hours": "08:00-22:00",
    },
}
DRAWER = {
    "rule": "no_sale_drawer",
    "evidence": {
        "openings_that_day": 7,
        "usual_per_cashier": 1.0,
        "own_usual": 1.0,
        "top_reason": "change",
    },
}


def test_every_rule_has_a_name_and_a_sentence() -> None:
    assert set(RULE_NAMES) == set(RULES) == set(SENTENCES)


def test_arabic_hours_keep_their_order_once_shaped_for_tk() -> None:
    text = describe(HOURS, "THB", "ar")
    drawn = i18n.shown(text, "ar")
    assert "08:00-22:00" in drawn and "22:00-08:00" not in drawn
    assert "23:41" in drawn
    assert not any(m in drawn for m in "\u2066\u2067\u2068\u2069\u200e\u200f")  # no boxes in Tk
    assert "ساعات" not in drawn  # shaped: presentation forms, not the plain letters


def test_english_text_carries_no_isolation_marks() -> None:
    assert describe(HOURS, "THB", "en") == (
        "A sale of THB30.50 at 23:41, outside opening hours 08:00-22:00."
    )


@pytest.mark.parametrize(
    ("lang", "word"), [("en", "Change for a customer"), ("th", "ทอน"), ("zh", "找零")]
)
def test_no_sale_openings_in_words_in_the_language_asked(lang: str, word: str) -> None:
    i18n.set_language("en")  # the till's language does not matter
    text = describe(DRAWER, "THB", lang)
    assert word in text and "7" in text, text
    assert "{" not in text


def test_rule_names_in_two_languages() -> None:
    assert rule_name("no_sale_drawer", "en") == "Drawer opened without a sale, often"
    assert rule_name("outside_hours", "th") != "Outside opening hours"
