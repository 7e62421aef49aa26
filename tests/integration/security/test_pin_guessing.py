"""PIN guessing cannot race the lock: a real store server on loopback takes 40 concurrent guesses at
one account, from 40 addresses (so the per-address back-off does not hide the race), and checks at
most the configured number of PINs; the account's open session ends when it locks; the right PIN
after the lock gets no session. The same holds for a manager's PIN typed as an approval."""

from __future__ import annotations

import uuid

import pytest

from actors.process import StoreProcess
from pinkit import call, journal_rows, journal_seq, sign_in, together

pytestmark = pytest.mark.ray

LIMIT = 10  # the default lock policy: 10 wrong PINs lock the account for 30 minutes


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    proc = StoreProcess(tmp_path_factory.mktemp("guess") / "store", products=50).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_forty_concurrent_guesses_check_at_most_the_limit_and_the_lock_ends_the_session(store):
    before = sign_in(store.url, "c3", "3333", "G0")
    assert before.status == 200, before
    token = before.json["token"]
    seq = journal_seq(store.data)
    answers = together(
        [
            (
                lambda i=i: sign_in(
                    store.url, "c3", f"{7000 + i}", f"G{i + 1}", src=f"127.0.2.{i + 1}"
                )
            )
            for i in range(40)
        ]
    )
    codes = sorted(a.code for a in answers)
    assert codes.count("auth.bad_credentials") == LIMIT, answers
    assert codes.count("auth.locked") == 40 - LIMIT, answers
    attempts = journal_rows(store.data, seq, "auth.pin_attempt")
    # journaled before each check, one at a time: the counts run 1..10 without a repeat
    assert [a["body"]["failures"] for a in attempts] == list(range(1, LIMIT + 1))
    assert {a["staff"] for a in attempts} == {"c3"}
    assert sorted(
        a.details["failures_left"] for a in answers if a.code == "auth.bad_credentials"
    ) == list(range(LIMIT))
    # the session c3 had before the lock has ended
    r = call(store.url, "GET", "/v1/sessions/current", token=token)
    assert r.status == 401 and r.code == "auth.session_expired", r
    # the right PIN after the lock: refused, no session, nothing checked
    seq = journal_seq(store.data)
    r = sign_in(store.url, "c3", "3333", "G0", src="127.0.2.99")
    assert r.status == 403 and r.code == "auth.locked" and r.details["retry_after_s"] > 1700, r
    assert journal_rows(store.data, seq) == []


def test_concurrent_approval_guesses_stop_at_the_limit(store):
    """A cashier at four tills types guesses at the manager's PIN as approvals, ten at a time
    from each till: ten are checked, the manager's account locks, the right PIN is refused."""
    cashiers = []
    for i in range(5):
        a = sign_in(store.url, "c1", "1111", f"A{i}", src=f"127.0.3.{i + 1}")
        assert a.status == 200, a
        cashiers.append((f"127.0.3.{i + 1}", a.json["token"]))
    seq = journal_seq(store.data)

    def approve(src: str, token: str, pin: str):
        return call(
            store.url,
            "POST",
            "/v1/approvals",
            {"staff": "m1", "pin": pin, "action": "sale.discount_over_limit"},
            src=src,
            token=token,
        )

    answers = together(
        [
            (lambda src=src, tok=tok, n=n: approve(src, tok, f"{8000 + n}"))
            for src, tok in cashiers[:4]
            for n in range(10)
        ]
    )
    codes = [a.code for a in answers]
    assert codes.count("auth.approval_refused") == LIMIT, answers
    assert set(codes) <= {"auth.approval_refused", "auth.locked", "auth.throttled"}, answers
    attempts = journal_rows(store.data, seq, "auth.pin_attempt")
    assert [a["body"]["failures"] for a in attempts] == list(range(1, LIMIT + 1))
    assert {(a["staff"], a["body"]["purpose"]) for a in attempts} == {("m1", "approval")}
    src, tok = cashiers[4]
    r = approve(src, tok, "9999")
    assert r.status == 403 and r.code == "auth.locked", r
    # and the manager cannot sign in either until the lock ends or an admin unlocks
    r = sign_in(store.url, "m1", "9999", "M1", src="127.0.3.50")
    assert r.status == 403 and r.code == "auth.locked", r
    admin = sign_in(store.url, "admin", "0000", "ADM", src="127.0.3.51")
    assert admin.status == 200, admin
    r = call(
        store.url,
        "POST",
        "/v1/staff/m1/unlock",
        {"id": str(uuid.uuid4())},
        src="127.0.3.51",
        token=admin.json["token"],
    )
    assert r.status == 200, r
    assert sign_in(store.url, "m1", "9999", "M1", src="127.0.3.50").status == 200
