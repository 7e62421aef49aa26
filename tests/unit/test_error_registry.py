"""The error registry (``domain.error_codes``) is complete and true.

``codescan`` reads the source of every program (``ast``; nothing is run) and finds each place that
gives an error its code. The tests fail when a code found so is not registered, when the status it
is answered with is not the registered one, when a code built at run time (an f-string) has no
template in the registry, when a registered code is missing from the gateway's OpenAPI, or when its
text has no translation in a shipped language; and they check that a cashier reads a sentence.
"""

from __future__ import annotations

import pytest
from codescan import Scanner, problems, scan

from domain import errors
from domain.error_codes import AREAS, LOCAL, TEMPLATES, Code, entries, lookup

# ---------------------------------------------------------------- the code base


def test_the_scan_reads_the_whole_code_base():
    found = {site.code for site in scan().sites if not site.dynamic}
    assert len(found) > 190
    # one of each way a code is given
    for code in (
        "day.baskets_open",  # Conflict(...) in domain
        "tls.untrusted",  # ApiError(Tls.UNTRUSTED) in the till
        "net.offline",  # Offline: super().__init__(Net.OFFLINE)
        "auth.stale",  # cloud/ingest.py _refuse(401, "auth.stale", ...)
        "ingest.bad_encoding",  # ProtocolError
        "upload.connect",
        "upload.cut",  # LineError / TransportError kinds
        "auth.hq_token",  # a JSON answer built by hand
        "http.method_not_allowed",  # the gateway's status → code table
        "payment.card_number_refused",  # CARD_NUMBER_CODE
        "auth.open_refused",  # a class attribute
        "licence.clock_tampered",  # Decision(False, "licence.clock_tampered", ...)
        "printer.driver_missing",
    ):  # PrinterError, a subclass of Unavailable
        assert code in found, code


def test_every_code_raised_is_registered():
    assert problems(scan())["unregistered"] == []


def test_every_code_is_answered_with_its_registered_status():
    assert problems(scan())["status"] == []


def test_codes_built_at_run_time_have_a_template():
    assert problems(scan())["dynamic"] == []


def test_the_templates_cover_every_value():
    from domain.licence import STATUSES
    from hw import printer

    states = [
        getattr(printer, n)
        for n in ("OK", "OFFLINE", "PAPER_OUT", "PAPER_LOW", "COVER_OPEN", "ERROR", "UNKNOWN")
    ]
    for state in states:
        assert lookup(f"printer.{state}") in TEMPLATES["printer.{state}"]
    for status in STATUSES:
        code = "licence.checked" if status == "ok" else f"licence.{status}"
        assert lookup(code) in TEMPLATES["licence.{status}"]


def test_the_checks_catch_what_they_are_for():
    bad = Scanner(
        {
            "x/mod.py": """
from domain.errors import Conflict
from kiosk.client import ApiError
class Weird(Conflict):
    http_status = 418
def _refuse(status, code, message):
    return {"ok": False, "code": code, "message": message}
def f(x):
    raise Conflict("zz.nobody_registered_this", "m")
def g(x):
    raise Conflict(f"zz.{x}")
def h():
    raise ApiError("tls.untrusted", "", 500)
def i():
    return _refuse(403, "day.closed", "m")
def j():
    raise Weird(error_codes.Day.NO_SUCH_MEMBER)
def k():
    raise Weird("day.closed")
"""
        }
    )
    found = problems(bad)
    assert any(p.startswith("zz.nobody_registered_this") for p in found["unregistered"])
    assert any(p.startswith("Day.NO_SUCH_MEMBER") for p in found["unregistered"])
    assert "day.closed" in {site.code for site in bad.sites}
    assert found["dynamic"] and found["dynamic"][0].startswith("zz.")
    assert [p.split(" at ")[0] for p in found["status"]] == [
        "tls.untrusted answered 500",
        "day.closed answered 403",
        "day.closed answered 418",
    ]


# ---------------------------------------------------------------- the registry itself


def test_a_code_is_its_string_and_carries_its_class_status_and_text():
    from domain.error_codes import Day

    err = errors.Conflict(Day.BASKETS_OPEN, "pay or void the baskets first")
    assert err.code == "day.baskets_open" and type(err.code) is str
    assert Day.BASKETS_OPEN == "day.baskets_open"
    assert lookup("day.baskets_open") is Day.BASKETS_OPEN
    assert Day.BASKETS_OPEN.error is errors.Conflict and Day.BASKETS_OPEN.status == 409
    with pytest.raises(KeyError):
        lookup("day.no_such_code")


@pytest.mark.parametrize("entry", list(entries()), ids=str)
def test_each_entry_is_consistent(entry: Code):
    assert type(entry) in AREAS and str(entry) == entry.code
    if entry.error is not None:
        assert entry.status == entry.error.http_status
    assert entry.status == LOCAL or 400 <= entry.status < 600
    text = entry.text
    assert text[:1].isupper() and text.endswith((".", "…")), text  # a sentence
    assert "{" not in text and "refused:" not in text.lower()


def test_every_code_is_in_the_openapi():
    from actors.openapi import SPEC

    published = SPEC["x-kassa-error-codes"]
    for entry in entries():
        got = published.get(entry.code)
        assert got is not None, entry.code
        assert got["status"] == (entry.status or None) and got["text"] == entry.text
        assert got.get("also", []) == list(entry.also)
    assert set(published) == {e.code for e in entries()}


# ---------------------------------------------------------------- what the operator reads


@pytest.mark.parametrize("lang", ["zh", "th", "ar"])
def test_every_text_is_translated(lang: str):
    from kiosk.catalogues import missing
    from kiosk.i18n import translator

    texts = {entry.text for entry in entries()}
    assert texts.isdisjoint(missing(lang))
    tr = translator(lang)
    untranslated = sorted(t for t in texts if tr.gettext(t) in ("", t))
    assert untranslated == []


def test_the_english_catalogue_lists_every_text():
    from kiosk.catalogues import extract, missing

    texts = {entry.text for entry in entries()}
    assert texts <= set(extract())
    assert texts.isdisjoint(missing("en"))


def test_a_refusal_reads_as_a_sentence_in_the_cashiers_language():
    from kiosk import i18n
    from kiosk.client import ApiError
    from kiosk.errors import UNKNOWN_REFUSAL, error_text

    refusal = ApiError("day.baskets_open", "pay or void the open and parked baskets first", 409)
    try:
        i18n.set_language("en")
        assert error_text(refusal) == (
            "Pay or void the open and parked baskets on every till, then close the day."
        )
        for entry in entries():
            assert error_text(ApiError(entry.code, "", entry.status)) == entry.text
        assert error_text(errors.Conflict("wallet.insufficient_funds")) == (
            "The member's wallet does not have enough money. Pay the rest another way."
        )
        # a code this till does not know yet, and a crash: a sentence with a next step, no code
        assert error_text(ApiError("zz.newer", "", 409)) == UNKNOWN_REFUSAL
        assert error_text(RuntimeError("boom")) == lookup("kiosk.error").text
        i18n.set_language("th")
        thai = error_text(refusal)
        assert thai and "refused" not in thai and any("\u0e00" <= ch <= "\u0e7f" for ch in thai)
        i18n.set_language("zh")
        assert (
            error_text(refusal)
            == "请先在每台收银机上结账或作废未结和挂起的购物篮，然后再结束营业日。"
        )
    finally:
        i18n.set_language("en")
