"""The licence keeper: holds the store's licence, checks it with the cloud, says if a day may open.

``LicenceKeeper`` is a plain class (``actors.remote`` may make it an actor). ``<data>/licence/``
holds ``licence.json`` (the signed licence file exactly as HQ issued it) and ``state.json``, both
written atomically (temp file, fsync, rename, fsync of the folder).

What the grace rule stands on — HQ's answers (each journaled with its signature in
``LicenceChecked.answer``), revocations, the tamper latch, the high-water mark of time — is rebuilt
at every start from the journal (``history``: ``<data>/journal.sqlite`` read-only, plus events the
offline CLI left in ``pending_events.jsonl``), verifying every answer with HQ's public key
(``domain.licence.Standing``). ``state.json`` is a cache for people and for the check scheduler
(failures, last error): its view of the licence is never read back, except that its high-water
mark may raise (never lower) the journal's. Editing it grants nothing; a revocation journaled
stays until HQ answers ``ok`` again.

* ``await install(file_bytes)`` verifies and installs a licence (refusals raise and are journalled);
* ``await check_once()`` asks the cloud (the store initiates; the answer is signed by HQ and echoes
  our nonce); never raises;
* ``await run(stop)`` checks every 24 h, failures retried with jittered exponential backoff; never
  raises, never touches selling;
* ``await may_open_day()`` is asked when a day is opened: the decision, with an event if refused;
* ``status()`` is the same decision without side effects, for till and manager screens;
* ``observe(ts_us)`` feeds times the store has seen elsewhere (journal times) into the high-water
  mark.

Every check, failure, refusal, install and detected clock tampering becomes an event body handed to
``journal_fn`` (an async callable: the lead's bridge to the ledger).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actors.files import atomic_write
from actors.licence_activation import KeeperActivation
from actors.licence_check import KeeperChecks
from actors.licence_files import History, JournalFn, KeeperFiles, journal_history
from actors.licence_transport import CheckTransport, FakeTransport, HttpTransport
from domain.errors import KassaError
from domain.licence import (
    TOLERANCE_US,
    WARN_DAYS,
    Decision,
    Licence,
    LicenceInstalled,
    LicenceRefused,
    LicenceTamperDetected,
    Standing,
    check_for_store,
    public_key_from,
    read_licence,
)
from domain.ports import Clock

__all__ = ["LicenceKeeper", "CheckTransport", "HttpTransport", "FakeTransport"]

log = logging.getLogger(__name__)


class LicenceKeeper(KeeperFiles, KeeperChecks, KeeperActivation):
    def __init__(
        self,
        data_dir: Path | str,
        store_id: str,
        public_key: Any,
        transport: CheckTransport | None,
        clock: Clock,
        journal_fn: JournalFn | None = None,
        *,
        interval_s: float = 86_400.0,
        backoff_base_s: float = 60.0,
        backoff_max_s: float = 3_600.0,
        check_timeout_s: float = 30.0,
        tolerance_us: int = TOLERANCE_US,
        warn_days: int = WARN_DAYS,
        rng: Callable[[], float] = random.random,
        history: History | None = None,
        machine_id: str | None = None,
    ) -> None:
        self.dir = Path(data_dir) / "licence"
        self.history = history or (lambda: journal_history(Path(data_dir) / "journal.sqlite"))
        self.store_id = store_id
        self.public_key = public_key_from(public_key)
        self.transport = transport
        self.clock = clock
        self.journal_fn = journal_fn
        self.interval_s = interval_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.check_timeout_s = check_timeout_s
        self.tolerance_us = tolerance_us
        self.warn_days = warn_days
        self.rng = rng
        self._lock = asyncio.Lock()
        self._outbox: list[Any] = []  # events journal_fn could not take yet
        self.licence: Licence | None = None
        self.licence_file: dict[str, Any] | None = None
        self.load_error: KassaError | None = None
        self.local: dict[str, Any] = {"failures": 0, "last_error": None, "last_attempt_local": None}
        self.standing = Standing(self.public_key, store_id, tolerance_us)
        self._pending_file_loaded = False
        self._load()
        # the install id: ``machine_id`` None reads /etc/machine-id (tests pass their own)
        self._init_activation(Path(data_dir), machine_id)

    # ------------------------------------------------------------ persistence
    # ------------------------------------------------------------ time
    def observe(self, ts_us: int) -> None:
        """A time the store has seen (e.g. the journal's latest event time): raise the high-water
        mark.

        Times already disowned by a successful online check (a clock that ran ahead and was
        corrected) are ignored."""
        before = self.standing.high_water
        self.standing.seen(ts_us)
        if self.standing.high_water != before:
            self._save()

    def _read_clock(self, events: list[Any]) -> int:
        """Read the clock: raise the high-water mark, or latch tampering if the clock went back."""
        now = self.clock.now_us()
        st = self.standing
        if now < st.high_water - self.tolerance_us:
            if st.tampered is None:
                ev = LicenceTamperDetected(self._lid(), now, st.high_water, "clock")
                st.apply(now, ev)
                events.append(ev)
                log.warning("clock wound back: %s < high-water %s", now, st.high_water)
                self._save()
        elif now > st.high_water:
            st.seen(now)
            self._save()
        return now

    # ------------------------------------------------------------ decisions
    def _decision(self, now: int) -> Decision:
        if self.licence is None and self.load_error is not None:
            return Decision(
                False,
                self.load_error.code,
                f"the installed licence file is not valid: {self.load_error.message}",
            )
        d = self.standing.decide(self.licence, now, warn_days=self.warn_days)
        if d.ok and self.needs_activation():  # the last gate: HQ approved this install?
            return Decision(
                False,
                "licence.not_activated",
                f"licence {self._lid()} is not activated on this PC: ask HQ to approve the "
                f"activation of install {self.install_id} (kassa store licence activate)",
                grace_days_left=d.grace_days_left,
                expires_days_left=d.expires_days_left,
                effective_time=d.effective_time,
            )
        return d

    def _view(self, d: Decision) -> dict[str, Any]:
        out = d.to_dict()
        lic = self.licence
        st = self.state
        last = st["last_check"]
        out.update(
            {
                "store_id": self.store_id,
                "licence_id": lic.licence_id if lic else "",
                "valid_from": lic.valid_from if lic else 0,
                "valid_until": lic.valid_until if lic else 0,
                "grace_days": lic.grace_days if lic else 0,
                "tills": lic.tills if lic else 0,
                "features": list(lic.features) if lic else [],
                "last_ok": st["last_ok"],
                "last_check_status": last["status"] if last else "",
                "failures": st["failures"],
                "last_error": st["last_error"],
                "tampered": bool(st["tampered"]),
                **self.activation_view(),
            }
        )
        return out

    def status(self) -> dict[str, Any]:
        """The day-opening decision and licence facts, without side effects (for screens)."""
        return self._view(self._decision(self.clock.now_us()))

    async def may_open_day(self) -> dict[str, Any]:
        """Asked when a business day is to be opened: {ok, code, message, grace_days_left, warn, …}.

        A refusal (and a newly detected clock tampering) is journalled."""
        events: list[Any] = []
        if self.transport is not None and self.needs_activation():
            # HQ may have approved since the last poll: ask now (briefly: offline, it just fails)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.activate_once(), min(10.0, self.check_timeout_s))
        async with self._lock:
            now = self._read_clock(events)
            d = self._decision(now)
            if not d.ok:
                events.append(
                    LicenceRefused(self._lid(), "open_day", d.code, d.message, d.grace_days_left)
                )
                if d.code == "licence.not_activated":
                    self.wake_activation()  # ask HQ now, not at the next poll
        await self._journal(events)
        return self._view(d)

    def allows_tills(self, count: int) -> bool:
        return self.licence is not None and count <= self.licence.tills

    def has_feature(self, name: str) -> bool:
        return self.licence is not None and self.licence.has(name)

    # ------------------------------------------------------------ install
    async def install(self, data: bytes | str | dict[str, Any]) -> dict[str, Any]:
        """Verify and install a licence file; raise (and journal the refusal) if not for us."""
        events: list[Any] = []
        doc: Any = data  # the parsed file once read
        try:
            async with self._lock:
                now = self._read_clock(events)
                if isinstance(doc, (bytes, str)):
                    try:
                        doc = json.loads(doc)
                    except (ValueError, UnicodeDecodeError):
                        pass  # read_licence explains
                lic = read_licence(doc, self.public_key)
                check_for_store(
                    lic,
                    self.store_id,
                    max(now, self.standing.high_water),
                    self.standing.revoked_ids(),
                )
                old = self.licence
                atomic_write(self.licence_path, json.dumps(doc, indent=1).encode())
                self.licence, self.licence_file, self.load_error = lic, doc, None
                self._save()
                events.append(
                    LicenceInstalled(
                        lic.licence_id,
                        lic.store_id,
                        lic.valid_from,
                        lic.valid_until,
                        lic.grace_days,
                        lic.tills,
                        lic.features,
                        lic.issued_at,
                        old.licence_id if old else "",
                    )
                )
                d = self._decision(now)
        except KassaError as exc:
            lid = ""
            if isinstance(doc, dict) and isinstance(doc.get("licence"), dict):
                lid = str(doc["licence"].get("licence_id", ""))
            events.append(LicenceRefused(lid, "install", exc.code, exc.message))
            await self._journal(events)
            raise
        await self._journal(events)
        return self._view(d)
