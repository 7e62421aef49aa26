"""The licence cannot be edited into validity: grace and revocation come from HQ's signed answers in
the journal, not from ``licence/state.json``; a till beyond the licence's count is refused.

Two layers: the keeper over real files (a real ledger's journal, the state file edited between
"restarts"), fast; and a real store server with HQ's demo cloud on loopback, stopped and started
around the edits an owner with a text editor would make.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from actors.ledger import Ledger, Request
from actors.licence import FakeTransport, LicenceKeeper
from actors.process import StoreProcess
from cloud.licence import LicenceAuthority
from domain.licence import US_PER_DAY as DAY
from domain.licence import LicenceChecked
from domain.ports import ManualClock
from gwkit import error_code, journal_rows, new_id, sign_in
from storekit import kassa, wait_for

START = 1_767_225_600_000_000  # 2026-01-01T00:00Z


# ---------------------------------------------------------------- the keeper over real files


class Store:
    """A store's data folder with a real journal; ``restart()`` makes a new keeper from the
    files."""

    def __init__(self, tmp: Path) -> None:
        self.clock = ManualClock(START)
        self.hq = LicenceAuthority(tmp / "hq", clock=self.clock)
        self.hq.ensure_key()
        self.data = tmp / "store"
        self.data.mkdir()
        self.ledger = Ledger(self.data / "journal.sqlite", clock=self.clock)
        self.transport = FakeTransport(self.hq.answer)
        self.doc = self.hq.issue(
            "S001", START - DAY, START + 365 * DAY, 7, 2, [], licence_id="LIC-S001-1"
        )
        self.keeper = self.restart()
        asyncio_run(self.keeper.install(self.doc))

    async def journal(self, body) -> None:
        self.ledger.submit(Request(str(uuid.uuid4()), b"licence", body, staff="system"))

    def restart(self) -> LicenceKeeper:
        self.keeper = LicenceKeeper(
            self.data, "S001", self.hq.public_key_text(), self.transport, self.clock, self.journal
        )
        return self.keeper

    @property
    def state_path(self) -> Path:
        return self.data / "licence" / "state.json"

    def edit_state(self, **changes) -> None:
        st = json.loads(self.state_path.read_text())
        st.update(changes)
        self.state_path.write_text(json.dumps(st))

    def days(self, n: float) -> None:
        self.clock.advance(us=int(n * DAY))


def asyncio_run(coro):
    import asyncio

    return asyncio.run(coro)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    yield s
    s.ledger.journal.close()


def test_state_moved_forward_gives_no_grace(store):
    assert asyncio_run(store.keeper.check_once())["ok"]
    store.transport.online = False
    store.days(10)  # offline past the 7 grace days
    assert asyncio_run(store.keeper.may_open_day())["code"] == "licence.check_overdue"
    now = store.clock.now_us()
    store.edit_state(
        last_ok=now,
        last_ok_local=now,
        status="ok",
        tampered=None,
        last_check={"status": "ok", "server_time": now, "local_time": now, "reason": ""},
        failures=0,
        last_error=None,
    )
    st = asyncio_run(store.restart().may_open_day())
    assert not st["ok"] and st["code"] == "licence.check_overdue" and st["grace_days_left"] == 0
    assert st["last_ok"] == START  # what HQ signed, not what the file says
    # the keeper rewrote its cache from the journal
    assert json.loads(store.state_path.read_text())["last_ok"] == START


def test_clearing_state_does_not_undo_a_revocation(store):
    asyncio_run(store.keeper.check_once())
    store.hq.revoke("LIC-S001-1", "unpaid")
    store.days(1)
    assert asyncio_run(store.keeper.check_once())["code"] == "licence.revoked"
    store.transport.online = False  # and the shop unplugs the line
    store.state_path.unlink()
    assert asyncio_run(store.restart().may_open_day())["code"] == "licence.revoked"
    store.state_path.write_text(
        json.dumps({"v": 1, "status": "ok", "revoked_ids": [], "last_ok": store.clock.now_us()})
    )
    assert asyncio_run(store.restart().may_open_day())["code"] == "licence.revoked"
    with pytest.raises(Exception) as exc:  # nor by installing the same licence file again
        asyncio_run(store.keeper.install(store.doc))
    assert getattr(exc.value, "code", "") == "licence.revoked"


def test_made_up_or_replayed_answers_in_the_journal_count_for_nothing(store):
    asyncio_run(store.keeper.check_once())
    first_ok = [e.decoded() for e in store.ledger.read() if e.kind == "licence.checked"][0]
    assert first_ok.answer and first_ok.status == "ok"
    store.hq.revoke("LIC-S001-1")
    store.days(1)
    asyncio_run(store.keeper.check_once())
    store.days(20)
    # someone with the ledger's socket journals an "ok" of their own, and HQ's old "ok" again
    now = store.clock.now_us()
    forged = LicenceChecked("LIC-S001-1", "ok", now, now, "n" * 32, "", 7, True, "")
    asyncio_run(store.journal(forged))
    asyncio_run(store.journal(first_ok))
    k = store.restart()
    assert k.standing.rejected == 1
    st = asyncio_run(k.may_open_day())
    assert st["code"] == "licence.revoked"


def test_the_ledger_process_accepts_licence_installed(store, tmp_path):
    """The keeper's events reach the ledger pickled, in another process that imports only what the
    ledger actor imports: ``licence.installed`` used to arrive as an unknown kind (a plain dict)
    and be refused with ``command.bad_body``, so no licence event was ever journaled."""
    body = [e.decoded() for e in store.ledger.read() if e.kind == "licence.installed"][0]
    assert body.licence_id == "LIC-S001-1" and body.tills == 2
    code = (
        "import pickle, sys\n"
        "import analytics.events, domain.feedback\n"
        "from actors.ledger import Ledger, Request\n"
        "body = pickle.loads(sys.stdin.buffer.read())\n"
        f"ack = Ledger({str(tmp_path / 'other.sqlite')!r}).submit("
        "Request('cmd-00000001', b'c', body, staff='system'))\n"
        "print(ack.kind, ack.body.licence_id)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(body), capture_output=True, timeout=120
    )
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().split() == ["licence.installed", "LIC-S001-1"]


# ---------------------------------------------------------------- a real store server


def _health(srv: StoreProcess) -> dict:
    return requests.get(srv.url + "/v1/health", timeout=60).json()


def _licence_events(data: Path, kind: str) -> list[dict]:
    return [json.loads(bytes(r[5])) for r in journal_rows(data) if r[1] == kind]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A demo store whose HQ issued it a 2-till licence (installed with the CLI before the
    first start), served with HQ's demo cloud on loopback."""
    root = tmp_path_factory.mktemp("lic")
    data, hq_dir = root / "shop", root / "shop-hq"
    hq = LicenceAuthority(hq_dir)
    hq.ensure_key()
    now = time.time_ns() // 1000
    doc = hq.issue("S001", now - DAY, now + 365 * DAY, 7, 2, [], licence_id="LIC-S001-A")
    (root / "a.licence").write_text(json.dumps(doc))
    (root / "hq.pub").write_text(hq.public_key_text())
    data.mkdir()
    out = kassa(
        "store",
        "licence",
        "install",
        str(root / "a.licence"),
        "--data",
        str(data),
        "--key",
        str(root / "hq.pub"),
        "--store",
        "S001",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    out = {
        "srv": StoreProcess(data, products=300).start(timeout=300),
        "data": data,
        "hq": hq,
        "root": root,
    }
    try:
        yield out
    finally:
        out["srv"].stop()  # the tests below restart it


def test_server_journals_the_install_and_hqs_signed_answer(shop):
    data = shop["data"]
    installed = wait_for(lambda: _licence_events(data, "licence.installed"), what="install")
    assert installed[0]["licence_id"] == "LIC-S001-A" and installed[0]["tills"] == 2
    checked = wait_for(lambda: _licence_events(data, "licence.checked"), what="a check")
    answer = json.loads(checked[0]["answer"])
    assert answer["result"]["status"] == "ok" and answer["sig"]


def test_a_till_beyond_the_licence_count_is_refused(shop):
    url = shop["srv"].url
    wait_for(lambda: _health(shop["srv"])["licence"].get("ok"), what="licence ok")
    t2 = sign_in(url, "m1", "T2")  # the demo opened T1; T2 is the second of two
    r = t2.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 200, r.text
    t3 = sign_in(url, "m1", "T3")
    r = t3.post("/v1/day/open", {"id": new_id(), "float": 10_000})
    assert r.status_code == 409 and error_code(r) == "licence.too_many_tills", r.text
    assert r.json()["error"]["details"]["tills"] == 2
    assert "2 till" in r.json()["error"]["message"]
    r = sign_in(url, "c1", "T3").cmd("scan", {"code": "0000000000000"})
    assert r.status_code == 409 and error_code(r) == "licence.too_many_tills", r.text
    opened = [
        json.loads(bytes(r[5]))["till"] for r in journal_rows(shop["data"]) if r[1] == "day.opened"
    ]
    assert "T3" not in opened and "T2" in opened
    assert t2.get("/v1/tills/T2/basket").status_code == 200  # the tills within the count work


def test_revocation_survives_an_edited_state_file_and_a_restart(shop):
    srv, data, hq = shop["srv"], shop["data"], shop["hq"]
    cloud = json.loads((data / "store.json").read_text())["cloud_url"]
    hq.revoke("LIC-S001-A", "unpaid")
    out = kassa("store", "licence", "check", "--data", str(data), "--cloud", cloud)
    assert out.returncode == 1 and "licence.revoked" in out.stdout, out.stdout + out.stderr
    srv.stop()
    # the owner "fixes" the licence state by hand, and the line to HQ is gone (no demo cloud:
    # the server below is started with `kassa store serve`, the cloud URL points nowhere)
    state = data / "licence" / "state.json"
    st = json.loads(state.read_text())
    st.update(status="ok", revoked_ids=[], last_ok=time.time_ns() // 1000, tampered=None)
    state.write_text(json.dumps(st))
    srv2 = StoreProcess(data, port=srv.port, demo=False).start(timeout=300)
    shop["srv"] = srv2
    lic = wait_for(
        lambda: (h := _health(srv2)["licence"]).get("code") != "licence.starting" and h,
        what="licence status",
    )
    assert lic["ok"] is False and lic["code"] == "licence.revoked", lic
    revoked = wait_for(
        lambda: [b for b in _licence_events(data, "licence.checked") if b["status"] == "revoked"],
        what="the revocation journaled",
    )
    assert json.loads(revoked[0]["answer"])["result"]["status"] == "revoked"
    boss = sign_in(srv2.url, "m1", "T1")
    r = boss.post("/v1/day/close", {"id": new_id(), "counted_cash": 200_000})
    assert r.status_code == 200, r.text
    r = boss.post("/v1/day/open", {"id": new_id(), "float": 0})
    assert r.status_code == 409 and error_code(r) == "day.licence_refused"
    assert r.json()["error"]["details"]["licence_code"] == "licence.revoked"


def test_state_moved_forward_gives_no_grace_on_a_real_server(shop):
    """A second licence, issued 30 days ago and never checked: its 7 grace days are long over;
    writing a fresh "last ok" into the state file does not reopen them."""
    srv, data, root = shop["srv"], shop["data"], shop["root"]
    srv.stop()
    month_ago = time.time_ns() // 1000 - 30 * DAY
    old_hq = LicenceAuthority(root / "shop-hq", clock=ManualClock(month_ago))
    doc = old_hq.issue(
        "S001", month_ago - DAY, month_ago + 365 * DAY, 7, 2, [], licence_id="LIC-S001-B"
    )
    (root / "b.licence").write_text(json.dumps(doc))
    out = kassa("store", "licence", "install", str(root / "b.licence"), "--data", str(data))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "licence.check_overdue" in out.stdout
    now = time.time_ns() // 1000
    state = data / "licence" / "state.json"
    st = json.loads(state.read_text())
    st.update(
        status="ok",
        revoked_ids=[],
        last_ok=now,
        high_water=now,
        tampered=None,
        last_check={"status": "ok", "server_time": now, "local_time": now, "reason": ""},
    )
    state.write_text(json.dumps(st))
    srv3 = StoreProcess(data, port=srv.port, demo=False).start(timeout=300)
    shop["srv"] = srv3
    lic = wait_for(
        lambda: (h := _health(srv3)["licence"]).get("code") != "licence.starting" and h,
        what="licence status",
    )
    assert lic["licence_id"] == "LIC-S001-B"
    assert lic["ok"] is False and lic["code"] == "licence.check_overdue", lic
    assert lic["grace_days_left"] == 0
