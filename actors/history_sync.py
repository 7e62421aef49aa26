"""The store's side of a member's tier across the chain (``domain.member_history``).

HQ knows every store's orders of a member; the store asks (HQ never calls) and journals what HQ
says as ``member.history`` so its ledger decides the tier from its own journal (a replay gives
the same answer; offline, the last history stands):

* ``pull`` (the member loop, every 30 s, ``actors.members_sync``): ``GET /v1/members/history?
  since=N`` pages through the members whose orders at OTHER stores changed after HQ's history
  version N; it journals those this store has met (registered here, sold to here, or given a
  history before), so the journal does not grow with every member of the chain. The cursor is
  kept in ``members.sqlite`` (losing it only re-reads: the command id is the member and version,
  ``history_cid``).
* ``refresh`` (a member looked up at the till, ``loyalty_view``): asks for that one member (at
  most ``REFRESH_S``; offline it gives up, and look-ups do not ask for ``QUIET_S``) and journals
  a newer history before the till reads the tier, so a member new to this store gets their chain
  tier at the first sale.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from domain.errors import KassaError
from domain.member_history import MemberHistory

__all__ = ["HistorySync", "start_for", "refresh_for_key"]

log = logging.getLogger(__name__)

Journal = Callable[[str, Any], Awaitable[Any]]
Ask = Callable[[str], Awaitable[dict[str, Any]]]  # a query string -> HQ's answer
REFRESH_S = 1.5
QUIET_S = 30.0  # after HQ did not answer a refresh, look-ups do not wait for it this long


def history_cid(member: str, version: int) -> str:
    """The command id of HQ's history ``version`` of ``member`` (a ledger id: 8-64 characters,
    whatever the member's id)."""
    digest = hashlib.sha256(f"{member}\0{version}".encode()).hexdigest()[:40]
    return f"member.history:{digest}"


class HistorySync:
    def __init__(
        self,
        ask: Ask | None,
        con: sqlite3.Connection,
        journal: Journal,
        met: Callable[[str], bool],
        version_of: Callable[[str], int],
    ) -> None:
        self.ask, self.con, self.journal = ask, con, journal
        self.met = met  # a member this store's book knows
        self.version_of = version_of  # the book's history version of a member (-1: none)
        self.quiet_until = 0.0
        self.last_error = ""
        con.execute("CREATE TABLE IF NOT EXISTS history_mark (id INTEGER PRIMARY KEY, since INT)")

    @property
    def since(self) -> int:
        row = self.con.execute("SELECT since FROM history_mark WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def _mark(self, since: int) -> None:
        self.con.execute("INSERT OR REPLACE INTO history_mark VALUES (1, ?)", (since,))

    async def _take(self, entry: dict[str, Any]) -> bool:
        member, version = str(entry["member"]), int(entry["version"])
        if version <= self.version_of(member):
            return False
        days = tuple((int(t), int(s), int(v)) for t, s, v in entry.get("days") or ())
        body = MemberHistory(member, version, int(entry["as_of_us"]), days)
        await self.journal(history_cid(member, version), body)
        return True

    async def pull(self) -> int:
        """Journal the histories HQ changed since the cursor for members met here; how many."""
        if self.ask is None:
            return 0
        n = 0
        while True:
            page = await self.ask(f"since={self.since}")
            for entry in page.get("members") or ():
                if self.met(str(entry["member"])) and await self._take(entry):
                    n += 1
            self._mark(int(page.get("next", self.since)))
            if not page.get("more"):
                return n

    async def pull_quietly(self) -> None:
        """``pull`` for the member loop: HQ down (or an older HQ without the route) is kept in
        ``last_error`` and does not slow the loop's member pull."""
        try:
            await self.pull()
            self.last_error = ""
        except KassaError as exc:
            self.last_error = exc.code

    async def refresh(self, member: str) -> bool:
        """Journal HQ's newer history of ``member``, if HQ answers within ``REFRESH_S``."""
        if self.ask is None or not member or time.monotonic() < self.quiet_until:
            return False
        try:
            page = await asyncio.wait_for(self.ask(f"member={quote(member)}"), REFRESH_S)
        except (KassaError, TimeoutError):
            self.quiet_until = time.monotonic() + QUIET_S  # offline: the last history stands
            return False
        taken = False
        for entry in page.get("members") or ():
            taken = await self._take(entry) or taken
        return taken


async def refresh_for_key(handles: Any, key: str) -> None:
    """Before the till reads a member's tier (by id, card or phone): HQ's newer history."""
    sync = getattr(handles, "members_sync", None)
    hs: HistorySync | None = getattr(sync, "history", None)
    if sync is None or hs is None or hs.ask is None:
        return
    other = await asyncio.get_running_loop().run_in_executor(None, sync.copy.find, key)
    try:
        member = other["member"] if other else _here(handles, key)
        await hs.refresh(member)
    except Exception:  # the look-up never fails for this: the last history stands
        log.exception("member history refresh failed")


def _here(handles: Any, key: str) -> str:
    """The member ``key`` (id, card or phone) names in this store's book, else ``key``."""
    try:
        return str(handles.ledger_shell.ledger.book.find_member(key).member)
    except KassaError:
        return key


def start_for(handles: Any, link: Any, con: sqlite3.Connection, journal: Journal) -> HistorySync:
    """The running store's history sync over its ledger's book (in this process)."""

    def book() -> Any:
        return handles.ledger_shell.ledger.book

    def met(member: str) -> bool:
        b = book()
        lo = b.loyalty
        return member in b.members or member in lo.visits or member in lo.history

    def version_of(member: str) -> int:
        h = book().loyalty.history.get(member)
        return -1 if h is None else int(h.version)

    return HistorySync(link.history if link else None, con, journal, met, version_of)
