"""The ledger: the only writer of the journal, and the place where invariants are checked.

``Ledger`` is a plain class (unit-tested without Ray); ``actors.remote`` makes it an actor that
gathers concurrent submissions into one transaction (group commit). Every submission is a
``Request``; the answer is an ``Ack`` once the event is durable, or the ``KassaError`` that refused
it.
``LEDGER_METHODS`` says how both cross the store's internal sockets (``actors.wire``): as data, the
body tagged with its kind and decoded as that kind's type, never unpickled.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from actors.journal import Journal, Pending, read_report, summary
from actors.ledger_state import START_TAIL, LedgerState, check_journal
from actors.snapshots import KEEP_ORDERS, apply_event
from actors.wire import Method
from domain.book import BookRules
from domain.commands import CountStock, FreezeOrder, RefundOrder, UnfreezeOrder
from domain.errors import Conflict, InvalidInput, KassaError, Unavailable
from domain.events import KINDS, Envelope, encode_body, kind_of, version_of
from domain.exchange import ExchangeOrder
from domain.handlers_day import OpenDay
from domain.handlers_staff import (
    ChangePermissions,
    ChangeStaffPin,
    CreateStaff,
    LockStaff,
    TopUpWallet,
    UpdateStaff,
)
from domain.ledger_handlers import LEDGER_HANDLERS
from domain.ports import Clock, SystemClock
from domain.stock import SetLevel
from domain.stock_docs import ApproveCount

__all__ = ["Ledger", "Request", "Ack", "command_hash", "agg_of", "LEDGER_METHODS", "COMMANDS"]

log = logging.getLogger(__name__)


def command_hash(op: str, args: Any) -> bytes:
    """Fingerprint of what the client asked for: the same id with another fingerprint is refused."""
    return hashlib.sha256(op.encode() + b"\0" + msgspec.json.encode(args, order="sorted")).digest()


def agg_of(body: Any) -> str:
    for attr in ("basket", "order_id", "member", "sku"):
        value = getattr(body, attr, None)
        if isinstance(value, str):
            return value
    return str(getattr(body, "agg", "") or "")


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    cmd: bytes
    body: Any  # an event body, or a ledger command (domain.commands)
    staff: str = ""
    till: str = ""
    ip: str = ""

    def __reduce__(self) -> tuple:  # (Ray's calls) pickle's dataclass path is slow; one tuple
        return Request, (self.id, self.cmd, self.body, self.staff, self.till, self.ip)


@dataclass(frozen=True, slots=True)
class Ack:
    seq: int
    id: str
    ts: int
    kind: str
    body: Any
    duplicate: bool = False

    def __reduce__(self) -> tuple:
        return Ack, (self.seq, self.id, self.ts, self.kind, self.body, self.duplicate)

    @classmethod
    def of(cls, env: Envelope, duplicate: bool = False) -> Ack:
        return cls(env.seq, env.id, env.ts, env.kind, env.decoded(), duplicate)


# ---------------------------------------------------------------- on the internal sockets

# commands decided in the ledger (domain.commands), named like event kinds for the wire
COMMANDS: dict[str, type] = {
    "command.refund": RefundOrder,
    "command.freeze": FreezeOrder,
    "command.unfreeze": UnfreezeOrder,
    "command.stock_count": CountStock,
    "command.count_approve": ApproveCount,
    "command.stock_set_level": SetLevel,
    "command.exchange": ExchangeOrder,
    # decided against the book (domain.handlers_staff / handlers_day): an actor in another
    # process (the wallet actor's top-up) sends them over the ledger's socket
    "command.topup": TopUpWallet,
    "command.create_staff": CreateStaff,
    "command.update_staff": UpdateStaff,
    "command.change_pin": ChangeStaffPin,
    "command.lock_staff": LockStaff,
    "command.change_permissions": ChangePermissions,
    "command.open_day": OpenDay,
}
_COMMAND_KIND = {cls: kind for kind, cls in COMMANDS.items()}


class _RequestWire(msgspec.Struct, array_like=True):
    id: str
    cmd: bytes
    kind: str
    body: msgspec.Raw  # decoded as ``kind``'s type
    staff: str
    till: str
    ip: str


class _AckWire(msgspec.Struct, array_like=True):
    seq: int
    id: str
    ts: int
    kind: str
    body: msgspec.Raw
    duplicate: bool


_body_decoders: dict[str, msgspec.msgpack.Decoder] = {}


def _load_body(kind: str, raw: msgspec.Raw, known_only: bool) -> Any:
    """A body as its kind's type (events and ledger commands); a kind not registered in this
    process is refused (``known_only``) or, in an answer, left as plain data like decode_body."""
    dec = _body_decoders.get(kind)
    if dec is None:
        cls = KINDS[kind][0] if kind in KINDS else COMMANDS.get(kind)
        if cls is None:
            if known_only:
                raise InvalidInput("wire.unknown_kind", f"no event or command {kind!r}")
            return msgspec.msgpack.decode(raw)
        dec = _body_decoders[kind] = msgspec.msgpack.Decoder(cls)
    try:
        return dec.decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidInput("event.bad_body", f"{kind}: {exc}") from exc


def _dump_request(r: Request) -> tuple:
    try:
        kind = kind_of(r.body)
    except KeyError:
        kind = _COMMAND_KIND.get(type(r.body), "")
        if not kind:
            raise TypeError(
                f"{type(r.body).__name__} is neither an event nor a ledger command"
            ) from None
    return (r.id, r.cmd, kind, r.body, r.staff, r.till, r.ip)


def _load_request(w: _RequestWire) -> Request:
    return Request(w.id, w.cmd, _load_body(w.kind, w.body, True), w.staff, w.till, w.ip)


def _dump_ack(a: Ack | None) -> tuple | None:
    return None if a is None else (a.seq, a.id, a.ts, a.kind, a.body, a.duplicate)


def _load_ack(w: _AckWire | None) -> Ack | None:
    if w is None:
        return None
    return Ack(w.seq, w.id, w.ts, w.kind, _load_body(w.kind, w.body, False), w.duplicate)


LEDGER_METHODS = {
    "submit": Method(_RequestWire, _AckWire, _dump_request, _load_request, _dump_ack, _load_ack),
    "lookup": Method(tuple[str, bytes], _AckWire | None, None, None, _dump_ack, _load_ack),
}


def _check_id(cid: object) -> str:
    if not isinstance(cid, str) or not 8 <= len(cid) <= 64 or not cid.isprintable():
        raise InvalidInput("command.bad_id", "a command id is 8–64 printable characters (a UUID)")
    return cid


class Ledger(LedgerState):
    def __init__(
        self,
        path: Path | str,
        clock: Clock | None = None,
        check: bool = False,
        rules: BookRules | None = None,
        snapshots: bool | None = None,
        keep_orders: int = KEEP_ORDERS,
    ) -> None:
        """``rules``: what the book enforces beyond its invariants (the store's ledger actor
        passes the store's limits and ``require_open_day=True``). The book comes from the newest
        valid snapshot (``actors.snapshots``) and the journal's tail after it; ``snapshots``
        (default: ``check``, the store's ledger) makes new ones as the journal grows, in a
        process of their own; ``keep_orders``: the newest orders kept in memory."""
        self.clock = clock or SystemClock()
        self.rules = rules or BookRules()
        self.data = Path(path).parent
        self.auto_snapshots = check if snapshots is None else snapshots
        self.keep_orders = keep_orders
        existed = Path(path).exists()
        self.journal = Journal(path)
        self.started = self._load()
        self.full_check = None
        if check and existed:  # the store's ledger: look at the journal before selling
            snap = self.started["snapshot_seq"]
            tail = max(START_TAIL, self.seq - snap) if snap else START_TAIL  # all it replayed
            self.full_check = check_journal(Path(path), self.clock.now_us(), tail)
        self._child: subprocess.Popen | None = None
        # the replayed tail counts toward the next snapshot: a server restarted often (crashes)
        # would otherwise replay more at every start, never reaching EVERY_EVENTS of its own
        self._since, self._snap_at = self.started["replayed"], time.monotonic()

    def _apply(self, body: Any, staff: str, till: str, ts: int, seq: int) -> None:
        apply_event(self.book, self.flags, body, staff, till, ts, seq)

    @property
    def seq(self) -> int:
        return self.journal.seq

    def submit(self, req: Request) -> Ack:
        out = self.submit_batch([req])[0]
        if isinstance(out, KassaError):
            raise out
        return out

    def submit_batch(self, reqs: list[Request]) -> list[Ack | KassaError]:
        """Check, then commit in one transaction everything that passes; answer each request."""
        results: list[Ack | KassaError | None] = [None] * len(reqs)
        try:
            ids = [_check_id(r.id) for r in reqs]
        except KassaError:
            ids = [r.id for r in reqs if isinstance(r.id, str)]
        known = self.journal.find(ids)
        in_batch: dict[str, tuple[int, bytes]] = {}
        pending: list[Pending] = []
        bodies: list[Any] = []
        slots: list[int] = []
        seq = self.journal.seq
        dirty = False
        for i, r in enumerate(reqs):
            try:
                _check_id(r.id)
                if r.id in known:
                    env, cmd = known[r.id]
                    if cmd != r.cmd:
                        raise Conflict(
                            "command.id_reused", "this command id was used for a different command"
                        )
                    results[i] = Ack.of(env, duplicate=True)
                    continue
                if r.id in in_batch:
                    j, cmd = in_batch[r.id]
                    if cmd != r.cmd:
                        raise Conflict(
                            "command.id_reused", "this command id was used for a different command"
                        )
                    results[i] = ("same", j)  # type: ignore[call-overload]
                    continue
                body = self._decide(r.body)
                ts = self.clock.now_us()  # before the check: a coupon is valid as of the commit
                body = self.book.check(body, r.till, ts)
                kind = kind_of(body)
                raw = encode_body(body)
                # apply now so that later requests in this batch see this one (commit follows)
                try:
                    self._apply(body, r.staff, r.till, ts, seq + 1)
                except Exception:
                    dirty = True  # the book may be half-changed: rebuild it from the journal
                    raise
                seq += 1
                pending.append(
                    Pending(
                        r.id,
                        r.cmd,
                        ts,
                        kind,
                        version_of(kind),
                        r.staff,
                        r.till,
                        r.ip,
                        agg_of(body),
                        raw,
                    )
                )
                in_batch[r.id] = (i, r.cmd)
                slots.append(i)
                bodies.append(body)
            except KassaError as exc:
                results[i] = exc
            except Exception as exc:  # a malformed request is refused alone, never the batch
                log.exception("refused a malformed request %r", r.id)
                results[i] = InvalidInput("command.bad_body", f"cannot process this command: {exc}")
        if pending:
            try:
                envs = self.journal.append(pending)
            except Exception as exc:  # disk full, I/O error: nothing of this batch is committed
                log.exception("journal append failed")
                self._rebuild()
                err = Unavailable("store.journal_failed", f"the journal could not commit: {exc}")
                for i in slots:
                    results[i] = err
            else:
                for i, env, body in zip(slots, envs, bodies, strict=True):
                    results[i] = Ack(env.seq, env.id, env.ts, env.kind, body)
                    self.last_ts = max(self.last_ts, env.ts)
                if dirty:
                    self._rebuild()
                self._tick(len(envs))
        elif dirty:
            self._rebuild()
        for i, res in enumerate(results):
            if isinstance(res, tuple):
                first = results[res[1]]
                results[i] = (
                    Ack(first.seq, first.id, first.ts, first.kind, first.body, True)
                    if isinstance(first, Ack)
                    else first
                )
        return results  # type: ignore[return-value]

    def _decide(self, body: Any) -> Any:
        """A ledger command decided by its handler against the book; an event as it is."""
        handler = LEDGER_HANDLERS.get(type(body))
        if handler is not None:
            return handler(body, self.book)
        decide = getattr(body, "decide", None)  # domain.handlers_staff / handlers_day commands
        return body if decide is None else decide(self.book)

    def _rebuild(self) -> None:
        self.archive.close()
        self.journal.close()
        self.journal = Journal(self.journal.path)
        self.started = self._load()

    def lookup(self, cid: str, cmd: bytes) -> Ack | None:
        """The first answer to command ``cid`` if it was committed (a retry), else None."""
        found = self.journal.find([cid]).get(cid)
        if found is None:
            return None
        env, first_cmd = found
        if first_cmd != cmd:
            raise Conflict("command.id_reused", "this command id was used for a different command")
        return Ack.of(env, duplicate=True)

    # ------------------------------------------------------------ reads
    def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]:
        return self.journal.read(after, limit)

    def open_basket_events(self, till: str) -> list[Envelope]:
        """Events of the baskets still open (or parked) on ``till``, to rebuild it after a crash."""
        ids = [b for b, t in self.book.open_baskets.items() if t == till]
        return self.journal.by_agg(ids) if ids else []

    def till_state(self, till: str) -> tuple[int, list[Envelope]]:
        """The journal's seq and the events of ``till``'s open baskets as of that seq."""
        return self.seq, self.open_basket_events(till)

    def order(self, order_id: str) -> dict:
        out = self.book.order(order_id).to_dict()
        out["flags"] = self.flags.get(order_id, [])
        return out

    def balance(self, member: str) -> int:
        return self.book.balance(member)

    def payments(self, keys: list[str] | None = None) -> list[dict]:
        """QR / card tenders by key (``domain.tender_flow``); None: money to give back."""
        t = self.book.tenders
        if keys is None:
            return t.to_refund(self.book.closed_baskets)
        return [t.tenders[k].to_dict() for k in keys if k in t.tenders]

    def status(self) -> dict:
        if self.full_check is not None and self.full_check.poll() is not None:
            self.full_check = None  # the background check is done (and reaped)
        return {
            "seq": self.journal.seq,
            "orders": sum(self.book.numbers.orders.values()),  # every order completed
            "open_baskets": len(self.book.open_baskets),
            "members": len(self.book.members),
            "journal": summary(read_report(self.journal.path)),
            "start": self.started,  # snapshot_seq, replayed (events), seconds
            "snapshots": {
                "horizon": self.horizon,  # orders before this seq: read from the journal
                "orders_in_memory": len(self.book.orders),
                "archive_loads": self.archive.loads,
            },
        }
