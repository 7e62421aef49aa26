"""The store's licence keeper with a controlled clock: checks, grace, revocation, clock tricks."""

from __future__ import annotations

import asyncio
import copy
import json
import time

import pytest

from actors.licence import FakeTransport, LicenceKeeper
from domain.errors import Conflict, InvalidInput, Unavailable
from domain.licence import (
    Licence,
    LicenceChecked,
    LicenceCheckFailed,
    LicenceInstalled,
    LicenceRefused,
    LicenceTamperDetected,
    new_private_key,
    sign_licence,
)
from licence_helpers import DAY, HOUR, MINUTE, START, _no_ray, make_world, run  # noqa: F401


@pytest.fixture
def w(tmp_path):
    return make_world(tmp_path)


def test_install_journals_and_opens(w):
    assert isinstance(w.events[0], LicenceInstalled) and w.events[0].licence_id == "LIC-S001-1"
    st = w.open()
    assert st["ok"] and st["licence_id"] == "LIC-S001-1" and st["tills"] == 4
    assert w.keeper.allows_tills(4) and not w.keeper.allows_tills(5)
    assert w.keeper.has_feature("wallet")


def test_check_succeeds(w):
    w.days(0.5)
    res = w.check()
    assert res["ok"] and res["code"] == "licence.checked" and res["status"] == "ok"
    ev = w.events[-1]
    assert isinstance(ev, LicenceChecked) and ev.status == "ok"
    assert ev.server_time == w.true.now_us()
    req = w.transport.requests[-1]
    assert req["store_id"] == "S001" and len(req["nonce"]) == 32
    st = w.open()
    assert (st["ok"], st["code"], st["grace_days_left"], st["warn"]) == (
        True,
        "licence.ok",
        7,
        False,
    )
    assert st["last_ok"] == ev.server_time


def test_unreachable_for_n_minus_1_days_opens_with_warning(w):
    w.check()
    w.transport.online = False
    for _ in range(6):
        w.days(1)
        res = w.check()
        assert not res["ok"] and res["code"] == "licence.cloud_unreachable"
    assert [type(e) for e in w.events[-6:]] == [LicenceCheckFailed] * 6
    assert w.events[-1].attempt == 6
    st = w.open()
    assert st["ok"] and st["code"] == "licence.grace"
    assert st["grace_days_left"] == 1 and st["warn"] and st["warn_code"] == "licence.grace_ending"


def test_unreachable_for_n_plus_1_days_refused(w):
    w.check()
    w.transport.online = False
    w.days(8)
    assert not w.check()["ok"]
    st = w.open()
    assert not st["ok"] and st["code"] == "licence.check_overdue" and st["grace_days_left"] == 0
    assert "7 days" in st["message"]
    ev = w.events[-1]
    assert isinstance(ev, LicenceRefused) and ev.action == "open_day"
    assert ev.code == "licence.check_overdue"


def test_recovery_after_one_successful_check(w):
    w.check()
    w.transport.online = False
    w.days(10)
    assert not w.open()["ok"]
    w.transport.online = True
    assert w.check()["ok"]
    st = w.open()
    assert st["ok"] and st["code"] == "licence.ok" and st["grace_days_left"] == 7


def test_licence_expired(tmp_path):
    w = make_world(tmp_path, days=30)
    for _ in range(31):  # online every day: only the end of the licence stops it
        w.days(1)
        assert w.check()["ok"]
    st = w.open()
    assert not st["ok"] and st["code"] == "licence.expired"


def test_expiry_warned_several_days_before(tmp_path):
    w = make_world(tmp_path, days=30)
    w.days(20)
    w.check()
    st = w.open()
    assert st["ok"] and st["warn"] and st["warn_code"] == "licence.expiring"
    assert st["expires_days_left"] == 10


def test_revoked(w):
    w.check()
    w.hq.revoke("LIC-S001-1", "unpaid")
    w.days(1)
    res = w.check()
    assert not res["ok"] and res["code"] == "licence.revoked" and res["message"] == "unpaid"
    st = w.open()
    assert not st["ok"] and st["code"] == "licence.revoked"
    # not even a restart or a re-install helps
    w.new_keeper()
    assert w.open()["code"] == "licence.revoked"
    with pytest.raises(Conflict) as exc:
        run(w.keeper.install(w.doc))
    assert exc.value.code == "licence.revoked"
    # a new licence from HQ works
    doc2 = w.hq.issue(
        "S001", START, START + 365 * DAY, 7, 4, [], licence_id="LIC-S001-2", activation=False
    )
    run(w.keeper.install(doc2))
    assert w.check()["ok"] and w.open()["ok"]


def test_tampered_licence_refused(w):
    doc = copy.deepcopy(w.doc)
    doc["licence"]["tills"] = 99
    with pytest.raises(InvalidInput) as exc:
        run(w.keeper.install(doc))
    assert exc.value.code == "licence.bad_signature"
    ev = w.events[-1]
    assert isinstance(ev, LicenceRefused) and ev.action == "install"
    assert ev.code == "licence.bad_signature"
    assert w.keeper.licence.tills == 4  # the installed one is untouched
    forged = sign_licence(
        Licence("X", "S001", START, START + DAY * 999, 99, 99, (), START), new_private_key()
    )
    with pytest.raises(InvalidInput):
        run(w.keeper.install(json.dumps(forged).encode()))


def test_foreign_store_licence_refused(w):
    other = w.hq.issue("S002", START, START + 365 * DAY, 7, 4, [])
    with pytest.raises(Conflict) as exc:
        run(w.keeper.install(other))
    assert exc.value.code == "licence.wrong_store"
    assert w.events[-1].code == "licence.wrong_store"


def test_licence_file_edited_on_disk_is_refused(w):
    path = w.store_dir / "licence" / "licence.json"
    doc = json.loads(path.read_text())
    doc["licence"]["grace_days"] = 3650
    path.write_text(json.dumps(doc))
    w.new_keeper()
    st = w.open()
    assert not st["ok"] and st["code"] == "licence.bad_signature"


def test_no_licence(tmp_path):
    w = make_world(tmp_path)
    k = LicenceKeeper(
        tmp_path / "empty", "S001", w.hq.public_key_text(), w.transport, w.clock, w.journal
    )
    st = run(k.may_open_day())
    assert not st["ok"] and st["code"] == "licence.missing"
    assert run(k.check_once())["code"] == "licence.missing"


# ---------------------------------------------------------------- clock tricks


@pytest.mark.parametrize("back", [HOUR, DAY, 30 * DAY], ids=["1h", "1d", "30d"])
def test_clock_wound_back_during_grace(w, back):
    w.check()
    w.transport.online = False
    w.days(5)
    st = w.open()
    assert st["ok"] and st["grace_days_left"] == 2
    w.clock.offset = -back  # someone winds the clock back to stretch the grace
    st = w.open()
    assert not st["ok"] and st["code"] == "licence.clock_tampered"
    tamper = [e for e in w.events if isinstance(e, LicenceTamperDetected)]
    assert len(tamper) == 1 and tamper[0].high_water - tamper[0].now == back
    # the latch holds: a restart does not forget, and putting the clock right does not undo it
    w.new_keeper()
    assert w.open()["code"] == "licence.clock_tampered"
    w.clock.offset = 0
    assert w.open()["code"] == "licence.clock_tampered"
    assert len([e for e in w.events if isinstance(e, LicenceTamperDetected)]) == 1
    # grace was not extended: going on offline to day 8 stays refused
    w.days(3)
    w.clock.offset = -back
    assert not w.open()["ok"]
    # an online check with the clock set right clears it
    w.clock.offset = 0
    w.transport.online = True
    res = w.check()
    assert res["ok"] and res["cleared_tamper"]
    st = w.open()
    assert st["ok"] and st["grace_days_left"] == 7


@pytest.mark.parametrize("back", [HOUR, DAY, 30 * DAY], ids=["1h", "1d", "30d"])
def test_clock_wound_back_while_the_store_was_off(w, back):
    w.check()
    w.transport.online = False
    w.days(6.5)
    assert w.open()["ok"]
    w.keeper = None  # the store server is stopped; the clock wound back; the server started
    w.clock.offset = -back
    w.new_keeper()
    assert w.open()["code"] == "licence.clock_tampered"


def test_grace_not_extended_by_winding_back_within_tolerance(w):
    w.check()
    w.transport.online = False
    w.days(7)
    w.true.advance(us=MINUTE)  # grace just ran out
    assert w.open()["code"] == "licence.check_overdue"
    w.clock.offset = -4 * MINUTE  # within the tolerance: no alarm, but time is the high-water mark
    st = w.open()
    assert st["code"] == "licence.check_overdue"


def test_clock_forward_then_back(w):
    w.check()
    w.transport.online = False
    w.days(2)
    w.clock.offset = 10 * DAY  # forward: grace is used up by the high-water mark
    assert w.open()["code"] == "licence.check_overdue"
    w.clock.offset = 0  # and back: tampering, not a fresh grace
    assert w.open()["code"] == "licence.clock_tampered"
    w.days(1)
    assert not w.open()["ok"]
    w.transport.online = True
    assert w.check()["ok"]  # the cloud's time resets the high-water mark
    assert w.open()["ok"]
    # journal times written while the clock ran fast no longer count
    w.keeper.observe(w.true.now_us() + 9 * DAY)
    assert w.open()["ok"]


def test_slow_clock_is_reported_until_set_right(w):
    w.clock.offset = -20 * MINUTE  # the PC's clock is 20 minutes slow
    res = w.check()
    assert res["ok"] and res["clock_skew_s"] == -1200
    st = w.open()
    assert st["code"] == "licence.clock_tampered" and "20 min" in st["message"]
    w.clock.offset = 0
    assert w.check()["ok"] and w.open()["ok"]


def test_journal_times_raise_the_high_water_mark(w):
    w.check()
    w.keeper.observe(w.true.now_us() + 2 * HOUR)  # an event was journalled with a later time
    w.days(0.01)
    assert w.open()["code"] == "licence.clock_tampered"


# ---------------------------------------------------------------- cloud answers, failures


def test_forged_or_replayed_answers_are_failures(w):
    w.check()
    w.hq.revoke("LIC-S001-1")

    def flip(ans):
        ans = copy.deepcopy(ans)
        ans["result"]["status"] = "ok"
        return ans

    w.transport.tamper = flip
    res = w.check()
    assert not res["ok"] and res["code"] == "licence.bad_result"
    old = {}
    w.transport.tamper = None
    w.hq.revoked_path.unlink()
    w.hq._revoked_cache = None

    def keep(ans):
        old.setdefault("a", ans)
        return old["a"]

    w.transport.tamper = keep
    w.check()  # recorded
    assert w.check()["code"] == "licence.bad_result"  # replayed: the nonce does not match
    assert isinstance(w.events[-1], LicenceCheckFailed)


def test_transport_crashes_do_not_escape(w):
    class Boom:
        async def check(self, request):
            raise RuntimeError("socket on fire")

    w.new_keeper(transport=Boom())
    res = w.check()
    assert not res["ok"] and res["code"] == "licence.cloud_unreachable"

    class Slow:
        async def check(self, request):
            await asyncio.sleep(5)

    w.new_keeper(transport=Slow(), check_timeout_s=0.05)
    t = time.monotonic()
    assert w.check()["code"] == "licence.cloud_timeout"
    assert time.monotonic() - t < 2


def test_journal_failures_are_retried(w):
    calls = []

    async def flaky(ev):
        calls.append(ev)
        if len(calls) == 1:
            raise ConnectionError("ledger restarting")
        w.events.append(ev)

    w.new_keeper(journal_fn=flaky)
    w.events.clear()
    w.check()  # journalling fails: kept
    assert w.events == []
    w.check()  # both go now, in order
    assert [type(e) for e in w.events] == [LicenceChecked, LicenceChecked]


def test_events_made_offline_are_journalled_at_next_start(w):
    w.keeper = None
    offline = w.new_keeper(journal_fn=None)  # e.g. the CLI, no ledger
    run(offline.install(w.doc))
    assert (w.store_dir / "licence" / "pending_events.jsonl").exists()
    w.events.clear()
    k = w.new_keeper()
    run(k.flush())
    assert [type(e) for e in w.events] == [LicenceInstalled]
    assert not (w.store_dir / "licence" / "pending_events.jsonl").exists()


def test_state_survives_restart(w):
    w.check()
    w.transport.online = False
    w.days(3)
    w.check()
    k = w.new_keeper()
    st = k.status()
    assert st["ok"] and st["grace_days_left"] == 4 and st["failures"] == 1
    assert st["last_error"]["code"] == "licence.cloud_unreachable"


def test_run_retries_with_backoff_then_waits_a_day(w):
    w.transport.online = False
    rng_calls = []

    def rng():
        rng_calls.append(1)
        return 1.0

    k = w.new_keeper(interval_s=3600, backoff_base_s=0.01, backoff_max_s=0.04, rng=rng)

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(k.run(stop))
        await asyncio.sleep(0.25)
        failures = len(w.transport.requests)
        w.transport.online = True
        await asyncio.sleep(0.15)
        after = len(w.transport.requests)
        await asyncio.sleep(0.1)
        assert len(w.transport.requests) == after  # ok: next check in an hour
        stop.set()
        await asyncio.wait_for(task, 1)
        return failures

    failures = run(scenario())
    assert failures >= 3  # 10 ms, 20 ms, 40 ms, 40 ms ... capped
    assert rng_calls  # jittered
    assert w.keeper.status()["last_check_status"] == "ok"


def test_run_after_restart_waits_for_the_rest_of_the_day(w):
    w.check()
    n = len(w.transport.requests)
    w.days(0.5)
    k = w.new_keeper(interval_s=86_400)
    assert k._next_delay_s(None) == pytest.approx(43_200, rel=1e-6)

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(k.run(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 1)

    run(scenario())
    assert len(w.transport.requests) == n


def test_status_has_no_side_effects(w):
    w.events.clear()
    w.clock.offset = -DAY
    st = w.keeper.status()
    assert not st["ok"] and st["code"] == "licence.clock_tampered"
    assert w.events == [] and not w.keeper.state["tampered"]


def test_fake_transport_offline_by_default_without_answer():
    t = FakeTransport()
    with pytest.raises(Unavailable):
        run(t.check({}))
