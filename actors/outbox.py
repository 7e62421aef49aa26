"""The alert mail's durable outbox: ``<data>/outbox.sqlite`` (0600).

``Outbox.observe(states)`` is given every alert raised now, each as a key (``disk.low``,
``stock.low:<sku>``) and a line saying what it is. It compares them with the keys it mailed last
(table ``alert_state``); when they differ, ONE transaction writes the message telling what was
raised and cleared and the new keys. So a message is queued once per change of the alerts and a
restart neither loses nor repeats it: the state and the message commit together.

``Outbox.run()`` sends what is queued through SMTP (``domain.mail.SmtpSettings``), oldest first,
from a worker thread (``smtplib``: the gateway's loop never waits on the mail server). A message
the server did not take stays queued and is tried again after a back-off (``retry_s`` doubling up
to ``BACKOFF_STEPS`` times it: 5 s to 5 min by default, with jitter); it is marked sent only after
the server accepted it. Each message carries a Message-ID made from its row, so in the one case a
crash falls between the server's acceptance and the mark, the resent copy is the same message to
the mail system.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import smtplib
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import orjson

from actors.files import FILE_MODE
from domain.mail import SmtpSettings, compose

__all__ = ["Outbox", "OUTBOX_FILE", "BACKOFF_STEPS", "RETRY_ENV"]

log = logging.getLogger(__name__)
OUTBOX_FILE = "outbox.sqlite"
BACKOFF_STEPS = 60  # the longest pause is this many first pauses
RETRY_ENV = "KASSA_OUTBOX_RETRY_S"  # the first back-off (5 s); tests make it short
SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_us INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    recipients TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_us INTEGER NOT NULL DEFAULT 0,
    sent_us INTEGER,
    last_error TEXT NOT NULL DEFAULT ''
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():  # created owner-only whatever the umask
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript(SCHEMA)
    return con


class Outbox:
    def __init__(
        self,
        data_dir: Path | str,
        smtp: SmtpSettings,
        store: str,
        store_name: str = "",
        retry_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(data_dir) / OUTBOX_FILE
        self.smtp = smtp
        self.store, self.store_name = store, store_name
        self.retry_s = retry_s if retry_s is not None else float(os.environ.get(RETRY_ENV, "5"))
        self.clock = clock
        self.con = _connect(self.path)
        self.wake = asyncio.Event()
        self.last_error = ""

    @classmethod
    def for_store(cls, data_dir: Path | str, config: Any) -> Outbox | None:
        """The outbox of a store whose store.json names a mail server, else None."""
        try:
            smtp = SmtpSettings.from_dict(getattr(config, "smtp", None))
        except Exception:  # StoreConfig refuses it first; a hand-made config: no mail
            return None
        return cls(data_dir, smtp, config.store_id, config.name) if smtp.enabled else None

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------------ queueing
    def observe(self, states: Mapping[str, str]) -> int | None:
        """Queue a message if the alerts raised now (key → line) differ from those last mailed;
        answers the new message's id, or None when nothing changed."""
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            old = dict(con.execute("SELECT key, line FROM alert_state").fetchall())
            raised = {k: v for k, v in states.items() if k not in old}
            cleared = {k: v for k, v in old.items() if k not in states}
            if not raised and not cleared:
                con.execute("ROLLBACK")
                return None
            subject, body = compose(self.store, self.store_name, raised, cleared)
            now = int(self.clock() * 1_000_000)
            cur = con.execute(
                "INSERT INTO messages (created_us, subject, body, recipients, next_us)"
                " VALUES (?, ?, ?, ?, ?)",
                (now, subject, body, orjson.dumps(list(self.smtp.to)).decode(), now),
            )
            con.execute("DELETE FROM alert_state")
            con.executemany("INSERT INTO alert_state VALUES (?, ?)", sorted(states.items()))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.wake.set()
        return cur.lastrowid

    def pending(self) -> list[dict[str, Any]]:
        rows = self.con.execute(
            "SELECT id, subject, attempts, next_us, last_error FROM messages"
            " WHERE sent_us IS NULL ORDER BY id"
        ).fetchall()
        keys = ("id", "subject", "attempts", "next_us", "last_error")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def status(self) -> dict[str, Any]:
        sent = self.con.execute("SELECT count(*) FROM messages WHERE sent_us IS NOT NULL")
        return {
            "pending": len(self.pending()),
            "sent": sent.fetchone()[0],
            "error": self.last_error,
        }

    # ------------------------------------------------------------------ sending
    def _message(self, row: tuple) -> tuple[EmailMessage, list[str]]:
        mid, created_us, subject, body, recipients = row
        to = orjson.loads(recipients)
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["Date"] = formatdate(created_us / 1e6, usegmt=True)
        msg["Message-ID"] = f"<kassa.{self.store}.{created_us}.{mid}@{socket.gethostname()}>"
        msg.set_content(body)
        return msg, to

    def _deliver(self, msg: EmailMessage, to: list[str]) -> None:
        s = self.smtp
        with smtplib.SMTP(s.host, s.port, timeout=20) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                password = Path(s.password_file).read_text().strip() if s.password_file else ""
                smtp.login(s.user, password)
            smtp.send_message(msg, from_addr=s.sender, to_addrs=to)

    def _due(self) -> tuple[tuple | None, float]:
        """The oldest message due now, or None and the seconds until the next one is due."""
        now = int(self.clock() * 1_000_000)
        row = self.con.execute(
            "SELECT id, created_us, subject, body, recipients, next_us FROM messages"
            " WHERE sent_us IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
        if row is None:
            return None, 60.0
        if row[5] > now:
            return None, (row[5] - now) / 1e6
        return row[:5], 0.0

    async def send_due(self) -> float:
        """Send every message due, oldest first (a failure stops the round: order is kept);
        answers the seconds to wait before the next round."""
        while True:
            row, wait = self._due()
            if row is None:
                return wait
            msg, to = self._message(row)
            try:
                await asyncio.to_thread(self._deliver, msg, to)
            except (OSError, smtplib.SMTPException) as exc:
                self._failed(row[0], f"{type(exc).__name__}: {exc}")
                return self._due()[1]
            self.con.execute(
                "UPDATE messages SET sent_us = ?, last_error = '' WHERE id = ?",
                (int(self.clock() * 1_000_000), row[0]),
            )
            self.last_error = ""

    def _failed(self, mid: int, why: str) -> None:
        (attempts,) = self.con.execute(
            "SELECT attempts FROM messages WHERE id = ?", (mid,)
        ).fetchone()
        backoff = self.retry_s * min(BACKOFF_STEPS, 2 ** min(attempts, 20))
        backoff *= random.uniform(0.8, 1.2)
        self.con.execute(
            "UPDATE messages SET attempts = attempts + 1, next_us = ?, last_error = ? WHERE id = ?",
            (int((self.clock() + backoff) * 1_000_000), why[:300], mid),
        )
        if why != self.last_error:
            log.warning("alert mail not sent (retrying in %.0f s): %s", backoff, why)
        self.last_error = why

    async def run(self) -> None:
        while True:
            try:
                wait = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must never stop the mail
                log.exception("sending the alert mail")
                wait = self.retry_s
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), max(0.05, min(wait, 60.0)))
