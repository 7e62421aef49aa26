"""A store without the demo: the first admin is created on the store PC, the day does not open
without a licence (with the reason), idle sessions end, and sessions survive a SIGKILL of the whole
store server (they are journaled by their token's hash)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from actors.process import StoreProcess
from gwkit import Api, body_of, error_code, journal_rows, new_id, sign_in

pytestmark = pytest.mark.ray
IDLE_S = 8


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("plain") / "store"
    data.mkdir()
    (data / "store.json").write_text(
        json.dumps({"store_id": "S009", "auth": {"idle_timeout_s": IDLE_S, "max_failures": 3}})
    )
    box = {"proc": StoreProcess(data, demo=False).start()}
    try:
        yield box
    finally:
        box["proc"].stop()


def test_the_first_admin_is_created_from_the_store_pc(store):
    url = store["proc"].url
    r = requests.post(
        url + "/v1/staff",
        json={"id": new_id(), "staff": "boss", "name": "Boss", "role": "cashier", "pin": "123456"},
        timeout=30,
    )
    assert r.status_code == 400 and error_code(r) == "staff.bad_role"
    r = requests.post(
        url + "/v1/staff",
        json={"id": new_id(), "staff": "boss", "name": "Boss", "role": "admin", "pin": "123456"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    # from now on an account is needed
    r = requests.post(
        url + "/v1/staff",
        json={"id": new_id(), "staff": "boss2", "name": "B", "role": "admin", "pin": "123456"},
        timeout=30,
    )
    assert r.status_code == 401 and error_code(r) == "auth.required"
    boss = sign_in(url, "boss", "HQ1", "123456")
    boss.ok(
        boss.post(
            "/v1/staff",
            {
                "id": new_id(),
                "staff": "cash",
                "name": "Cash",
                "role": "cashier",
                "language": "th",
                "pin": "4321",
            },
        )
    )


def test_the_day_does_not_open_without_a_licence(store):
    boss = sign_in(store["proc"].url, "boss", "HQ1", "123456")
    r = boss.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 409 and error_code(r) == "day.licence_refused"
    details = r.json()["error"]["details"]
    assert details["licence_code"] == "licence.missing" and details["grace_days_left"] == 0
    assert not [x for x in journal_rows(store["proc"].data) if x[1] == "day.opened"]
    c = sign_in(store["proc"].url, "cash", "T1", "4321")
    r = c.cmd("scan", {"code": "S000001"})
    assert r.status_code in (404, 409)  # no catalogue here; and the day is closed anyway


def test_an_idle_session_ends(store):
    c = sign_in(store["proc"].url, "cash", "T2", "4321")
    assert c.get("/v1/sessions/current").status_code == 200
    time.sleep(IDLE_S + 1.5)
    r = c.get("/v1/sessions/current")
    assert r.status_code == 401 and error_code(r) == "auth.session_expired"
    outs = [body_of(x) for x in journal_rows(store["proc"].data) if x[1] == "auth.signed_out"]
    assert {"staff": "cash", "till": "T2", "reason": "idle"}.items() <= {
        k: v for k, v in outs[-1].items() if k != "session"
    }.items()


def test_lock_after_max_failures_from_store_settings(store):
    url = store["proc"].url
    for _ in range(3):
        r = requests.post(
            url + "/v1/sessions",
            json={"id": new_id(), "staff": "cash", "pin": "9999", "till": "T3"},
            timeout=30,
        )
        assert error_code(r) == "auth.bad_credentials"
    r = requests.post(
        url + "/v1/sessions",
        json={"id": new_id(), "staff": "cash", "pin": "4321", "till": "T3"},
        timeout=30,
    )
    assert r.status_code == 403 and error_code(r) == "auth.locked"
    assert r.json()["error"]["details"]["retry_after_s"] > 0
    boss = sign_in(url, "boss", "HQ1", "123456")
    boss.ok(boss.post("/v1/staff/cash/unlock", {"id": new_id()}))


def test_sessions_survive_a_sigkill_of_the_store_server(store):
    proc = store["proc"]
    boss = sign_in(proc.url, "boss", "HQ1", "123456")
    c = sign_in(proc.url, "cash", "T4", "4321")
    proc.kill()
    # back as soon as it sells: the idle timeout here is 8 s, and waiting for Ray's actors on a
    # loaded machine (10–15 s) would let the sessions go idle during the wait
    proc = StoreProcess(proc.data, port=proc.port, demo=False).start(all_actors=False)
    store["proc"] = proc
    me = Api(proc.url, "T4", c.token).get("/v1/sessions/current")
    assert me.status_code == 200 and me.json()["staff"]["staff"] == "cash", me.text
    assert Api(proc.url, "HQ1", boss.token).get("/v1/staff").status_code == 200
    # a signed-out session stays out after a restart
    assert Api(proc.url, "T4", c.token).call("DELETE", "/v1/sessions/current").status_code == 200
    proc.kill()
    proc = StoreProcess(proc.data, port=proc.port, demo=False).start(all_actors=False)
    store["proc"] = proc
    assert Api(proc.url, "T4", c.token).get("/v1/sessions/current").status_code == 401
    assert Api(proc.url, "HQ1", boss.token).get("/v1/staff").status_code == 200
