"""Day commands without Ray: the licence gate on opening a day, decided in a real ledger, and the Z
sequence at close."""

from __future__ import annotations

import uuid

import pytest

from actors.ledger import Ledger, Request
from domain.day import DayClosed
from domain.errors import Conflict
from domain.handlers_day import LicenceAnswer, OpenDay, ZStep, check_till_count, z_sequence

OK = LicenceAnswer(ok=True, code="licence.ok", tills=2, licence_id="L1")


def submit(ledger: Ledger, body, till: str = "T1"):
    cid = str(uuid.uuid4())
    return ledger.submit(Request(cid, cid.encode(), body, staff="m1", till=till))


def test_a_refusing_licence_refuses_the_day(ledger):
    lic = LicenceAnswer(
        ok=False, code="licence.expired", message="expired", tills=2, licence_id="L1"
    )
    with pytest.raises(Conflict) as info:
        submit(ledger, OpenDay("T1", "2026-11-30", 100, lic))
    assert info.value.code == "day.licence_refused"
    assert info.value.details == {"licence_code": "licence.expired", "grace_days_left": 0}
    assert ledger.seq == 0


def test_a_licence_in_grace_opens_the_day_and_the_day_records_the_warning(ledger):
    lic = LicenceAnswer.of(
        {"ok": True, "code": "licence.ok", "warn_code": "licence.grace", "grace_days_left": 3},
        {"tills": 1, "licence_id": "L1"},
    )
    ack = submit(ledger, OpenDay("T1", "2026-11-30", 100, lic))
    assert ack.kind == "day.opened"
    assert (ack.body.licence_code, ack.body.grace_days_left, ack.body.float) == (
        "licence.grace",
        3,
        100,
    )


def test_a_till_beyond_the_licence_count_cannot_open(ledger):
    submit(ledger, OpenDay("T1", "2026-11-30", 0, OK), "T1")
    submit(ledger, OpenDay("T2", "2026-11-30", 0, OK), "T2")
    with pytest.raises(Conflict) as info:
        submit(ledger, OpenDay("T3", "2026-11-30", 0, OK), "T3")
    assert info.value.code == "licence.too_many_tills"
    assert info.value.details["in_use"] == ["T1", "T2"]
    submit(ledger, DayClosed("T1", 0), "T1")
    assert submit(ledger, OpenDay("T1", "2026-12-01", 0, OK), "T1").kind == "day.opened"


def test_the_till_count_rule():
    assert check_till_count("T1", 2, "L1", ["T1"]) is True  # licensed for good
    assert check_till_count("T2", 2, "L1", ["T1"]) is False  # room: its day open decides
    assert check_till_count("T9", 0, "", ["T1", "T2"]) is False  # no licence: day open refuses
    with pytest.raises(Conflict):
        check_till_count("T3", 2, "L1", ["T1", "T2"])
    with pytest.raises(Conflict):  # only the first `allowed` tills in use count
        check_till_count("T3", 2, "L1", ["T1", "T2", "T3"])


def test_the_store_z_follows_the_last_open_till_of_the_day():
    days = {
        "T1": {"open": False, "business_day": "2026-11-30"},
        "T2": {"open": True, "business_day": "2026-11-30"},
    }
    assert z_sequence("T1", "2026-11-30", days) == [ZStep("till", "T1", "2026-11-30")]
    days["T2"]["open"] = False
    days["T3"] = {"open": True, "business_day": "2026-12-01"}  # another day's till
    assert z_sequence("T1", "2026-11-30", days) == [
        ZStep("till", "T1", "2026-11-30"),
        ZStep("store", "", "2026-11-30"),
    ]
