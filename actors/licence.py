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
import json
import logging
import os
import random
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from actors.files import atomic_write
from domain.errors import KassaError, Unavailable, error_from_dict
from domain.events import decode_body, encode_body, kind_of
from domain.licence import (
    TOLERANCE_US,
    WARN_DAYS,
    Decision,
    Licence,
    LicenceChecked,
    LicenceCheckFailed,
    LicenceInstalled,
    LicenceRefused,
    LicenceTamperDetected,
    Standing,
    answer_text,
    check_for_store,
    public_key_from,
    read_licence,
    read_result,
)
from domain.ports import Clock

__all__ = ["LicenceKeeper", "CheckTransport", "HttpTransport", "FakeTransport"]

log = logging.getLogger(__name__)

CHECK_PATH = "/v1/licence/check"


# ---------------------------------------------------------------- transports


class CheckTransport(Protocol):
    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a check request to the cloud; return its JSON answer or raise."""


class HttpTransport:
    """POSTs the check request to ``<base_url>/v1/licence/check`` with aiohttp."""

    def __init__(
        self, base_url: str, timeout_s: float = 20.0, session: Any = None, line: Any = None
    ) -> None:
        self.url = base_url.rstrip("/") + CHECK_PATH
        self.timeout_s = timeout_s
        self._session = session
        self.line = line  # actors.line.Line: the check goes first, the uploader waits

    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.line is None:
            return await self._check(request)
        async with self.line.priority():
            return await self._check(request)

    async def _check(self, request: dict[str, Any]) -> dict[str, Any]:
        import aiohttp  # only the real transport needs it

        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        own = self._session is None
        session = self._session or aiohttp.ClientSession(timeout=timeout)
        try:
            try:
                async with session.post(self.url, json=request, timeout=timeout) as resp:
                    try:
                        data = await resp.json(content_type=None)
                    except ValueError:
                        data = None
                    if resp.status != 200:
                        if isinstance(data, dict) and "code" in data:
                            raise error_from_dict(data)
                        raise Unavailable(
                            "licence.cloud_error", f"the cloud answered HTTP {resp.status}"
                        )
                    if not isinstance(data, dict):
                        raise Unavailable("licence.cloud_error", "the cloud's answer is not JSON")
                    return data
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise Unavailable(
                    "licence.cloud_unreachable",
                    f"cannot reach the cloud: {type(exc).__name__}: {exc}",
                ) from None
        finally:
            if own:
                await session.close()


class FakeTransport:
    """A cloud in a box for tests: ``answer(request) -> dict`` (sync or async); can go offline."""

    def __init__(
        self, answer: Callable[[dict[str, Any]], Any] | None = None, online: bool = True
    ) -> None:
        self.answer = answer
        self.online = online
        self.requests: list[dict[str, Any]] = []
        self.tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # edit answers

    async def check(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if not self.online or self.answer is None:
            raise Unavailable("licence.cloud_unreachable", "the cloud is unreachable (fake)")
        out = self.answer(request)
        if asyncio.iscoroutine(out):
            out = await out
        return self.tamper(out) if self.tamper else out


# ---------------------------------------------------------------- the keeper

JournalFn = Callable[[Any], Awaitable[Any]]
# (journal time, event body or None), oldest first
History = Callable[[], Iterable[tuple[int, Any]]]

_LOCAL_KEYS = ("failures", "last_error", "last_attempt_local")  # the scheduler's, not the rule's


def journal_history(path: Path | str) -> Iterator[tuple[int, Any]]:
    """The licence events of the journal at ``path`` with their times, and between them the latest
    time of any other event (body None), read through a read-only connection."""
    from actors.journal import connect

    if not Path(path).exists():
        return
    con = connect(path, readonly=True)
    try:
        rows = con.execute(
            "SELECT seq, ts, kind, body FROM events WHERE kind LIKE 'licence.%' ORDER BY seq"
        ).fetchall()
        prev = 0
        for seq, ts, kind, body in rows + [(None, 0, "", b"")]:
            q = "SELECT max(ts) FROM events WHERE seq > ?" + (" AND seq < ?" if seq else "")
            gap = con.execute(q, (prev, seq) if seq else (prev,)).fetchone()[0]
            if gap:
                yield gap, None
            if seq is None:
                return
            try:
                yield ts, decode_body(kind, bytes(body))
            except KassaError:
                log.error("unreadable licence event at seq %s", seq)
            prev = seq
    finally:
        con.close()


class LicenceKeeper:
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

    # ------------------------------------------------------------ persistence
    @property
    def licence_path(self) -> Path:
        return self.dir / "licence.json"

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def _load(self) -> None:
        cached: dict[str, Any] = {}
        if self.state_path.exists():
            try:
                cached = json.loads(self.state_path.read_bytes())
                self.local.update({k: cached[k] for k in _LOCAL_KEYS if k in cached})
            except (ValueError, TypeError, AttributeError):
                log.error(
                    "licence state %s unreadable; the journal has what counts", self.state_path
                )
                cached = {}
        if self.licence_path.exists():
            try:
                doc = json.loads(self.licence_path.read_bytes())
                lic = read_licence(doc, self.public_key)
                if lic.store_id != self.store_id:
                    check_for_store(lic, self.store_id, 0)  # raises licence.wrong_store
                self.licence, self.licence_file = lic, doc
            except (KassaError, ValueError) as exc:
                err = (
                    exc
                    if isinstance(exc, KassaError)
                    else KassaError("licence.malformed", str(exc))
                )
                log.error("installed licence refused: %s", err)
                self.load_error = err
        self._rebuild(cached if isinstance(cached, dict) else {})

    def _rebuild(self, cached: dict[str, Any]) -> None:
        """The standing from the journal's signed answers (and the offline CLI's pending events)."""
        st = Standing(self.public_key, self.store_id, self.tolerance_us)
        try:
            for ts, body in self.history():
                st.apply(ts, body) if body is not None else st.seen(ts)
        except Exception:  # an unreadable journal is the journal check's to report
            log.exception("could not read the licence history from the journal")
        self._outbox.clear()
        self._load_pending()
        for body in self._outbox:
            st.apply(0, body)
        if not self.journal_fn:
            self._outbox.clear()  # the file keeps them for the server
            self._pending_file_loaded = False
        if st.rejected:
            log.warning(
                "%d journaled licence check(s) carry no valid HQ signature: ignored", st.rejected
            )
        hw = cached.get("high_water")
        if type(hw) is int:  # a clock reading the journal may lack; it can only raise the mark
            st.seen(hw)
        self.standing = st
        view = self.state
        differs = [
            k
            for k in ("last_ok", "status", "revoked_ids", "tampered")
            if k in cached and cached[k] != view[k]
        ]
        if differs:
            log.warning(
                "licence/state.json disagrees with the journal on %s (edited?): the "
                "journal's signed answers count, the file is rewritten",
                ", ".join(differs),
            )
            self._save()

    def reload(self) -> None:
        """Re-read the licence files (after an install made by the offline CLI)."""
        self.licence = self.licence_file = self.load_error = None
        self._load()

    @property
    def state(self) -> dict[str, Any]:
        """The keeper's view as cached in ``state.json`` (for people; not read back)."""
        st, lic = self.standing, self._lid()
        return {
            "v": 2,
            "licence_id": lic,
            "last_ok": st.last_ok.get(lic),
            "status": st.status_of(lic),
            "revoked_ids": sorted(st.revoked_ids()),
            "high_water": st.high_water,
            "hw_ignore_upto": st.ignore_upto,
            "tampered": st.tampered,
            "last_check": st.last_check,
            "rejected_answers": st.rejected,
            **self.local,
        }

    def _save(self) -> None:
        atomic_write(self.state_path, json.dumps(self.state, sort_keys=True, indent=1).encode())

    # ------------------------------------------------------------ events
    @property
    def pending_path(self) -> Path:
        """Events made without a ledger (the offline CLI) wait here for the next server start."""
        return self.dir / "pending_events.jsonl"

    def _load_pending(self) -> None:
        if not self.pending_path.exists():
            return
        self._outbox.clear()
        for line in self.pending_path.read_text().splitlines():
            try:
                rec = json.loads(line)
                self._outbox.append(decode_body(rec["kind"], json.dumps(rec["body"])))
            except (ValueError, KeyError, KassaError):
                log.error("dropping unreadable pending licence event %r", line[:200])
        self._pending_file_loaded = True

    async def flush(self) -> None:
        """Journal what is waiting (events the offline CLI left, or that the ledger refused)."""
        await self._journal([])

    async def _journal(self, events: list[Any]) -> None:
        if self.journal_fn is None:
            if events:
                self.dir.mkdir(parents=True, exist_ok=True)
                with open(self.pending_path, "a") as fh:
                    for ev in events:
                        fh.write(
                            json.dumps({"kind": kind_of(ev), "body": json.loads(encode_body(ev))})
                            + "\n"
                        )
                    fh.flush()
                    os.fsync(fh.fileno())
            return
        self._outbox.extend(events)
        if getattr(self, "_outbox_lock", None) is None:
            self._outbox_lock = asyncio.Lock()
        async with self._outbox_lock:  # one sender at a time: each event journaled once
            while self._outbox:
                ev = self._outbox[0]
                try:
                    await self.journal_fn(ev)
                except Exception:  # the ledger is busy or down: keep it for the next time
                    log.exception("could not journal %s; will retry", type(ev).__name__)
                    self._keep_outbox()
                    return
                self._outbox.pop(0)
        if self._pending_file_loaded:
            self.pending_path.unlink(missing_ok=True)
            self._pending_file_loaded = False

    def _keep_outbox(self) -> None:
        """Events the ledger has not taken yet survive a restart in the pending file."""
        if not self._pending_file_loaded and self.pending_path.exists():
            mine = list(self._outbox)  # the offline CLI wrote there meanwhile: keep its events
            self._load_pending()
            self._outbox.extend(mine)
        try:
            atomic_write(
                self.pending_path,
                "".join(
                    json.dumps({"kind": kind_of(ev), "body": json.loads(encode_body(ev))}) + "\n"
                    for ev in self._outbox
                ).encode(),
            )
            self._pending_file_loaded = True
        except OSError:
            log.exception("could not keep the unjournaled licence events")

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

    def _lid(self) -> str:
        return self.licence.licence_id if self.licence else ""

    # ------------------------------------------------------------ decisions
    def _decision(self, now: int) -> Decision:
        if self.licence is None and self.load_error is not None:
            return Decision(
                False,
                self.load_error.code,
                f"the installed licence file is not valid: {self.load_error.message}",
            )
        return self.standing.decide(self.licence, now, warn_days=self.warn_days)

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
        async with self._lock:
            now = self._read_clock(events)
            d = self._decision(now)
            if not d.ok:
                events.append(
                    LicenceRefused(self._lid(), "open_day", d.code, d.message, d.grace_days_left)
                )
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

    # ------------------------------------------------------------ checks
    async def check_once(self) -> dict[str, Any]:
        """Ask the cloud once. Returns {ok, code, message, ...}; never raises."""
        events: list[Any] = []
        try:
            async with self._lock:
                out = await self._check(events)
        except Exception as exc:  # never let a check disturb the store
            log.exception("licence check crashed")
            out = {"ok": False, "code": "licence.check_crashed", "message": str(exc)}
        await self._journal(events)
        return out

    async def _check(self, events: list[Any]) -> dict[str, Any]:
        st = self.local
        now = self._read_clock(events)
        st["last_attempt_local"] = now
        if self.licence is None or self.licence_file is None:
            self._save()
            return {"ok": False, "code": "licence.missing", "message": "no licence installed"}
        if self.transport is None:
            self._save()
            return {"ok": False, "code": "licence.no_transport", "message": "no cloud configured"}
        nonce = secrets.token_hex(16)
        request = {
            "store_id": self.store_id,
            "licence": self.licence_file,
            "nonce": nonce,
            "store_time": now,
        }
        try:
            answer = await asyncio.wait_for(self.transport.check(request), self.check_timeout_s)
            res = read_result(
                answer,
                self.public_key,
                store_id=self.store_id,
                licence_id=self.licence.licence_id,
                nonce=nonce,
            )
        except Exception as exc:
            if isinstance(exc, KassaError):
                code, msg = exc.code, exc.message
            elif isinstance(exc, asyncio.TimeoutError):
                code, msg = "licence.cloud_timeout", "the cloud did not answer in time"
            else:
                code, msg = "licence.cloud_unreachable", f"{type(exc).__name__}: {exc}"
            st["failures"] += 1
            st["last_error"] = {"code": code, "message": msg, "local_time": now}
            self._save()
            d = self._decision(now)
            events.append(
                LicenceCheckFailed(
                    self.licence.licence_id, code, msg, st["failures"], now, d.grace_days_left
                )
            )
            log.warning("licence check failed (%s): %s", code, msg)
            return {
                "ok": False,
                "code": code,
                "message": msg,
                "attempt": st["failures"],
                "grace_days_left": d.grace_days_left,
            }
        local = self.clock.now_us()
        # the cloud's signed time is the trusted one: it resets the high-water mark; times seen
        # before it that lie ahead of it (a clock that ran fast) are disowned. The answer is
        # journaled as it came, signature and all: a restart rebuilds from it (``Standing``).
        ev = LicenceChecked(
            res.licence_id,
            res.status,
            res.server_time,
            local,
            nonce,
            res.reason,
            0,
            False,
            answer_text(answer),
        )
        cleared = self.standing.apply(local, ev)
        st["failures"] = 0
        st["last_error"] = None
        self._save()
        d = self._decision(local)
        events.append(replace(ev, grace_days_left=d.grace_days_left, cleared_tamper=cleared))
        skew_s = (local - res.server_time) / 1_000_000
        code = "licence.checked" if res.status == "ok" else f"licence.{res.status}"
        return {
            "ok": res.status == "ok",
            "code": code,
            "status": res.status,
            "message": res.reason or res.status,
            "server_time": res.server_time,
            "clock_skew_s": skew_s,
            "cleared_tamper": cleared,
            "grace_days_left": d.grace_days_left,
        }

    def _next_delay_s(self, last: dict[str, Any] | None) -> float:
        if last is not None and last.get("code") in ("licence.missing", "licence.no_transport"):
            return min(self.interval_s, self.backoff_max_s)  # look again for a new licence
        if last is not None and not last.get("ok") and last.get("status") is None:
            n = max(1, int(self.local["failures"]))
            base = min(self.backoff_max_s, self.backoff_base_s * 2 ** (n - 1))
            return base * (0.5 + self.rng() / 2)  # jitter: half to full
        checked = self.standing.last_check
        if (
            last is None
            and self.local["last_attempt_local"]
            and checked
            and not self.local["failures"]
        ):
            since = (self.clock.now_us() - checked["local_time"]) / 1_000_000
            if 0 <= since < self.interval_s:
                return self.interval_s - since  # checked recently (before a restart)
            return 0.0
        if last is None:
            return 0.0
        return self.interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Check every ``interval_s``; on failure retry with jittered backoff. Returns when ``stop``
        is set; never raises."""
        last: dict[str, Any] | None = None
        while not stop.is_set():
            try:
                delay = self._next_delay_s(last)
            except Exception:
                log.exception("licence scheduler")
                delay = self.backoff_max_s
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return
                except TimeoutError:
                    pass
            if stop.is_set():
                return
            last = await self.check_once()
