"""The alert mail's outbox (``actors.outbox``) without a mail server: a message per change of the
raised alerts, committed with the new state, so reopening the file (a restart) neither loses it nor
queues it again; a failed send backs off and keeps the message."""

from __future__ import annotations

import asyncio
import smtplib
import stat
from pathlib import Path

import pytest

from actors.outbox import BACKOFF_STEPS, Outbox
from domain.mail import SmtpSettings

SMTP = SmtpSettings(host="mail.invalid", sender="kassa@shop.test", to=("boss@shop.test",))


def box(tmp_path: Path, now: list[float]) -> Outbox:
    return Outbox(tmp_path, SMTP, "S1", "Shop", retry_s=2.0, clock=lambda: now[0])


def test_one_message_per_change_and_none_again_after_a_restart(tmp_path: Path) -> None:
    now = [1000.0]
    ob = box(tmp_path, now)
    assert stat.S_IMODE((tmp_path / "outbox.sqlite").stat().st_mode) == 0o600
    assert ob.observe({}) is None  # nothing raised, nothing mailed before: no change
    first = ob.observe({"stock.low:A": "low A", "disk.low": "disk"})
    assert first is not None
    assert ob.observe({"disk.low": "disk", "stock.low:A": "low A (now 2 left)"}) is None
    ob.close()
    again = box(tmp_path, now)  # a restart: the state mailed is remembered
    assert again.observe({"stock.low:A": "low A", "disk.low": "disk"}) is None
    second = again.observe({"disk.low": "disk"})
    rows = again.pending()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[1]["subject"] == "[kassa S1] alerts: 1 cleared"
    body = again.con.execute("SELECT body FROM messages WHERE id = ?", (second,)).fetchone()[0]
    assert "Cleared:\n  - low A" in body and "disk" not in body.split("Cleared:")[1]
    again.close()


def test_a_failed_send_backs_off_and_keeps_the_message(tmp_path: Path, monkeypatch) -> None:
    now = [1000.0]
    ob = box(tmp_path, now)
    ob.observe({"stock.low:A": "low A"})
    sent: list[str] = []

    def refuse(msg, to) -> None:
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(ob, "_deliver", refuse)
    monkeypatch.setattr("actors.outbox.random.uniform", lambda a, b: 1.0)
    wait = asyncio.run(ob.send_due())
    assert wait == pytest.approx(2.0)  # the first pause
    (row,) = ob.pending()
    assert row["attempts"] == 1 and "down" in row["last_error"]
    for attempt in range(1, 10):  # doubling, never longer than BACKOFF_STEPS first pauses
        now[0] += 10_000
        assert asyncio.run(ob.send_due()) == pytest.approx(2.0 * min(BACKOFF_STEPS, 2**attempt))
    monkeypatch.setattr(ob, "_deliver", lambda msg, to: sent.append(str(msg["Message-ID"])))
    assert asyncio.run(ob.send_due()) == pytest.approx(120.0)  # not due yet: sends nothing
    now[0] += 10_000
    asyncio.run(ob.send_due())
    assert ob.pending() == [] and len(sent) == 1 and sent[0].startswith("<kassa.S1.")
    assert ob.status()["sent"] == 1
    ob.close()
