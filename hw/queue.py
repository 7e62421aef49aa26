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
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from domain.numbering import short_id
from hw.printer import Printer, make_printer
from hw.queue_state import _SCHEMA, JobInfo, QueueState
from hw.queue_worker import QueueWorker
from hw.receipt import Receipt

__all__ = ["PrintQueue", "QueueState", "JobInfo"]


class PrintQueue(QueueWorker):
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
            "when_us": self._when(when_us, order),
            "till": till,
            "staff": staff,
            "kick": bool(kick),
        }
        key = key or f"sale:{order.get('order_id') or order.get('number') or uuid.uuid4()}"
        number = order.get("number") or short_id(str(order.get("order_id", "")))
        return self._insert(key, "sale", str(number), payload)

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
            "when_us": self._when(when_us, refund),
            "till": till,
            "staff": staff,
            "kick": bool(kick),
        }
        key = f"refund:{refund.get('refund_id') or uuid.uuid4()}"
        number = refund.get("number") or short_id(str(refund.get("refund_id", "")))
        return self._insert(key, "refund", str(number), payload)

    def _when(self, when_us: int | None, body: Mapping[str, Any]) -> int:
        """The sale's time: given, or the commit's (``ts`` in what the store answered), or now
        (a receipt submitted as the sale completes)."""
        return int(when_us or body.get("ts") or self._clock() * 1_000_000)

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
