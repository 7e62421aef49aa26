"""Counts in words: one line is "1 line", not "1 lines", in every language the till speaks (the
pay screen's subject, the basket's detail, parked baskets, receipts waiting to print)."""

from __future__ import annotations

import pytest

from kiosk import i18n
from kiosk.i18n import N_


@pytest.fixture
def lang():
    yield i18n.set_language
    i18n.set_language("en")


def subject(n: int) -> str:
    return i18n.counted(N_("1 line, {amount}"), N_("{n} lines, {amount}"), n, amount="THB5.00")


def test_one_line_is_said_in_the_singular(lang):
    lang("en")
    assert subject(1) == "1 line, THB5.00"
    assert subject(2) == "2 lines, THB5.00"
    assert subject(1200) == "1,200 lines, THB5.00"
    waiting = i18n.counted(N_("1 receipt waiting"), N_("{n} receipts waiting"), 1)
    assert waiting == "1 receipt waiting"


def test_each_language_has_its_own_words_for_one(lang):
    for code, one in (("zh", "1 行"), ("th", "1 รายการ"), ("ar", "بند واحد")):
        lang(code)
        assert subject(1).startswith(one), (code, subject(1))
        assert "line" not in subject(1) and "line" not in subject(3), code
