"""A print queue that never blocks the till and never loses a receipt.

``submit()`` only writes one row to a small SQLite file in the till's data folder (WAL) and wakes a
background thread; it returns at once whatever the printer is doing. The thread prints jobs in
order: it builds the receipt, encodes it (``hw.encode``), sends it (``hw.printer``), and on failure
keeps the job, backs off (1 s, 2 s, 4 s … capped, with jitter) and probes the printer meanwhile, so
a printer that comes back is used at once. Jobs survive a restart of the till. Printed jobs stay on
file for reprints (the newest ``keep_done`` of them).

The till reads ``state()`` (a snapshot; no I/O, no waiting) and may pass ``on_change`` to hear about
changes — it is called on the queue's thread, so a Tk till hands it over with ``after()``.

The cash drawer is kicked with a cash sale's receipt, but only if that receipt prints within
``kick_window`` seconds of the sale: a receipt that waited for the printer for ten minutes does not
open the drawer when it finally prints. Reprints never kick.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hw.encode import encode_receipt
from hw.printer import OFFLINE, OK, PAPER_LOW, UNKNOWN, Printer, PrinterError, Status, make_printer
from hw.receipt import Receipt, build_receipt, build_refund_receipt

__all__ = ["PrintQueue", "QueueState", "JobInfo"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,          -- idempotency: sale:<order_id>, refund:<refund_id>, ...
    kind TEXT NOT NULL,                -- sale | refund | reprint | drawer
    number TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL,             -- JSON: the order/refund dict, lang and options
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    next_at REAL NOT NULL,
    printed REAL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, id);
CREATE INDEX IF NOT EXISTS jobs_number ON jobs(number, id);
"""


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    number: str
    state: str
    attempts: int
    created: float
    printed: float | None
    last_error: str


@dataclass(frozen=True)
class QueueState:
    """What the till shows. ``printer``: ok | offline | paper_out | paper_low | cover_open | error |
    unknown; ``code`` is ``printer.<state>`` for the till's message catalogue."""

    printer: str = UNKNOWN
    detail: str = ""
    pending: int = 0
    failed: int = 0
    printing: bool = False
    last_error: str = ""
    next_retry_at: float | None = None
    last_printed: str = ""
    changed_at: float = field(default_factory=time.time)

    @property
    def code(self) -> str:
        return f"printer.{self.printer}"

    @property
    def ok(self) -> bool:
        return self.printer in (OK, PAPER_LOW, UNKNOWN) and not self.failed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["code"] = self.code
        d["ok"] = self.ok
        return d


class PrintQueue:
    """Persisted receipt queue with one printing thread.

    ``printer`` is a ``Printer`` or a settings dict for ``make_printer``; ``store`` a
    ``StoreConfig`` or its dict (shop header, currency, zone). ``data_dir`` holds
    ``print-queue.sqlite``.
    """

    def __init__(
        self,
        data_dir: str | Path,
        printer: Printer | Mapping[str, Any],
        store: Any,
        *,
        autostart: bool = True,
        backoff: tuple[float, float] = (1.0, 30.0),
        probe_every: float = 2.0,
        idle_probe_every: float = 15.0,
        kick_window: float = 120.0,
        keep_done: int = 2000,
        on_change: Callable[[QueueState], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.printer: Printer = (
            make_printer(dict(printer)) if isinstance(printer, Mapping) else printer
        )
        self.store = store
        self.backoff = backoff
        self.probe_every = probe_every
        self.idle_probe_every = idle_probe_every
        self.kick_window = kick_window
        self.keep_done = keep_done
        self.on_change = on_change
        self._clock = clock
        self.path = Path(data_dir) / "print-queue.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=5.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # a job left "printing" by a crash is simply pending
        self._dblock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._state = QueueState()
        self._refresh_counts()
        if autostart:
            self.start()

    # ---------------------------------------------------------------- life cycle

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kassa-print-queue", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._thread = None

    def close(self) -> None:
        self.stop()
        with self._dblock:
            self._db.close()

    def __enter__(self) -> PrintQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the till's API

    def submit(
        self,
        order: Mapping[str, Any],
        lang: str = "en",
        *,
        member_balance: int | None = None,
        when_us: int | None = None,
        till: str = "",
        staff: str = "",
        kick: bool | None = None,
        key: str | None = None,
    ) -> int:
        """Queue a sale receipt; returns the job id at once. Submitting the same order twice is one
        job (key ``sale:<order_id>``). ``kick`` defaults to "the order has a cash tender"."""
        order = dict(order)
        if kick is None:
            kick = any(p.get("kind") == "cash" for p in order.get("payments") or ())
        payload = {
            "order": order,
            "lang": lang,
            "member_balance": member_balance,
            "when_us": when_us,
            "till": till,
            "staff": staff,
            "kick": bool(kick),
        }
        key = key or f"sale:{order.get('order_id') or order.get('number') or uuid.uuid4()}"
        return self._insert(key, "sale", str(order.get("number", "")), payload)

    def submit_refund(
        self,
        refund: Mapping[str, Any],
        lang: str = "en",
        *,
        original: Mapping[str, Any] | None = None,
        member_balance: int | None = None,
        when_us: int | None = None,
        till: str = "",
        staff: str = "",
        kick: bool | None = None,
    ) -> int:
        """Queue a refund receipt (``OrderRefunded`` dict; ``original`` the sold order's dict)."""
        refund = dict(refund)
        if kick is None:
            kick = any(p.get("kind") == "cash" for p in refund.get("tenders") or ())
        payload = {
            "refund": refund,
            "original": dict(original) if original else None,
            "lang": lang,
            "member_balance": member_balance,
            "when_us": when_us,
            "till": till,
            "staff": staff,
            "kick": bool(kick),
        }
        key = f"refund:{refund.get('refund_id') or uuid.uuid4()}"
        return self._insert(key, "refund", str(refund.get("refund_id", "")), payload)

    def reprint(self, ref: int | str, lang: str | None = None) -> int:
        """Print a copy ("COPY" on top, no drawer kick) of an earlier job, given its id or its
        order/refund number. Raises ``KeyError`` if nothing is on file."""
        row = self._find(ref)
        if row is None:
            raise KeyError(f"no receipt on file for {ref!r}")
        kind, number, payload = row
        payload = json.loads(payload)
        payload["copy"] = True
        payload["kick"] = False
        if lang:
            payload["lang"] = lang
        payload["of"] = kind if kind != "reprint" else payload.get("of", "sale")
        return self._insert(f"reprint:{uuid.uuid4()}", "reprint", number, payload)

    def reprint_order(self, order: Mapping[str, Any], lang: str = "en", **kw: Any) -> int:
        """Print a copy of an order the queue has never seen (e.g. found by after-sales)."""
        payload = {
            "order": dict(order),
            "lang": lang,
            "copy": True,
            "kick": False,
            "of": "sale",
            **{k: kw.get(k) for k in ("member_balance", "when_us", "till", "staff")},
        }
        payload["till"] = payload["till"] or ""
        payload["staff"] = payload["staff"] or ""
        return self._insert(
            f"reprint:{uuid.uuid4()}", "reprint", str(order.get("number", "")), payload
        )

    def open_drawer(self) -> int:
        """Queue a bare drawer kick (the till journals why)."""
        return self._insert(f"drawer:{uuid.uuid4()}", "drawer", "", {"kick": True})

    def retry(self, job_id: int | None = None) -> None:
        """Try again now: every waiting job, or one (a failed one goes back to pending)."""
        now = self._clock()
        with self._dblock:
            if job_id is None:
                self._db.execute(
                    "UPDATE jobs SET next_at=?, state='pending' "
                    "WHERE state IN ('pending','failed')",
                    (now,),
                )
            else:
                self._db.execute(
                    "UPDATE jobs SET next_at=?, state='pending' WHERE id=? "
                    "AND state IN ('pending','failed')",
                    (now, int(job_id)),
                )
        self._refresh_counts()
        self._wake.set()

    def cancel(self, job_id: int) -> bool:
        """Drop a waiting job (the sale itself is untouched; a reprint stays possible)."""
        with self._dblock:
            cur = self._db.execute(
                "UPDATE jobs SET state='cancelled' WHERE id=? AND state IN ('pending','failed')",
                (int(job_id),),
            )
        self._refresh_counts()
        return cur.rowcount > 0

    def state(self) -> QueueState:
        """A snapshot for the till's screen; never waits on the printer."""
        with self._state_lock:
            return self._state

    def jobs(self, limit: int = 20, states: tuple[str, ...] = ()) -> list[JobInfo]:
        sql = "SELECT id, kind, number, state, attempts, created, printed, last_error FROM jobs"
        args: list[Any] = []
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args.extend(states)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(limit))
        with self._dblock:
            rows = self._db.execute(sql, args).fetchall()
        return [JobInfo(*r) for r in rows]

    def receipt_of(self, job_id: int) -> Receipt | None:
        with self._dblock:
            row = self._db.execute(
                "SELECT kind, payload FROM jobs WHERE id=?", (int(job_id),)
            ).fetchone()
        if row is None or row[0] == "drawer":
            return None
        return self._receipt(row[0], json.loads(row[1]))

    def preview(self, ref: int | str, path: str | Path) -> Path:
        """Save a PNG of a queued/printed receipt (by job id or number)."""
        from hw.render import save_preview

        row = self._find(ref)
        if row is None:
            raise KeyError(f"no receipt on file for {ref!r}")
        receipt = self._receipt(row[0], json.loads(row[2]))
        return save_preview(receipt, path, self.printer.options.paper)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: wait until nothing is pending (never call from the Tk thread)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.state()
            if st.pending == 0 and not st.printing:
                return True
            time.sleep(0.02)
        return False

    # ---------------------------------------------------------------- internals

    def _insert(self, key: str, kind: str, number: str, payload: dict[str, Any]) -> int:
        now = self._clock()
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        with self._dblock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO jobs(key, kind, number, payload, created, next_at) "
                "VALUES (?,?,?,?,?,?)",
                (key, kind, number, body, now, now),
            )
            if cur.rowcount and cur.lastrowid is not None:
                job_id = cur.lastrowid
            else:
                job_id = int(
                    self._db.execute("SELECT id FROM jobs WHERE key=?", (key,)).fetchone()[0]
                )
        self._refresh_counts()
        self._wake.set()
        return job_id

    def _find(self, ref: int | str) -> tuple[str, str, str] | None:
        with self._dblock:
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                row = self._db.execute(
                    "SELECT kind, number, payload FROM jobs WHERE id=?", (int(ref),)
                ).fetchone()
                if row:
                    return row
            return self._db.execute(
                "SELECT kind, number, payload FROM jobs WHERE number=? AND kind!='drawer' "
                "ORDER BY (kind='reprint'), id DESC LIMIT 1",
                (str(ref),),
            ).fetchone()

    def _receipt(self, kind: str, p: dict[str, Any]) -> Receipt:
        common: dict[str, Any] = {
            "member_balance": p.get("member_balance"),
            "when_us": p.get("when_us"),
            "till": p.get("till") or "",
            "staff": p.get("staff") or "",
            "copy": bool(p.get("copy")),
        }
        if kind == "refund" or (kind == "reprint" and p.get("refund")):
            return build_refund_receipt(
                p["refund"], self.store, p.get("lang", "en"), original=p.get("original"), **common
            )
        return build_receipt(p["order"], self.store, p.get("lang", "en"), **common)

    def _encode(self, job: tuple) -> bytes:
        kind, payload_s, created = job[1], job[2], job[3]
        p = json.loads(payload_s)
        kick = bool(p.get("kick")) and (self._clock() - created) <= self.kick_window
        if kind == "drawer":
            from hw.encode import drawer_kick_bytes

            return drawer_kick_bytes(self.printer.options.drawer_pin) if kick else b""
        return encode_receipt(self._receipt(kind, p), self.printer.options, kick=kick)

    def _set_state(self, **changes: Any) -> None:
        with self._state_lock:
            old = self._state
            new = QueueState(**{**asdict(old), **changes, "changed_at": self._clock()})
            same = {k: v for k, v in asdict(new).items() if k != "changed_at"} == {
                k: v for k, v in asdict(old).items() if k != "changed_at"
            }
            if same:
                return
            self._state = new
        if self.on_change is not None:
            try:
                self.on_change(new)
            except Exception:  # the till's callback must not kill the printer thread
                log.exception("print queue on_change callback failed")

    def _refresh_counts(self) -> None:
        with self._dblock:
            pending, failed = self._db.execute(
                "SELECT COALESCE(SUM(state='pending'),0), COALESCE(SUM(state='failed'),0) FROM jobs"
            ).fetchone()
        self._set_state(pending=int(pending), failed=int(failed))

    def _next_job(self) -> tuple | None:
        with self._dblock:
            return self._db.execute(
                "SELECT id, kind, payload, created, attempts, next_at, number FROM jobs "
                "WHERE state='pending' ORDER BY id LIMIT 1"
            ).fetchone()

    def _delay(self, attempts: int) -> float:
        base, cap = self.backoff
        d = min(cap, base * (2 ** max(0, attempts - 1)))
        return d * random.uniform(0.8, 1.0)

    def _apply_status(self, st: Status) -> None:
        self._set_state(printer=st.state, detail=st.detail)

    def _run(self) -> None:
        last_probe = 0.0
        while not self._stop.is_set():
            try:
                job = self._next_job()
                now = self._clock()
                if job is None:
                    self._set_state(next_retry_at=None)
                    if now - last_probe >= self.idle_probe_every:
                        self._apply_status(self.printer.probe())
                        last_probe = self._clock()
                    self._wake.wait(self.idle_probe_every)
                    self._wake.clear()
                    continue
                job_id, kind, payload, created, attempts, next_at, number = job
                if next_at > now:
                    # waiting out a backoff: keep an eye on the printer and go as soon as it is back
                    self._set_state(next_retry_at=next_at)
                    woke = self._wake.wait(min(self.probe_every, next_at - now))
                    self._wake.clear()
                    if woke or self._stop.is_set():
                        continue
                    st = self.printer.probe()
                    self._apply_status(st)
                    last_probe = self._clock()
                    if st.state in (OK, PAPER_LOW):  # it answered: it is back
                        with self._dblock:
                            self._db.execute(
                                "UPDATE jobs SET next_at=? WHERE id=?", (self._clock(), job_id)
                            )
                    continue
                self._print_one(job_id, kind, payload, created, attempts, number)
            except Exception:  # never let the printing thread die
                log.exception("print queue loop error")
                self._stop.wait(1.0)

    def _print_one(
        self, job_id: int, kind: str, payload: str, created: float, attempts: int, number: str
    ) -> None:
        try:
            data = self._encode((job_id, kind, payload, created))
        except Exception as exc:  # a receipt we cannot build: keep it, show it, do not spin
            log.exception("receipt %s could not be rendered", job_id)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET state='failed', attempts=attempts+1, last_error=? WHERE id=?",
                    (f"render: {exc}", job_id),
                )
            self._refresh_counts()
            self._set_state(last_error=f"render: {exc}")
            return
        self._set_state(printing=True)
        try:
            st = self.printer.print_bytes(data) if data else self.printer.probe()
        except PrinterError as exc:
            delay = self._delay(attempts + 1)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET attempts=attempts+1, next_at=?, last_error=? WHERE id=?",
                    (self._clock() + delay, exc.message, job_id),
                )
            state = exc.code.split(".", 1)[1] if exc.code.startswith("printer.") else OFFLINE
            self._set_state(
                printing=False,
                printer=state,
                detail=exc.message,
                last_error=exc.message,
                next_retry_at=self._clock() + delay,
            )
            return
        except Exception as exc:  # an unexpected transport error: treat as offline, keep the job
            delay = self._delay(attempts + 1)
            with self._dblock:
                self._db.execute(
                    "UPDATE jobs SET attempts=attempts+1, next_at=?, last_error=? WHERE id=?",
                    (self._clock() + delay, repr(exc), job_id),
                )
            self._set_state(printing=False, printer=OFFLINE, detail=repr(exc), last_error=repr(exc))
            return
        with self._dblock:
            self._db.execute(
                "UPDATE jobs SET state='done', attempts=attempts+1, printed=?, "
                "last_error='' WHERE id=?",
                (self._clock(), job_id),
            )
            self._db.execute(
                "DELETE FROM jobs WHERE state IN ('done','cancelled') AND id <= "
                "(SELECT id FROM jobs WHERE state IN ('done','cancelled') ORDER BY id DESC "
                "LIMIT 1 OFFSET ?)",
                (self.keep_done,),
            )
        self._refresh_counts()
        self._set_state(
            printing=False,
            printer=OK if st.state == UNKNOWN else st.state,
            detail=st.detail,
            last_error="",
            last_printed=number,
            next_retry_at=None,
        )
