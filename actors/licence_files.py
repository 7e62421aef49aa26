"""The licence keeper's files and history: ``licence.json`` and ``state.json`` under
``<data>/licence/``, the standing rebuilt from the journal's licence events (``journal_history``)
and the outbox of events waiting for the ledger (``pending_events.jsonl``). A mixin of
``actors.licence.LicenceKeeper``, which sets these attributes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from actors.files import atomic_write
from domain.errors import KassaError
from domain.events import decode_body, encode_body, kind_of
from domain.licence import Licence, Standing, check_for_store, read_licence

__all__ = ["JournalFn", "History", "journal_history", "KeeperFiles"]

log = logging.getLogger("actors.licence")

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
            "SELECT seq, ts, kind, body, v FROM events WHERE kind LIKE 'licence.%' ORDER BY seq"
        ).fetchall()
        prev = 0
        for seq, ts, kind, body, v in rows + [(None, 0, "", b"", 0)]:
            q = "SELECT max(ts) FROM events WHERE seq > ?" + (" AND seq < ?" if seq else "")
            gap = con.execute(q, (prev, seq) if seq else (prev,)).fetchone()[0]
            if gap:
                yield gap, None
            if seq is None:
                return
            try:
                yield ts, decode_body(kind, bytes(body), v)
            except KassaError:
                log.error("unreadable licence event at seq %s", seq)
            prev = seq
    finally:
        con.close()


class KeeperFiles:
    dir: Path
    history: History
    store_id: str
    public_key: Any
    tolerance_us: int
    journal_fn: JournalFn | None
    _outbox: list[Any]
    licence: Licence | None
    licence_file: dict[str, Any] | None
    load_error: KassaError | None
    local: dict[str, Any]
    standing: Standing
    _pending_file_loaded: bool

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

    def _lid(self) -> str:
        return self.licence.licence_id if self.licence else ""
