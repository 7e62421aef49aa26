"""The pure rules: signed licence documents, signed check results, the grace decision."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest

from domain.errors import Conflict, InvalidInput
from domain.events import KINDS, decode_body, encode_body, kind_of
from domain.licence import (
    CheckResult,
    Licence,
    LicenceChecked,
    check_for_store,
    decide,
    new_private_key,
    public_key_text,
    read_licence,
    read_result,
    sign_licence,
    sign_result,
)
from licence_helpers import DAY, HOUR, MINUTE, START, _no_ray  # noqa: F401

KEY = new_private_key()
PUB = public_key_text(KEY)
LIC = Licence("LIC-1", "S001", START, START + 365 * DAY, 7, 4, ("wallet", "reports"), START)


def test_domain_module_is_pure():
    src = Path(__file__).resolve().parents[3] / "domain" / "licence.py"
    banned = {"ray", "sqlite3", "duckdb", "aiohttp", "tkinter", "ttkbootstrap", "escpos"}
    for node in ast.walk(ast.parse(src.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        assert not {n.split(".")[0] for n in names} & banned, names


def test_sign_and_read_round_trip():
    doc = sign_licence(LIC, KEY)
    assert doc["licence"]["features"] == ["reports", "wallet"]  # canonical: sorted
    lic = read_licence(doc, PUB)
    assert lic.store_id == "S001" and lic.tills == 4 and lic.has("wallet")
    import json

    assert read_licence(json.dumps(doc, indent=3), PUB) == lic  # whitespace does not matter


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["licence"].__setitem__("tills", 40),
        lambda d: d["licence"].__setitem__("valid_until", d["licence"]["valid_until"] + DAY),
        lambda d: d["licence"].__setitem__("grace_days", 70),
        lambda d: d["licence"].__setitem__("store_id", "S002"),
        lambda d: d["licence"]["features"].append("everything"),
        lambda d: d["licence"].__setitem__("extra", 1),
        lambda d: d.__setitem__("sig", d["sig"][:-4] + "AAA="),
    ],
)
def test_tampered_licence_is_refused(edit):
    doc = copy.deepcopy(sign_licence(LIC, KEY))
    edit(doc)
    with pytest.raises(InvalidInput) as exc:
        read_licence(doc, PUB)
    assert exc.value.code == "licence.bad_signature"


def test_licence_from_another_hq_is_refused():
    other = sign_licence(LIC, new_private_key())
    with pytest.raises(InvalidInput) as exc:
        read_licence(other, PUB)
    assert exc.value.code == "licence.bad_signature"


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"licence": 3}', {"sig": "x"}])
def test_malformed_licence(data):
    with pytest.raises(InvalidInput) as exc:
        read_licence(data, PUB)
    assert exc.value.code in ("licence.malformed", "licence.bad_signature")


def test_install_rules():
    check_for_store(LIC, "S001", START)
    with pytest.raises(Conflict) as exc:
        check_for_store(LIC, "S002", START)
    assert exc.value.code == "licence.wrong_store" and exc.value.http_status == 409
    with pytest.raises(Conflict) as exc:
        check_for_store(LIC, "S001", START + 366 * DAY)
    assert exc.value.code == "licence.expired"
    with pytest.raises(Conflict) as exc:
        check_for_store(LIC, "S001", START, {"LIC-1"})
    assert exc.value.code == "licence.revoked"


def test_check_result_verification():
    res = CheckResult("S001", "LIC-1", "ok", START, "n" * 32)
    signed = sign_result(res, KEY)
    assert read_result(signed, PUB, store_id="S001", licence_id="LIC-1", nonce="n" * 32) == res
    cases = [
        ({"nonce": "m" * 32}, "nonce"),  # a replayed answer to another request
        ({"store_id": "S002"}, "store"),
        ({"licence_id": "LIC-2"}, "store"),
    ]
    for kw, _ in cases:
        args = {"store_id": "S001", "licence_id": "LIC-1", "nonce": "n" * 32, **kw}
        with pytest.raises(InvalidInput) as exc:
            read_result(signed, PUB, **args)
        assert exc.value.code == "licence.bad_result"
    forged = copy.deepcopy(
        sign_result(CheckResult("S001", "LIC-1", "revoked", START, "n" * 32), KEY)
    )
    forged["result"]["status"] = "ok"
    with pytest.raises(InvalidInput):
        read_result(forged, PUB, store_id="S001", licence_id="LIC-1", nonce="n" * 32)
    foreign = sign_result(res, new_private_key())
    with pytest.raises(InvalidInput):
        read_result(foreign, PUB, store_id="S001", licence_id="LIC-1", nonce="n" * 32)


def test_a_licence_signature_is_not_a_result_signature():
    # same key, different signing context: one cannot be passed off as the other
    doc = sign_result(CheckResult("S001", "LIC-1", "ok", START, "n" * 32), KEY)
    with pytest.raises(InvalidInput):
        read_licence({"licence": doc["result"], "sig": doc["sig"]}, PUB)


# ---------------------------------------------------------------- decide


def d(now, *, last_ok=START, hw=None, **kw):
    return decide(LIC, last_ok=last_ok, high_water=now if hw is None else hw, now=now, **kw)


def test_decide_fresh_check():
    r = d(START + HOUR)
    assert (r.ok, r.code, r.grace_days_left, r.warn) == (True, "licence.ok", 7, False)


@pytest.mark.parametrize(
    "offline_days,ok,left,warn",
    [
        (1.5, True, 6, False),
        (4.5, True, 3, True),
        (6, True, 1, True),
        (7, True, 0, True),
        (7.01, False, 0, False),
        (8, False, 0, False),
        (30, False, 0, False),
    ],
)
def test_decide_grace(offline_days, ok, left, warn):
    r = d(START + int(offline_days * DAY))
    assert (r.ok, r.grace_days_left, r.warn) == (ok, left, warn), r
    if ok:
        assert r.code == "licence.grace" and (r.warn_code == "licence.grace_ending") == warn
    else:
        assert r.code == "licence.check_overdue"


def test_decide_never_checked_counts_from_issue():
    assert d(START + 6 * DAY, last_ok=None).ok
    assert not d(START + 8 * DAY, last_ok=None).ok


def test_decide_refusals_in_order():
    assert decide(None, last_ok=None, high_water=0, now=START).code == "licence.missing"
    assert d(START, revoked=True).code == "licence.revoked"
    assert d(START, unknown=True).code == "licence.unknown"
    assert d(START + 366 * DAY).code == "licence.expired"
    assert d(START - DAY, last_ok=None).code == "licence.not_yet_valid"
    assert d(START, tampered=True).code == "licence.clock_tampered"


def test_decide_expiry_warning():
    r = d(START + 360 * DAY, last_ok=START + 360 * DAY - HOUR)
    assert r.ok and r.warn and r.warn_code == "licence.expiring" and r.expires_days_left == 5


@pytest.mark.parametrize("back", [HOUR, DAY, 30 * DAY])
def test_decide_clock_behind_high_water_is_tampering(back):
    r = d(START + 3 * DAY - back, hw=START + 3 * DAY)
    assert not r.ok and r.code == "licence.clock_tampered"


def test_decide_small_drift_tolerated_but_never_extends_grace():
    hw = START + 7 * DAY - MINUTE  # last minute of grace
    r = d(hw - 2 * MINUTE, hw=hw)  # clock a little behind: not tampering
    assert r.ok
    r = d(START + 7 * DAY - 2 * MINUTE, hw=START + 7 * DAY + MINUTE)  # grace over per high-water
    assert not r.ok and r.code == "licence.check_overdue"
    # expiry is also judged by the high-water mark
    r = d(START + 365 * DAY - MINUTE, last_ok=START + 364 * DAY, hw=START + 365 * DAY + MINUTE)
    assert r.code == "licence.expired"


def test_events_are_registered_and_round_trip():
    for kind in (
        "licence.installed",
        "licence.checked",
        "licence.check_failed",
        "licence.refused",
        "licence.tamper_detected",
    ):
        assert kind in KINDS
    ev = LicenceChecked("LIC-1", "ok", START, START + 1, "n" * 32, "", 7, True)
    assert decode_body(kind_of(ev), encode_body(ev)) == ev
