"""The words staff read: every error a till can show is a translated sentence with what to do next
and no raw code; permissions are named, not ids; brackets in Arabic read right; the staff form
changes only what was edited."""

from __future__ import annotations

import re

import pytest

from domain.error_codes import entries, lookup
from domain.staff_rules import ACTIONS
from kiosk import i18n

LANGS = ("zh", "th", "ar")
CODES = {e.code for e in entries()}
# what looks like a code: area.reason (a dotted lower-case word)
CODE_LIKE = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z_{}][a-z0-9_{}]*\b")

# the refusals a cashier, an after-sales clerk or a manager meets at the till's counters
MET_AT_THE_TILL = (
    "day.baskets_open",
    "day.closed",
    "day.already_open",
    "auth.bad_credentials",
    "auth.forbidden",
    "auth.locked",
    "staff.exists",
    "staff.self_lock",
    "staff.nothing_to_change",
    "basket.none",
    "basket.empty",
    "basket.line_not_found",
    "basket.bad_quantity",
    "product.not_found",
    "product.not_sellable",
    "discount.over_limit",
    "discount.too_large",
    "payment.insufficient",
    "payment.overpaid",
    "payment.unbalanced",
    "wallet.insufficient_funds",
    "member.not_found",
    "order.not_found",
    "order.frozen",
    "refund.exceeds_paid",
    "refund.nothing_left",
    "printer.paper_out",
    "printer.offline",
    "net.offline",
    "store.unavailable",
    "kiosk.error",
)


# a next step: an instruction, after what happened or on its own
NEXT_STEP = re.compile(
    r"(^|[.;:,]\s+|then\s+|\bor\s+)(Pay|Check|Ask|Call|Scan|Enter|Choose|Select|Try|Wait|Load|"
    r"Close|Sign|Go on|Refresh|Find|Install|Update|Use|Lower|Complete|Start|Weigh|Edit|"
    r"Register|Nothing (more )?to do|A manager must|the till keeps trying)\b"
)


@pytest.fixture
def lang():
    yield i18n.set_language
    i18n.set_language("en")


def till_texts() -> dict[str, str]:
    """Every English text a till screen can show for an error."""
    from kiosk.errors import UNKNOWN_REFUSAL

    out = {e.code: e.text for e in entries()}
    out["(a code the till does not know)"] = UNKNOWN_REFUSAL
    return out


@pytest.mark.parametrize("code", MET_AT_THE_TILL)
def test_an_error_met_at_the_till_says_what_to_do_next(code: str):
    text = lookup(code).text
    assert NEXT_STEP.search(text), f"{code}: {text!r} does not say what to do next"


def test_every_error_text_is_translated_and_names_no_code(lang):
    texts = till_texts()
    for code, english in texts.items():
        assert not CODE_LIKE.search(english), f"{code}: {english!r}"
    for name in LANGS:
        lang(name)
        for code, english in texts.items():
            shown = i18n._(english)
            assert shown and shown != english, f"{name}: no translation for {code}"
            assert not (set(CODE_LIKE.findall(shown)) & CODES), f"{name} {code}: {shown!r}"


def test_what_the_till_shows_never_holds_a_code_or_a_developers_text(lang):
    from kiosk.client import ApiError, Offline
    from kiosk.errors import error_text

    developer = "KeyError: 'total' at kiosk/screens/sale.py:120"
    cases = [
        ApiError("day.baskets_open", "3 baskets open on K1, K2", 409),
        ApiError("zz.newer_code", developer, 409),  # a newer store's code
        Offline("HTTPConnectionPool(host='127.0.0.1', port=8080): Max retries exceeded"),
        RuntimeError(developer),
        KeyError("total"),
    ]
    for name in ("en", *LANGS):
        lang(name)
        for exc in cases:
            text = error_text(exc)
            assert text and not CODE_LIKE.search(text), (name, text)
            assert "zz.newer_code" not in text and "KeyError" not in text and "8080" not in text
    lang("ar")
    assert error_text(ApiError("day.baskets_open", "", 409)) == i18n._(
        lookup("day.baskets_open").text
    )


def test_every_action_has_a_translated_name(lang):
    from kiosk.staff import ACTION_LABELS, action_label

    assert set(ACTION_LABELS) == set(ACTIONS)
    english = {a: action_label(a) for a in ACTIONS}
    assert all(english[a] != a and not CODE_LIKE.search(english[a]) for a in ACTIONS)
    assert len(set(english.values())) == len(ACTIONS)  # no two read the same
    for name in LANGS:
        lang(name)
        for a in ACTIONS:
            assert action_label(a) != english[a], f"{name}: {a} untranslated"


def test_brackets_in_arabic_read_the_right_way_round(lang):
    lang("ar")
    hint = i18n.T("Order number, receipt barcode, member card or phone, or a date (YYYY-MM-DD)")
    assert "(YYYY-MM-DD)" in hint  # drawn left to right: opening bracket on the left
    assert i18n.shown("مرحبا (عالم)").startswith("(") and i18n.shown("مرحبا (عالم)").count("(") == 1
    assert "(abc)" in i18n.shown("مرحبا (abc) عالم")
    lang("en")
    assert i18n.shown("Total (THB)") == "Total (THB)"


def test_the_staff_form_sends_only_what_was_edited():
    from kiosk.screens.manager_staff import changes

    amal = {"staff": "a1", "name": "After-sales Amal", "role": "aftersales", "language": "ar"}
    same = {"staff": "a1", "name": "After-sales Amal", "role": "aftersales", "language": "ar"}
    assert changes(amal, {**same, "pin": ""}) == {}
    assert changes(amal, {**same, "name": "Amal", "pin": ""}) == {"name": "Amal"}
    assert changes(amal, {**same, "pin": "4545"}) == {"pin": "4545"}
    assert changes(amal, {**same, "role": "manager", "pin": ""}) == {"role": "manager"}
