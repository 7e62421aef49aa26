"""The keeper journals through a real ledger; the CLI commands; time-machine with the system
clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from actors.journal import verify_journal
from actors.ledger import Ledger, Request
from actors.licence import FakeTransport, LicenceKeeper
from cloud.licence import LicenceAuthority
from domain.ports import SystemClock
from kassa_cli.main import main
from licence_helpers import DAY, START, _no_ray, make_world, run  # noqa: F401


def test_events_go_into_the_hash_chained_journal(tmp_path):
    w = make_world(tmp_path)
    ledger = Ledger(tmp_path / "journal.sqlite", clock=w.clock)

    async def journal(body):
        ledger.submit(Request(str(uuid.uuid4()), b"licence", body, staff="system"))

    k = w.new_keeper(journal_fn=journal)
    w.days(1)
    run(k.check_once())
    w.transport.online = False
    w.days(9)
    run(k.check_once())
    run(k.may_open_day())
    w.clock.offset = -3 * DAY
    run(k.may_open_day())
    envs = ledger.read()
    assert [e.kind for e in envs] == [
        "licence.checked",
        "licence.check_failed",
        "licence.refused",
        "licence.tamper_detected",
        "licence.refused",
    ]
    assert all(e.agg == "LIC-S001-1" for e in envs)
    assert envs[0].decoded().status == "ok"
    assert verify_journal(ledger.journal.path).ok
    # the journal's times feed the high-water mark (the lead wires ledger.last_ts into observe)
    k.observe(ledger.last_ts)
    assert k.state["high_water"] >= ledger.last_ts
    ledger.journal.close()


def test_cli_create_install_status_revoke(tmp_path, capsys):
    hq, data, lic = tmp_path / "hq", tmp_path / "store", tmp_path / "S001.licence"
    assert (
        main(
            [
                "admin",
                "licence",
                "create",
                "--store",
                "S001",
                "--days",
                "365",
                "--grace",
                "7",
                "--tills",
                "4",
                "--features",
                "wallet,reports",
                "--out",
                str(lic),
                "--hq",
                str(hq),
            ]
        )
        == 0
    )
    assert (hq / "licence" / "hq_ed25519.key").stat().st_mode & 0o777 == 0o600
    doc = json.loads(lic.read_text())
    assert doc["licence"]["features"] == ["reports", "wallet"] and doc["licence"]["tills"] == 4
    assert (
        main(["admin", "licence", "key", "--hq", str(hq), "--out", str(tmp_path / "hq.pub")]) == 0
    )
    data.mkdir()
    (data / "store.json").write_text(json.dumps({"store_id": "S001"}))
    capsys.readouterr()
    assert (
        main(
            [
                "store",
                "licence",
                "install",
                str(lic),
                "--data",
                str(data),
                "--key",
                str(tmp_path / "hq.pub"),
            ]
        )
        == 0
    )
    assert "installed licence" in capsys.readouterr().out
    # HQ approves it on this PC (the USB route: a request file out, HQ's answer back)
    assert main(["store", "licence", "status", "--data", str(data)]) == 1
    assert "licence.not_activated" in capsys.readouterr().out
    req, answer = tmp_path / "req.json", tmp_path / "answer.json"
    assert (
        main(["store", "licence", "activate", "--data", str(data), "--request-file", str(req)]) == 0
    )
    approve = ["admin", "licence", "approve", "--request-file", str(req), "--out", str(answer)]
    assert main([*approve, "--hq", str(hq)]) == 0
    assert (
        main(["store", "licence", "activate", "--data", str(data), "--answer-file", str(answer)])
        == 0
    )
    capsys.readouterr()
    assert main(["store", "licence", "status", "--data", str(data)]) == 0
    assert "MAY OPEN" in capsys.readouterr().out
    # another store's licence is refused with a clear message
    main(
        [
            "admin",
            "licence",
            "create",
            "--store",
            "S002",
            "--days",
            "30",
            "--out",
            str(tmp_path / "S002.licence"),
            "--hq",
            str(hq),
        ]
    )
    capsys.readouterr()
    assert (
        main(["store", "licence", "install", str(tmp_path / "S002.licence"), "--data", str(data)])
        == 1
    )
    assert "licence.wrong_store" in capsys.readouterr().err
    # a key from another HQ is not swapped in silently
    (tmp_path / "other.pub").write_text("00" * 32)
    assert (
        main(
            [
                "store",
                "licence",
                "install",
                str(lic),
                "--data",
                str(data),
                "--key",
                str(tmp_path / "other.pub"),
            ]
        )
        == 1
    )
    lid = doc["licence"]["licence_id"]
    assert main(["admin", "licence", "revoke", lid, "--reason", "test", "--hq", str(hq)]) == 0
    capsys.readouterr()
    assert main(["admin", "licence", "list", "--json", "--hq", str(hq)]) == 0
    rows = {r["licence_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[lid]["state"] == "revoked" and len(rows) == 2
    assert main(["store", "licence", "status", "--data", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["licence_id"] == lid


def test_with_time_machine_and_the_system_clock(tmp_path):
    """The real SystemClock under time-machine: grace, then the clock wound back."""
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False) as traveller:
        hq = LicenceAuthority(tmp_path / "hq", clock=SystemClock())
        hq.ensure_key()
        now = SystemClock().now_us()
        doc = hq.issue("S001", now, now + 365 * DAY, 3, 1, [], activation=False)
        transport = FakeTransport(hq.answer)
        k = LicenceKeeper(
            tmp_path / "store", "S001", hq.public_key_text(), transport, SystemClock(), None
        )
        run(k.install(doc))
        assert run(k.check_once())["ok"]
        transport.online = False
        traveller.move_to(t0 + timedelta(days=2))
        assert run(k.may_open_day())["grace_days_left"] == 1
        traveller.move_to(t0 + timedelta(days=4))
        assert run(k.may_open_day())["code"] == "licence.check_overdue"
        traveller.move_to(t0 + timedelta(days=1))  # wind the PC's clock back
        assert run(k.may_open_day())["code"] == "licence.clock_tampered"
        traveller.move_to(t0 + timedelta(days=4, hours=1))
        transport.online = True
        assert run(k.check_once())["ok"]
        assert run(k.may_open_day())["ok"]
    assert START  # keep the helper import honest
